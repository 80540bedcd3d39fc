"""The points ledger's writers: the only writer of ``LedgerEntry``, ``PointLot``, ``LotDraw``,
``StoredValueEntry`` and the member's cached ``points`` and ``stored_value``.

Every change is one transaction that (1) moves the member's cached balance with a single
conditional UPDATE, which also takes the member's row lock, and appends the entry under
its idempotency key, unique per tenant (:func:`loyalchat.ledger.append.append_entry`,
shared by points and stored value: one statement on PostgreSQL), then (2) creates a lot (credits) or draws from the
oldest-expiring lots first (debits, :mod:`loyalchat.ledger.lots`). A second call with a
key already used changes nothing and returns the first entry, marked ``replayed``.
Read-only figures (history, audits, totals) are in :mod:`loyalchat.ledger.figures`;
stored value's rules in :mod:`loyalchat.ledger.stored_value`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from loyalchat import db
from loyalchat.bounds import INT32_MAX, BalanceOutOfRange, storable_text
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.ledger import lots, stored_value
from loyalchat.ledger.append import Book, append_entry
from loyalchat.ledger.once import once
from loyalchat.ledger.tables import EntryKind, LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.scoping import scoped_count, scoped_select, scoped_update

MAX_POINTS = 100_000_000  # per entry: far above any real purchase, far below int overflow


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    status = 409


@dataclass(frozen=True, slots=True)
class EntryOut:
    id: int
    member_id: int
    kind: str
    points: int
    balance_after: int
    idempotency_key: str
    actor: str
    actor_label: str
    reason: str
    reference: str
    created_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    reverses: int | None = None
    replayed: bool = False


def entry_out(row: dict[str, Any], replayed: bool = False) -> EntryOut:
    details = row.get("details") or {}
    if isinstance(details, str):
        details = json.loads(details)
    return EntryOut(
        id=row["id"],
        member_id=row["member"],
        kind=row["kind"],
        points=row["points"],
        balance_after=row["balance_after"],
        idempotency_key=row["idempotency_key"],
        actor=row["actor"],
        actor_label=row["actor_label"],
        reason=row["reason"],
        reference=row["reference"],
        created_at=row["created_at"],
        details=details,
        reverses=row.get("reverses"),
        replayed=replayed,
    )


def _check_points(points: int) -> None:
    if not isinstance(points, int) or isinstance(points, bool):
        raise TypeError("points must be an int")
    if points <= 0 or points > MAX_POINTS:
        raise DomainError(
            f"points must be between 1 and {MAX_POINTS:,}", code="invalid_points", points=points
        )


async def entry_by_key(key: str) -> EntryOut | None:
    """The entry written under ``key`` (``replayed``), if any: a writer's replay lookup."""
    row = await scoped_select(LedgerEntry).where(LedgerEntry.idempotency_key == key).first()
    return entry_out(row, replayed=True) if row else None


async def get_entry(entry_id: int) -> EntryOut:
    row = await scoped_select(LedgerEntry).where(LedgerEntry.id == entry_id).first()
    if row is None:
        raise NotFound("ledger entry not found")
    return entry_out(row)


async def lock_member(member_id: int) -> dict[str, Any]:
    """Take the member's row lock for the rest of the transaction; returns its balances.

    A no-op UPDATE rather than SELECT ... FOR UPDATE, so the same code locks on SQLite
    (where the immediate transaction already serialises writers) and PostgreSQL.
    """
    rows = (
        await scoped_update(Member, {Member.points: Member.points})
        .where(Member.id == member_id)
        .returning(Member.id, Member.points, Member.stored_value, Member.status)
    )
    if not rows:
        raise NotFound("member not found")
    return rows[0]


def _points_refused(balance: int, delta: int) -> DomainError:
    if delta > 0:
        return BalanceOutOfRange(
            f"a balance of {balance:,} points cannot grow by {delta:,}",
            balance=balance,
            most=INT32_MAX,
        )
    return InsufficientPoints(
        f"not enough points: {balance:,} available, {-delta:,} needed",
        balance=balance,
        needed=-delta,
    )


