"""The ranges of what the database stores, and the parameter types that keep input inside them.

Text too: a NUL cannot be stored in a PostgreSQL text column, and no control character
belongs in a name or a reason. :func:`storable_text` is the check every service applies,
so a caller that is not an HTTP request (the CLI, a chat channel) is held to it as well.

An integer past a column's range is not a server error but bad input: PostgreSQL refuses
it (``integer out of range``) and SQLite would store it silently. Every integer the API,
console or wallet takes from a URL goes through one of the annotated types here, so the
check and the OpenAPI document (``minimum``/``maximum``) come from one place. Body schemas
and services use the constants.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from litestar.params import PathParameter, QueryParameter

from loyalchat.domain import DomainError

T = TypeVar("T")

# ``Integer`` columns (PostgreSQL ``integer``, 4 bytes).
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
# ``Numeric(digits=(14, 2))`` money columns: twelve digits before the point.
NUMERIC_14_2_MAX = Decimal("999999999999.99")

# Dates a person or key types for a reward's window or a rule's days. PostgreSQL stores
# year 1 and year 9999 moments as -infinity/infinity, and moving them between time zones
# overflows; a loyalty offer is set within a shop's lifetime, so years 2000 to 2999 refuse
# nothing real and keep every shift by a time zone far inside what ``datetime`` holds.
# (Birthdays have their own rule in the members service.)
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_TEXT = "a date from the year 2000 to 2999"
# The JSON schema of a date-time or date in that range: it starts with a year 2xxx.
DATE_PATTERN = "^2[0-9]{3}-"

# How far a list may be paged: far past any real list, far below 64-bit OFFSET overflow.
MAX_OFFSET = 1_000_000_000
# Console and wallet pages are numbered from 1; page * rows per page stays below MAX_OFFSET.
MAX_PAGE_NUMBER = 1_000_000

# A row id in a path (``/rewards/{reward_id}``): a serial ``integer`` primary key.
PathId = Annotated[int, PathParameter(ge=1, le=INT32_MAX, description="A positive 32-bit row id.")]
# ``?offset=`` of the JSON API's paginated lists.
Offset = Annotated[
    int,
    QueryParameter(ge=0, le=MAX_OFFSET, description="How many items to skip (0 to 1,000,000,000)."),
]
# ``?page=`` of console and wallet lists.
PageNumber = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE_NUMBER, description="The page, from 1.")
]


def in_int32(value: int) -> bool:
    """Whether ``value`` fits an ``Integer`` column."""
    return INT32_MIN <= value <= INT32_MAX


def in_date_range(value: date) -> bool:
    """Whether ``value`` (a date, or a moment's date in its own time zone) is in range."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def stored_moment(value: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime.

    asyncpg reads PostgreSQL's ``-infinity``/``infinity`` (stored before the range above
    was enforced) as naive ``datetime.min``/``max``: they get UTC, so comparing them with
    "now" works (one is always past, the other always to come).
    """
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class BalanceOutOfRange(DomainError):
    """A change that would take a stored balance past what its column can hold."""

    code = "balance_out_of_range"
    status = 409


class InvalidCharacter(DomainError):
    """Text holding a character that cannot be stored (NUL) or has no place in it."""

    code = "invalid_character"
    status = 400


# Line breaks and tabs are text in notes and descriptions; every other control character
# (category Cc) and lone surrogates (Cs, which UTF-8 cannot encode) are refused.
_MULTILINE_OK = frozenset("\t\n\r")


def is_storable(value: str, *, multiline: bool = False) -> bool:
    """Whether ``value`` holds no control character (line breaks allowed when ``multiline``)."""
    return not any(
        unicodedata.category(char) in ("Cc", "Cs") and not (multiline and char in _MULTILINE_OK)
        for char in value
    )


def storable_text(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`InvalidCharacter` naming ``field``."""
    if not is_storable(value, multiline=multiline):
        raise InvalidCharacter(f"{field}: control characters are not allowed", field=field)
    return value
