"""Business registration numbers and phone numbers, checked and normalised.

- Hong Kong: the Business Registration number is 8 digits; a branch has a 3-digit suffix
  ("12345678-001"). The full certificate number ("12345678-000-07-25-A") is accepted and
  cut to that. "-000" (the main business) is the number without a suffix.
- Mainland: the Unified Social Credit Code (GB 32100-2015) is 18 characters from a
  31-character alphabet (digits and upper-case letters without I, O, Z, S, V); the last
  one is a check character computed from the other 17.
- Phone numbers become E.164 ("+85291234567") through ``phonenumbers``.

Each function returns the normalised value or raises :class:`InvalidNumber` whose message
is marked for translation and says what is wrong.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from loyalchat.domain import DomainError
from loyalchat.i18n import N_


class InvalidNumber(DomainError):
    """A registration or phone number that is not well formed; ``field`` names the input."""

    code = "invalid_number"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)
        self.field = field


_HK_BR = re.compile(r"^(\d{8})(?:-?(\d{3})(?:-\d{2}-\d{2}-[0-9A-Z])?)?$")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _compact(value: str) -> str:
    """Full-width characters folded (NFKC), upper-cased, spaces and dots dropped."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return re.sub(r"[\s.]", "", text)


def hk_business_registration(value: str) -> str:
    """ "12345678" or "12345678-001" from what a merchant typed."""
    text = _compact(value)
    if not text:
        raise InvalidNumber(N_("Enter the business registration number."), field="number")
    match = _HK_BR.match(text)
    if not match:
        raise InvalidNumber(
            N_(
                "A Hong Kong business registration number is 8 digits, "
                "with an optional 3-digit branch number (12345678-001)."
            ),
            field="number",
        )
    number, branch = match.group(1), match.group(2)
    return f"{number}-{branch}" if branch and branch != "000" else number


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def cn_unified_social_credit_code(value: str) -> str:
    """The 18-character Unified Social Credit Code, upper-case, its check character right."""
    text = _compact(value).replace("-", "")
    if not text:
        raise InvalidNumber(N_("Enter the unified social credit code."), field="number")
    if len(text) != 18:
        raise InvalidNumber(N_("A unified social credit code has 18 characters."), field="number")
    if any(c not in USCC_ALPHABET for c in text):
        raise InvalidNumber(
            N_(
                "A unified social credit code uses digits and capital letters "
                "except I, O, Z, S and V."
            ),
            field="number",
        )
    if uscc_check_character(text[:17]) != text[17]:
        raise InvalidNumber(
            N_(
                "This unified social credit code's last character does not match the "
                "others: please check it against the business licence."
            ),
            field="number",
        )
    return text


def registration_number(value: str, region: str) -> str:
    """The number for the region: "HK" (business registration) or "CN" (credit code)."""
    if region == "HK":
        return hk_business_registration(value)
    if region == "CN":
        return cn_unified_social_credit_code(value)
    raise InvalidNumber(N_("Choose Hong Kong or mainland China."), field="region")


def e164(phone: str, region: str = "HK") -> str:
    """``phone`` as E.164; a number without "+" is read as one of ``region``."""
    text = unicodedata.normalize("NFKC", phone or "").strip()
    if not text:
        raise InvalidNumber(N_("Enter a phone number."), field="phone")
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        raise InvalidNumber(
            N_("This is not a phone number: use digits, with + and the country code."),
            field="phone",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber(
            N_("This phone number does not exist: check the digits and the country code."),
            field="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