POINTS = Book(LedgerEntry, "points", "points", INT32_MAX, _points_refused)


def check_balance(balance: int, points: int) -> None:
    """:class:`InsufficientPoints` (as a debit says it) unless ``balance`` covers ``points``:
    a caller's early refusal; the debit itself still decides under the member's lock."""
    if balance < points:
        raise _points_refused(balance, -points)


async def _append(
    member_id: int,
    kind: EntryKind,
    points: int,
    key: str,
    reason: str,
    reference: str,
    details: dict[str, Any] | None = None,
    reverses: int | None = None,
    then: tuple[str, tuple[Any, ...]] | None = None,
    also: tuple[str, tuple[Any, ...]] | None = None,
) -> dict[str, Any]:
    storable_text(reason, "reason", multiline=True)
    storable_text(reference, "reference")
    values: dict[str, Any] = {
        "kind": kind.value,
        "idempotency_key": key,
        "reason": reason,
        "reference": reference,
        "details": details or {},
    }
    if reverses is not None:
        values["reverses"] = reverses
    return await append_entry(POINTS, member_id, points, values, then=then, also=also)


# -- the writers -----------------------------------------------------------------------------


async def earn(
    member_id: int,
    points: int,
    *,
    key: str,
    reason: str = "",
    reference: str = "",
    details: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    kind: EntryKind = EntryKind.earn,
) -> EntryOut:
    """Credit ``points`` as a new lot expiring at ``expires_at`` (None: never)."""
    _check_points(points)

    async def write() -> EntryOut:
        entry = await _append(member_id, kind, points, key, reason, reference, details)
        await lots.new_lot(member_id, entry["id"], points, expires_at)
        return entry_out(entry)

    return await once(key, member_id, entry_by_key, write)


async def debit(
    member_id: int,
    points: int,
    *,
    kind: EntryKind = EntryKind.redeem,
    key: str,
    reason: str = "",
    reference: str = "",
    details: dict[str, Any] | None = None,
    key_is_new: bool = False,
    also: tuple[str, tuple[Any, ...]] | None = None,
) -> EntryOut:
    """Take ``points``, oldest lots first; :class:`InsufficientPoints` when the balance is short.

    ``key_is_new``: the caller made ``key`` from a row it has just inserted in this
    transaction (``redeem:<grant id>``), so no entry can hold it yet and the replay lookup
    is skipped; the unique index still refuses a clash. ``also`` (PostgreSQL only): the
    caller's own write to send in the same statement (:func:`append.append_entry`).
    """
    _check_points(points)

    async def write() -> EntryOut:
        # PostgreSQL: the balance, the entry and (most often all of) the draw in one
        # statement, so the member's lock is held for it and the commit.
        then = None if db.database_is_sqlite() else lots.draw_with_entry(member_id, points)
        entry = await _append(
            member_id, kind, -points, key, reason, reference, details, then=then, also=also
        )
        drawn = entry.pop("then_total", 0)
        if drawn < points:
            await lots.draw(member_id, entry["id"], points - drawn)
        return entry_out(entry)

    if key_is_new:
        async with db.write_transaction():
            return await write()
    return await once(key, member_id, entry_by_key, write)


async def adjust(
    member_id: int,
    points: int,
    *,
    key: str,
    reason: str,
    expires_at: datetime | None = None,
) -> EntryOut:
    """A manual correction by staff: positive adds a lot, negative takes points away."""
    if not reason or not reason.strip():
        raise DomainError("an adjustment needs a reason", code="reason_required")
    if points > 0:
        return await earn(
            member_id,
            points,
            key=key,
            reason=reason.strip(),
            kind=EntryKind.adjust,
            expires_at=expires_at,
        )
    if points == 0:
        raise DomainError("an adjustment of zero points changes nothing", code="invalid_points")
    return await debit(member_id, -points, kind=EntryKind.adjust, key=key, reason=reason.strip())


