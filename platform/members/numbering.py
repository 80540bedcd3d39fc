"""Member numbers: one gap-free sequence per tenant, rendered with the tenant's format.

A number is taken by ONE conditional ``UPDATE member_counter SET last_seq = last_seq + 1
... RETURNING`` inside the caller's write transaction. The UPDATE holds the counter's row
lock until that transaction ends, so concurrent joins queue for it instead of clashing,
and a rolled-back join gives its number back: no gaps, no duplicates.
"""

from __future__ import annotations

import re
import string

from loyalchat import db
from loyalchat.domain import DomainError
from loyalchat.members.tables import Member, MemberCounter
from loyalchat.scoping import scoped_raw, scoped_select, scoped_update
from loyalchat.tenants import audit

DEFAULT_FORMAT = "M{seq:06d}"
MAX_LENGTH = 32  # Member.member_no and MemberCounter.number_format are Varchar(32)
# The largest number a format must still fit: a billion members is out of reach.
_LARGEST_SEQ = 999_999_999
# Only integer formatting with an optional zero-padded width ("06d", "05", "d" or nothing):
# zero padding never truncates, so distinct sequence values give distinct numbers.
_SPEC = re.compile(r"(0[1-9]\d?)?d?", re.ASCII)
_LITERAL_PUNCTUATION = set("-_.")


def validate_format(fmt: str) -> str:
    """The format, stripped, or ``DomainError(code="invalid_number_format")``.

    A format is literal text around ``{seq}`` with an optional width, e.g. ``M{seq:06d}`` or
    ``HK-{seq:05d}``. Literal text is letters, digits, ``-``, ``_`` and ``.`` only, so a
    number is safe in a URL, a QR code and a chat message; it renders in at most 32
    characters even for the billionth member.
    """
    fmt = (fmt or "").strip()
    if not fmt or len(fmt) > MAX_LENGTH or not fmt.isprintable():
        raise _invalid("a number format is 1-32 printable characters, e.g. M{seq:06d}")
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError:
        raise _invalid("unbalanced braces in the number format") from None
    fields = 0
    for literal, name, spec, conversion in parts:
        if any(not (ch.isalnum() or ch in _LITERAL_PUNCTUATION) for ch in literal):
            raise _invalid("a number format may use letters, digits, '-', '_' and '.' only")
        if name is None:
            continue
        if name != "seq" or conversion or not _SPEC.fullmatch(spec or ""):
            raise _invalid("the only placeholder is {seq}, with an optional width like {seq:06d}")
        fields += 1
    if fields == 0:
        raise _invalid("the number format must contain {seq}")
    if len(render(fmt, _LARGEST_SEQ)) > MAX_LENGTH:
        raise _invalid("numbers made with this format would be longer than 32 characters")
    return fmt


def render(fmt: str, seq: int) -> str:
    """The member number for sequence value ``seq``."""
    return fmt.format(seq=seq)


def _invalid(message: str) -> DomainError:
    return DomainError(message, code="invalid_number_format")


async def _bump() -> dict | None:
    rows = await scoped_update(
        MemberCounter, {MemberCounter.last_seq: MemberCounter.last_seq + 1}
    ).returning(MemberCounter.last_seq, MemberCounter.number_format)
    return rows[0] if rows else None


async def _ensure_counter() -> None:
    """Create the tenant's counter row; a concurrent creator winning is fine."""
    # ON CONFLICT DO NOTHING: a unique violation would spoil the caller's transaction.
    await scoped_raw(
        MemberCounter,
        "INSERT INTO member_counter (tenant, last_seq, number_format) VALUES ({tenant}, 0, {}) "
        "ON CONFLICT DO NOTHING",
        DEFAULT_FORMAT,
    )


async def allocate() -> tuple[int, str]:
    """Take the tenant's next ``(seq, member_no)``; call inside ``db.write_transaction()``."""
    row = await _bump()
    if row is None:
        await _ensure_counter()
        row = await _bump()
        assert row is not None
    while True:
        number = render(row["number_format"], row["last_seq"])
        # A format changed since may render a number an older format already gave out;
        # the counter's row lock makes this check race-free. Skipping is the only gap.
        taken = await scoped_select(Member, Member.id).where(Member.member_no == number).first()
        if taken is None:
            return row["last_seq"], number
        row = await _bump()
        assert row is not None


async def number_format() -> str:
    """The current tenant's member number format."""
    row = await scoped_select(MemberCounter, MemberCounter.number_format).first()
    return row["number_format"] if row else DEFAULT_FORMAT


async def set_number_format(fmt: str) -> str:
    """Validate and store the current tenant's number format; new members get it.

    Existing members keep their numbers. Raises ``DomainError(code="invalid_number_format")``.
    """
    fmt = validate_format(fmt)
    async with db.write_transaction():
        before = await number_format()
        changed = await scoped_update(MemberCounter, {MemberCounter.number_format: fmt}).returning(
            MemberCounter.id
        )
        if not changed:
            await _ensure_counter()
            await scoped_update(MemberCounter, {MemberCounter.number_format: fmt})
        if before != fmt:
            await audit.record(
                "member.number_format",
                "member_counter",
                before={"number_format": before},
                after={"number_format": fmt},
            )
    return fmt
