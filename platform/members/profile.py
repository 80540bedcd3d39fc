"""Cleaning a member's profile fields, and the text member search matches against.

Pure functions, no database: the service calls them on every write so the stored
profile, the ``verified`` flag and ``search_text`` never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

from loyalchat.bounds import storable_text
from loyalchat.domain import DomainError
from loyalchat.languages import LOCALES, to_simplified, to_traditional

MAX_NAME = 200
MAX_NOTES = 4000
MAX_TAG = 32
MAX_TAGS = 20

_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_PHONE_LIKE = re.compile(r"\+?[\d\s\-().]+")

# A tenant's home region, for phone numbers typed without a country code.
_REGION_BY_CURRENCY = {"HKD": "HK", "CNY": "CN", "RMB": "CN", "MOP": "MO", "TWD": "TW"}
_REGION_BY_TIMEZONE = {
    "Asia/Hong_Kong": "HK",
    "Asia/Shanghai": "CN",
    "Asia/Chongqing": "CN",
    "Asia/Urumqi": "CN",
    "Asia/Macau": "MO",
    "Asia/Taipei": "TW",
}


def default_region(currency: str, timezone: str) -> str | None:
    """The phone region of a tenant (HK, CN, MO...), or None: then numbers need ``+``."""
    return _REGION_BY_CURRENCY.get(currency.upper()) or _REGION_BY_TIMEZONE.get(timezone)


def clean_phone(raw: str, region: str | None) -> str:
    """A phone number in E.164 ("+85291234567"), "" when blank; ``invalid_phone`` otherwise."""
    raw = unicodedata.normalize("NFKC", raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        hint = f" for region {region}" if region else "; include the country code, e.g. +852"
        raise DomainError(
            f"{raw!r} is not a valid phone number{hint}", code="invalid_phone", field="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_name(raw: str) -> str:
    name = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw or "")).strip()
    if len(name) > MAX_NAME or not name.isprintable():
        raise DomainError(
            f"a name is at most {MAX_NAME} printable characters", code="invalid_name", field="name"
        )
    return name


def clean_email(raw: str) -> str:
    """Lower-cased and checked for the shape ``someone@example.com``; "" when blank."""
    email = storable_text(unicodedata.normalize("NFKC", raw or "").strip().lower(), "email")
    if not email:
        return ""
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise DomainError(
            f"{raw!r} is not a valid email address", code="invalid_email", field="email"
        )
    return email


EARLIEST_BIRTHDAY = date(1900, 1, 1)


def clean_birthday(value: date | str | None, today: date) -> date | None:
    """A birthday as a date (ISO text accepted), from 1900 to today.

    Errors have code ``invalid_birthday``; ``extra["problem"]`` says which rule failed
    (``future``, ``too_early``), so the message can say so.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise DomainError(
                "a birthday is a date like 1990-05-31", code="invalid_birthday", field="birthday"
            ) from None
    if value > today:
        raise DomainError(
            "a birthday cannot be in the future",
            code="invalid_birthday",
            field="birthday",
            problem="future",
        )
    if value < EARLIEST_BIRTHDAY:
        raise DomainError(
            "a birthday cannot be before 1900",
            code="invalid_birthday",
            field="birthday",
            problem="too_early",
        )
    return value


def clean_notes(raw: str) -> str:
    notes = storable_text((raw or "").strip(), "notes", multiline=True)
    if len(notes) > MAX_NOTES:
        raise DomainError(
            f"notes are at most {MAX_NOTES} characters", code="invalid_notes", field="notes"
        )
    return notes


def clean_tags(values: list[str] | tuple[str, ...] | None) -> list[str]:
    """Short labels, trimmed, first spelling kept, duplicates (ignoring case) dropped."""
    tags: list[str] = []
    seen: set[str] = set()
    for value in values or ():
        tag = _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TAG or not tag.isprintable():
            raise DomainError(
                f"a tag is at most {MAX_TAG} printable characters",
                code="invalid_tags",
                field="tags",
            )
        seen.add(tag.casefold())
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise DomainError(
            f"a member has at most {MAX_TAGS} tags", code="invalid_tags", field="tags"
        )
    return tags


def clean_locale(raw: str) -> str:
    locale = (raw or "").strip()
    if locale and locale not in LOCALES:
        raise DomainError(
            "the language is one of zh-Hant, zh-Hans, en", code="invalid_locale", field="locale"
        )
    return locale


def is_verified(name: str, phone: str, email: str) -> bool:
    """A real member: a name and a way to contact them (phone or email) are on file."""
    return bool(name.strip()) and bool(phone or email)


def normalise(text: str) -> str:
    """Half-width, lower case, single spaces: the form search text and queries share."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def search_text(name: str, phone: str, email: str, member_no: str) -> str:
    """What member search matches: the name in both Chinese scripts, phone digits with and
    without the country code, the email and the member number."""
    parts: list[str] = []
    name = normalise(name)
    # Both scripts, so "陳大文" is found by "陈大文" and the other way round.
    for variant in (name, to_simplified(name), to_traditional(name)):
        if variant and variant not in parts:
            parts.append(variant)
    if phone:
        digits = phone.lstrip("+")
        parts.append(digits)
        try:
            parts.append(str(phonenumbers.parse(phone).national_number))
        except phonenumbers.NumberParseException:
            pass
    if email:
        parts.append(email.lower())
    parts.append(normalise(member_no))
    return " ".join(parts)


def phone_query(q: str) -> str | None:
    """The digits of a query that looks like a phone number ("9123 4567"), else None."""
    if not _PHONE_LIKE.fullmatch(q):
        return None
    digits = re.sub(r"\D", "", q)
    return digits if len(digits) >= 3 else None
