"""Stored value (會員卡金額): money held for a member, in the tenant currency, never negative.

The only writer of ``StoredValueEntry`` and ``Member.stored_value``, through the append
path it shares with the points ledger (:func:`loyalchat.ledger.append.append_entry`): one
conditional UPDATE of the cached balance, an appended entry under an idempotency key
unique per tenant; replays return the first entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalchat import db
from loyalchat.bounds import NUMERIC_14_2_MAX, BalanceOutOfRange, storable_text
from loyalchat.domain import Conflict, DomainError, NotFound, Page
from loyalchat.ledger.append import Book, append_entry
from loyalchat.ledger.once import once
from loyalchat.ledger.tables import StoredValueEntry, ValueKind
from loyalchat.members.tables import Member
from loyalchat.scoping import scoped_count, scoped_select

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000.00")
MAX_REFERENCE = 100  # the API's limit; a longer one (a service caller's) is hashed in the key


class InsufficientValue(DomainError):
    code = "insufficient_stored_value"
    status = 409


@dataclass(frozen=True, slots=True)
class ValueEntryOut:
    id: int
    member_id: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    idempotency_key: str
    actor: str
    actor_label: str
    reason: str
    reference: str
    created_at: datetime
    replayed: bool = False


def money(value: Any) -> Decimal:
    """A positive amount with at most two decimal places, from Decimal, int or str (never float)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    if not str(value).isascii():  # Decimal() reads full-width "１００" too: not an amount here
        raise DomainError(f"not an amount: {value!r}", code="invalid_amount")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(f"not an amount: {value!r}", code="invalid_amount") from exc
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise DomainError(
            f"the amount must be above 0 and at most {MAX_AMOUNT:,}", code="invalid_amount"
        )
    if amount != amount.quantize(CENT):
        raise DomainError("at most two decimal places", code="invalid_amount")
    return amount.quantize(CENT)


def _out(row: dict[str, Any], replayed: bool = False) -> ValueEntryOut:
    return ValueEntryOut(
        id=row["id"],
        member_id=row["member"],
        kind=row["kind"],
        amount=Decimal(str(row["amount"])).quantize(CENT),
        balance_after=Decimal(str(row["balance_after"])).quantize(CENT),
        idempotency_key=row["idempotency_key"],
        actor=row["actor"],
        actor_label=row["actor_label"],
        reason=row["reason"],
        reference=row["reference"],
        created_at=row["created_at"],
        replayed=replayed,
    )


async def entry_by_key(key: str) -> ValueEntryOut | None:
    row = (
        await scoped_select(StoredValueEntry).where(StoredValueEntry.idempotency_key == key).first()
    )
    return _out(row, replayed=True) if row else None


def reference_key(kind: ValueKind, reference: str) -> str:
    """``spend:ref:<reference>`` / ``topup:ref:<reference>``: the key that makes a payment
    with a reference happen once per (tenant, kind, reference), whoever retries it.

    A reference past :data:`MAX_REFERENCE` is replaced by its sha256 so the key fits
    the 200-character column.
    """
    if len(reference) > MAX_REFERENCE:
        reference = "sha256-" + hashlib.sha256(reference.encode()).hexdigest()
    return f"{kind.value}:ref:{reference}"


def _key_for(kind: ValueKind, key: str | None, reference: str) -> str:
    # The reference, when there is one, decides "once"; a caller's key (an API
    # Idempotency-Key, a form token) only counts without one.
    if len(reference) > 200:  # StoredValueEntry.reference's column
        raise DomainError("a reference is at most 200 characters", code="invalid_reference")
    if reference:
        return reference_key(kind, reference)
    if not key:
        raise DomainError("an idempotency key or a reference is required", code="invalid_key")
    return key


