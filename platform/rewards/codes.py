"""Grant codes: short, random, easy to read aloud and to type at a till.

A code is 8 characters from an alphabet without the look-alikes 0/O and 1/I (so a cashier
cannot mistype one for another): 32**8, about 10**12 codes per tenant. Uniqueness per
tenant is the database's job (``reward_grant_code_uniq``); the service retries on the rare
collision. Cashiers type codes in any case, with spaces or dashes: :func:`normalize`
folds what they typed back to the stored form.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
# What the QR code on a coupon encodes; the console's scanner strips the prefix.
QR_PREFIX = "LCG:"

_SEPARATORS = re.compile(r"[\s\-_.]+")


def new_code(length: int = LENGTH) -> str:
    """A fresh random code from :data:`ALPHABET` (``secrets``, not ``random``)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(typed: str) -> str:
    """The stored form of a code as typed or scanned: upper case, no spaces or dashes.

    Full-width characters (a Chinese input method) fold to ASCII; a scanned ``LCG:``
    payload gives its code.
    """
    text = unicodedata.normalize("NFKC", typed or "").strip()
    if text.upper().startswith(QR_PREFIX):
        text = text[len(QR_PREFIX) :]
    return _SEPARATORS.sub("", text).upper()


def qr_payload(code: str) -> str:
    """What a grant's QR code encodes: ``LCG:<code>``."""
    return f"{QR_PREFIX}{normalize(code)}"


def display(code: str) -> str:
    """A code split in two halves for reading aloud: ``ABCD-EFGH`` (typing it back works)."""
    if len(code) == LENGTH:
        return f"{code[:4]}-{code[4:]}"
    return code