async def reverse(entry_id: int, *, key: str, reason: str) -> EntryOut:
    """Undo an entry with a new ``reverse`` entry.

    A debit's points go back to the lots they came from (a lot that has meanwhile
    expired gets a new lot with its old expiry, which the next expiry run takes). A
    credit is taken back, from its own lot first; the member must still hold the points.
    """
    original = await get_entry(entry_id)
    if original.kind in (EntryKind.reverse, EntryKind.expire):
        raise DomainError(f"a {original.kind} entry cannot be reversed", code="not_reversible")
    member_id = original.member_id

    async def write() -> EntryOut:
        await lock_member(member_id)
        done = await scoped_count(LedgerEntry).where(LedgerEntry.reverses == entry_id)
        if done:
            raise Conflict("this entry was already reversed", code="already_reversed")
        points = -original.points
        entry = await _append(
            member_id, EntryKind.reverse, points, key, reason, original.reference,
            reverses=entry_id,
        )  # fmt: skip
        if points > 0:
            await lots.give_back(member_id, original.id, entry["id"])
        else:
            await lots.draw(member_id, entry["id"], -points, first_lot=await lots.lot_of(entry_id))
        return entry_out(entry)

    return await once(key, member_id, entry_by_key, write)


async def transfer_all(from_id: int, to_id: int, *, key_prefix: str, reason: str = "") -> int:
    """Move all points and stored value of ``from_id`` to ``to_id`` (member merge).

    Lots keep their expiry. Entries are keyed ``<key_prefix>:out`` and ``<key_prefix>:in``
    (stored value ``<key_prefix>:value:out|in``); returns the points moved. Safe to call
    inside the merge's own transaction, and a second call moves nothing.
    """
    if from_id == to_id:
        raise DomainError("cannot move points to the same member", code="invalid_merge")
    async with db.write_transaction():
        for member_id in sorted((from_id, to_id)):  # one lock order: no deadlock
            await lock_member(member_id)
        moved = await _transfer_points(from_id, to_id, key_prefix, reason)
        await stored_value.transfer_all(
            from_id, to_id, key_prefix=f"{key_prefix}:value", reason=reason
        )
        return moved


async def _transfer_points(from_id: int, to_id: int, key_prefix: str, reason: str) -> int:
    if await entry_by_key(f"{key_prefix}:out") is not None:
        return 0
    open_lots = await lots.open_lots(from_id)
    total = sum(lot["remaining"] for lot in open_lots)
    if total == 0:
        return 0
    out = await _append(
        from_id, EntryKind.adjust, -total, f"{key_prefix}:out", reason, f"member:{to_id}"
    )
    await lots.draw(from_id, out["id"], total)
    into = await _append(
        to_id, EntryKind.adjust, total, f"{key_prefix}:in", reason, f"member:{from_id}"
    )
    for lot in open_lots:
        await lots.new_lot(to_id, into["id"], lot["remaining"], lot["expires_at"], lot["earned_at"])
    return total


async def expire_due(now: datetime | None = None) -> int:
    """Expire what is left of every lot past its expiry, once each; returns points expired."""
    now = now or datetime.now(UTC)
    expired = 0
    for lot in await lots.due(now):
        entry = await _expire_lot(lot["id"], lot["member"], now)
        if entry is not None and not entry.replayed:
            expired += -entry.points
    return expired


async def _expire_lot(lot_id: int, member_id: int, now: datetime) -> EntryOut | None:
    key = f"expire:{lot_id}"
    if (existing := await entry_by_key(key)) is not None:
        return existing
    async with db.write_transaction():
        await lock_member(member_id)
        points = await lots.close(lot_id, now)
        if not points:
            return None
        entry = await _append(
            member_id, EntryKind.expire, -points, key, "points expired", f"lot:{lot_id}"
        )
        await lots.record_draw(entry["id"], lot_id, points)
        return entry_out(entry)