async def _write(
    member_id: int,
    amount: Decimal,
    kind: ValueKind,
    key: str,
    reason: str,
    reference: str,
    *,
    same_amount: bool = False,
) -> ValueEntryOut:
    storable_text(reason, "reason", multiline=True)
    storable_text(reference, "reference")

    async def lookup(used: str) -> ValueEntryOut | None:
        existing = await entry_by_key(used)
        if same_amount and existing is not None and existing.amount != amount:
            # Replaying would tell the till a different payment went through.
            raise Conflict(
                f"reference {reference!r} was already used for {abs(existing.amount):.2f}",
                code="reference_reused",
                amount=f"{abs(existing.amount):.2f}",
                entry_id=existing.id,
            )
        return existing

    async def write() -> ValueEntryOut:
        values = {"kind": kind.value, "idempotency_key": key, "reason": reason}
        row = await append_entry(
            STORED_VALUE, member_id, amount, {**values, "reference": reference}
        )
        return _out(row)

    return await once(key, member_id, lookup, write)


def _too_much(current: Decimal, amount: Decimal) -> BalanceOutOfRange:
    return BalanceOutOfRange(
        f"a stored value of {current:,.2f} cannot grow by {amount:,.2f}",
        balance=str(current.quantize(CENT)),
        most=str(NUMERIC_14_2_MAX),
    )


def _short(current: Decimal, amount: Decimal) -> InsufficientValue:
    return InsufficientValue(
        f"not enough stored value: {current:,.2f} available, {-amount:,.2f} needed",
        balance=str(current.quantize(CENT)),
    )


def _refused(current: Decimal, amount: Decimal) -> DomainError:
    return _too_much(current, amount) if amount > 0 else _short(current, amount)


STORED_VALUE = Book(StoredValueEntry, "stored_value", "amount", NUMERIC_14_2_MAX, _refused)


async def top_up(
    member_id: int, amount: Any, *, key: str | None = None, reason: str = "", reference: str = ""
) -> ValueEntryOut:
    """Staff took money at the till and add it to the member's stored value.

    With a ``reference`` it is applied once per reference (:func:`reference_key`, ``key``
    ignored): a repeat returns the first entry, another amount is 409 ``reference_reused``.
    """
    reference = reference.strip()
    key = _key_for(ValueKind.topup, key, reference)
    return await _write(
        member_id, money(amount), ValueKind.topup, key, reason, reference, same_amount=True
    )


async def spend(
    member_id: int, amount: Any, *, key: str | None = None, reason: str = "", reference: str = ""
) -> ValueEntryOut:
    """The member pays with stored value; :class:`InsufficientValue` when it is short.

    With a ``reference``, once per reference like :func:`top_up`.
    """
    reference = reference.strip()
    key = _key_for(ValueKind.spend, key, reference)
    return await _write(
        member_id, -money(amount), ValueKind.spend, key, reason, reference, same_amount=True
    )


async def credit(
    member_id: int,
    amount: Any,
    *,
    key: str,
    kind: ValueKind = ValueKind.grant,
    reference: str = "",
    reason: str = "",
) -> ValueEntryOut:
    """Add stored value for a reason other than a top-up (a reward, a reversal)."""
    return await _write(member_id, money(amount), kind, key, reason, reference)


async def transfer_all(from_id: int, to_id: int, *, key_prefix: str, reason: str = "") -> Decimal:
    """Move the whole stored value of ``from_id`` to ``to_id`` (member merge)."""
    async with db.write_transaction():
        row = await scoped_select(Member, Member.stored_value).where(Member.id == from_id).first()
        if row is None:
            raise NotFound("member not found")
        amount = Decimal(str(row["stored_value"]))
        if amount <= 0:
            return Decimal("0.00")
        await _write(
            from_id, -amount, ValueKind.reverse, f"{key_prefix}:out", reason, f"member:{to_id}"
        )
        await _write(
            to_id, amount, ValueKind.reverse, f"{key_prefix}:in", reason, f"member:{from_id}"
        )
        return amount.quantize(CENT)


async def history(member_id: int, limit: int = 50, offset: int = 0) -> Page[ValueEntryOut]:
    where = StoredValueEntry.member == member_id
    rows = (
        await scoped_select(StoredValueEntry)
        .where(where)
        .order_by(StoredValueEntry.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await scoped_count(StoredValueEntry).where(where)
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)
