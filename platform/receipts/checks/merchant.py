"""Is this receipt from this shop? The names read against the shop's names, or its QR.

Names are compared as keys: accents dropped, full-width folded, Traditional turned
Simplified, upper case, no spaces or punctuation (``loyalchat.receipts.reading.parse.text``),
so "DEMO CAFE", "Demo Café" and "示範咖啡"/"示范咖啡" are one name; then fuzzily, for OCR's
slips. A QR code printed on the receipt that starts with the profile's QR prefix, or
that is the shop's own join link, is stronger proof than any name and passes alone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

from loyalchat.receipts.checks.base import CheckResult, ReceiptFacts, ShopProfile
from loyalchat.receipts.reading.parse.text import name_key

# Whole-name similarity (0-100) that counts as the same name: one OCR slip in eight letters.
SAME_NAME = 85.0
# A profile name found inside a longer header line ("DEMO CAFE (CAUSEWAY BAY)").
INSIDE_LINE = 92.0
# A key shorter than this is too common to be found inside a line ("CAFE", "咖啡").
MIN_INSIDE_LENGTH = 4
# How sure the parser must be of the name it read before "no match" means another shop.
# The generic parser gives a clear header line 0.55 when no name of the profile matched
# (0.45 when two lines tie, 0.4 for a fallback): a clear header is another shop's name.
CLEAR_NAME = 0.5
MIN_NAME_LENGTH = 3


def merchant_key(text: str) -> str:
    """``name_key`` without accents: "Demo Café" and "DEMO CAFE" give one key."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return name_key(plain)


def names_match(read: str, name: str) -> bool:
    """``read`` (a line off the receipt) names the shop called ``name``."""
    a, b = merchant_key(read), merchant_key(name)
    if not a or not b:
        return False
    if a == b or fuzz.ratio(a, b) >= SAME_NAME:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= MIN_INSIDE_LENGTH and fuzz.partial_ratio(shorter, longer) >= INSIDE_LINE


def _link_key(link: str) -> str:
    text = link.strip().lower()
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    return text.removeprefix("www.")


def qr_proves_shop(payloads: Iterable[str], shop: ShopProfile) -> str:
    """The payload that proves the receipt is the shop's, or ""."""
    prefix = shop.receipts.qr_prefix.strip()
    links = [key for key in (_link_key(link) for link in shop.join_links) if key]
    for payload in payloads:
        if prefix and payload.strip().startswith(prefix):
            return payload
        key = _link_key(payload)
        if any(_same_link(key, link) for link in links):
            return payload
    return ""


def _same_link(key: str, link: str) -> bool:
    """``key`` is ``link``, or ``link`` for one of its branches (``JOIN%20demo%23b1``,
    ``?join=demo#b1``) or with more parameters; never another shop's link that merely
    starts alike (``/chat/demo2`` is not ``/chat/demo``)."""
    if not key.startswith(link):
        return False
    rest = key[len(link) :]
    return not rest or rest[0] in "#&" or rest.startswith("%23")


class MerchantCheck:
    name = "merchant"
    label = "Receipt is from this shop"
    order = 10

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        if payload := qr_proves_shop(receipt.all_qr_payloads, shop):
            return CheckResult.ok(f"shop's QR code: {payload[:80]}")
        names = shop.names
        lines = receipt.merchant_lines
        for line in lines:
            for name in names:
                if names_match(line, name):
                    return CheckResult.ok(f"{line!r} ~ {name!r}")
        if not names:
            return CheckResult.warning("merchant_unread", "the shop has no names in its profile")
        read = receipt.fields.merchant_name
        if (
            read is not None
            and read.confidence >= CLEAR_NAME
            and len(merchant_key(read.value)) >= MIN_NAME_LENGTH
        ):
            return CheckResult.failure("other_shop", f"read {read.value!r}, not one of {names!r}")
        seen = ", ".join(repr(line) for line in lines[:3]) or "nothing"
        return CheckResult.warning("merchant_unread", f"read {seen}")
