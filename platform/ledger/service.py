"""The points ledger: the only writer of ``LedgerEntry``, ``PointLot``, ``LotDraw`` and ``Member.points``.

Every change is one transaction that (1) moves the member's cached balance with a single
conditional UPDATE, which also takes the member's row lock, (2) appends the entry under
its idempotency key, unique per tenant, and (3) creates a lot (credits) or draws from
the oldest-expiring lots first (debits). A second call with a key already used changes
nothing and returns the first entry, marked ``replayed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loyalchat import db
from loyalchat.bounds import INT32_MAX, BalanceOutOfRange, storable_text
from loyalchat.context import current_actor
from loyalchat.domain import Conflict, DomainError, NotFound, Page
from loyalchat.ledger.once import once
from loyalchat.ledger.tables import EntryKind, LedgerEntry, LotDraw, PointLot
from loyalchat.members.tables import Member
from loyalchat.scoping import (
    new_row,
    save_row,
    scoped_count,
    scoped_insert,
    scoped_raw,
    scoped_select,
    scoped_update,
)

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


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    member_id: int
    cached: int
    entries_sum: int
    lots_sum: int

    @property
    def ok(self) -> bool:
        return self.cached == self.entries_sum == self.lots_sum and self.cached >= 0


@dataclass(frozen=True, slots=True)
class DayTotal:
    day: date
    earned: int
    redeemed: int
    expired: int


def _out(row: dict[str, Any], replayed: bool = False) -> EntryOut:
    details = row.get("details") or {}
    if isinstance(details, str):
        import json

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
    row = await scoped_select(LedgerEntry).where(LedgerEntry.idempotency_key == key).first()
    return _out(row, replayed=True) if row else None


async def get_entry(entry_id: int) -> EntryOut:
    row = await scoped_select(LedgerEntry).where(LedgerEntry.id == entry_id).first()
    if row is None:
        raise NotFound("ledger entry not found")
    return _out(row)


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


async def _idempotent(key: str, member_id: int, write) -> EntryOut:
    return await once(key, member_id, entry_by_key, write)


async def _move_balance(member_id: int, delta: int) -> int:
    """Apply ``delta`` to the cached balance in one conditional UPDATE; the new balance.

    The condition also keeps the balance inside its ``integer`` column: PostgreSQL would
    fail the statement, SQLite would store a number no other part can read back.
    """
    query = scoped_update(Member, {Member.points: Member.points + delta}).where(
        Member.id == member_id
    )
    if delta < 0:
        query = query.where(Member.points >= -delta)
    else:
        query = query.where(Member.points <= INT32_MAX - delta)
    rows = await query.returning(Member.points)
    if rows:
        return rows[0]["points"]
    member = await scoped_select(Member, Member.points).where(Member.id == member_id).first()
    if member is None:
        raise NotFound("member not found")
    if delta > 0:
        raise BalanceOutOfRange(
            f"a balance of {member['points']:,} points cannot grow by {delta:,}",
            balance=member["points"],
            most=INT32_MAX,
        )
    raise InsufficientPoints(
        f"not enough points: {member['points']:,} available, {-delta:,} needed",
        balance=member["points"],
        needed=-delta,
    )


async def _append(
    member_id: int,
    kind: EntryKind,
    points: int,
    balance: int,
    key: str,
    reason: str,
    reference: str,
    details: dict[str, Any] | None = None,
    reverses: int | None = None,
) -> dict[str, Any]:
    storable_text(reason, "reason", multiline=True)
    storable_text(reference, "reference")
    actor = current_actor()
    row = new_row(
        LedgerEntry,
        member=member_id,
        kind=kind.value,
        points=points,
        balance_after=balance,
        idempotency_key=key,
        actor=actor.ref,
        actor_label=actor.label,
        reason=reason,
        reference=reference,
        details=details or {},
        reverses=reverses,
    )
    inserted = await scoped_insert(LedgerEntry, row).returning(*LedgerEntry.all_columns())
    return inserted[0]


async def _open_lots(member_id: int) -> list[dict[str, Any]]:
    """Lots with points left, oldest expiry first (never-expiring last), then oldest."""
    return await scoped_raw(
        PointLot,
        "SELECT id, remaining, expires_at, earned_at FROM point_lot "
        "WHERE tenant = {tenant} AND member = {} AND remaining > 0 AND expired_at IS NULL "
        "ORDER BY CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, id",
        member_id,
    )


async def _draw(member_id: int, entry_id: int, points: int, first_lot: int | None = None) -> None:
    """Take ``points`` from the member's lots, oldest first (``first_lot`` before all)."""
    lots = await _open_lots(member_id)
    if first_lot is not None:
        lots.sort(key=lambda lot: lot["id"] != first_lot)
    need = points
    for lot in lots:
        if need == 0:
            break
        take = min(lot["remaining"], need)
        await scoped_update(PointLot, {PointLot.remaining: PointLot.remaining - take}).where(
            PointLot.id == lot["id"]
        )
        await save_row(new_row(LotDraw, entry=entry_id, lot=lot["id"], points=take))
        need -= take
    if need:
        # The balance said yes but the lots disagree: refuse rather than lose track.
        raise RuntimeError(f"member {member_id}: lots hold {points - need} of {points} points")


async def _new_lot(
    member_id: int,
    entry_id: int,
    points: int,
    expires_at: datetime | None,
    earned_at: datetime | None = None,
) -> None:
    await save_row(
        new_row(
            PointLot,
            member=member_id,
            entry=entry_id,
            points=points,
            remaining=points,
            earned_at=earned_at or datetime.now(UTC),
            expires_at=expires_at,
        )
    )


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
        balance = await _move_balance(member_id, points)
        entry = await _append(member_id, kind, points, balance, key, reason, reference, details)
        await _new_lot(member_id, entry["id"], points, expires_at)
        return _out(entry)

    return await _idempotent(key, member_id, write)


async def debit(
    member_id: int,
    points: int,
    *,
    kind: EntryKind = EntryKind.redeem,
    key: str,
    reason: str = "",
    reference: str = "",
    details: dict[str, Any] | None = None,
) -> EntryOut:
    """Take ``points``, oldest lots first; :class:`InsufficientPoints` when the balance is short."""
    _check_points(points)

    async def write() -> EntryOut:
        balance = await _move_balance(member_id, -points)
        entry = await _append(member_id, kind, -points, balance, key, reason, reference, details)
        await _draw(member_id, entry["id"], points)
        return _out(entry)

    return await _idempotent(key, member_id, write)


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
        if original.points < 0:
            return await _give_back(original, key, reason)
        points = original.points
        balance = await _move_balance(member_id, -points)
        entry = await _append(
            member_id, EntryKind.reverse, -points, balance, key, reason, original.reference,
            reverses=entry_id,
        )  # fmt: skip
        lot = await scoped_select(PointLot, PointLot.id).where(PointLot.entry == entry_id).first()
        await _draw(member_id, entry["id"], points, first_lot=lot["id"] if lot else None)
        return _out(entry)

    return await _idempotent(key, member_id, write)


async def _give_back(original: EntryOut, key: str, reason: str) -> EntryOut:
    member_id, points = original.member_id, -original.points
    balance = await _move_balance(member_id, points)
    entry = await _append(
        member_id, EntryKind.reverse, points, balance, key, reason, original.reference,
        reverses=original.id,
    )  # fmt: skip
    draws = await scoped_select(
        LotDraw, LotDraw.lot, LotDraw.points, LotDraw.lot.expires_at, LotDraw.lot.expired_at
    ).where(LotDraw.entry == original.id)
    for draw in draws:
        if draw["lot.expired_at"] is None:
            await scoped_update(
                PointLot, {PointLot.remaining: PointLot.remaining + draw["points"]}
            ).where(PointLot.id == draw["lot"])
        else:
            await _new_lot(member_id, entry["id"], draw["points"], draw["lot.expires_at"])
    return _out(entry)


async def transfer_all(from_id: int, to_id: int, *, key_prefix: str, reason: str = "") -> int:
    """Move all points and stored value of ``from_id`` to ``to_id`` (member merge).

    Lots keep their expiry. Entries are keyed ``<key_prefix>:out`` and ``<key_prefix>:in``
    (stored value ``<key_prefix>:value:out|in``); returns the points moved. Safe to call
    inside the merge's own transaction, and a second call moves nothing.
    """
    from loyalchat.ledger import value

    if from_id == to_id:
        raise DomainError("cannot move points to the same member", code="invalid_merge")
    async with db.write_transaction():
        for member_id in sorted((from_id, to_id)):  # one lock order: no deadlock
            await lock_member(member_id)
        moved = await _transfer_points(from_id, to_id, key_prefix, reason)
        await value.transfer_all(from_id, to_id, key_prefix=f"{key_prefix}:value", reason=reason)
        return moved


async def _transfer_points(from_id: int, to_id: int, key_prefix: str, reason: str) -> int:
    if await entry_by_key(f"{key_prefix}:out") is not None:
        return 0
    lots = await _open_lots(from_id)
    total = sum(lot["remaining"] for lot in lots)
    if total == 0:
        return 0
    balance = await _move_balance(from_id, -total)
    out = await _append(
        from_id, EntryKind.adjust, -total, balance, f"{key_prefix}:out", reason, f"member:{to_id}"
    )
    await _draw(from_id, out["id"], total)
    balance = await _move_balance(to_id, total)
    into = await _append(
        to_id, EntryKind.adjust, total, balance, f"{key_prefix}:in", reason, f"member:{from_id}"
    )
    for lot in lots:
        await _new_lot(to_id, into["id"], lot["remaining"], lot["expires_at"], lot["earned_at"])
    return total


async def expire_due(now: datetime | None = None) -> int:
    """Expire what is left of every lot past its expiry, once each; returns points expired."""
    now = now or datetime.now(UTC)
    due = await scoped_select(PointLot, PointLot.id, PointLot.member).where(
        PointLot.expires_at <= now, PointLot.remaining > 0, PointLot.expired_at.is_null()
    )
    expired = 0
    for lot in due:
        entry = await _expire_lot(lot["id"], lot["member"], now)
        if entry is not None and not entry.replayed:
            expired += -entry.points
    return expired


async def _expire_lot(lot_id: int, member_id: int, now: datetime) -> EntryOut | None:
    async def write() -> EntryOut | None:
        await lock_member(member_id)
        lot = await scoped_select(PointLot, PointLot.remaining, PointLot.expired_at).where(
            PointLot.id == lot_id
        ).first()  # fmt: skip
        if lot is None or lot["expired_at"] is not None:
            return None
        points = lot["remaining"]
        await scoped_update(PointLot, {PointLot.remaining: 0, PointLot.expired_at: now}).where(
            PointLot.id == lot_id
        )
        if points == 0:
            return None
        balance = await _move_balance(member_id, -points)
        entry = await _append(
            member_id, EntryKind.expire, -points, balance, f"expire:{lot_id}",
            "points expired", f"lot:{lot_id}",
        )  # fmt: skip
        await save_row(new_row(LotDraw, entry=entry["id"], lot=lot_id, points=points))
        return _out(entry)

    key = f"expire:{lot_id}"
    if (existing := await entry_by_key(key)) is not None:
        return existing
    async with db.write_transaction():
        return await write()


async def history(member_id: int, limit: int = 50, offset: int = 0) -> Page[EntryOut]:
    """The member's entries, newest first."""
    where = LedgerEntry.member == member_id
    rows = (
        await scoped_select(LedgerEntry)
        .where(where)
        .order_by(LedgerEntry.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await scoped_count(LedgerEntry).where(where)
    return Page(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def audit_member(member_id: int) -> BalanceCheck:
    member = await scoped_select(Member, Member.points).where(Member.id == member_id).first()
    if member is None:
        raise NotFound("member not found")
    entries = await scoped_raw(
        LedgerEntry,
        "SELECT COALESCE(SUM(points), 0) AS s FROM ledger_entry "
        "WHERE tenant = {tenant} AND member = {}",
        member_id,
    )
    lots = await scoped_raw(
        PointLot,
        "SELECT COALESCE(SUM(remaining), 0) AS s FROM point_lot "
        "WHERE tenant = {tenant} AND member = {} AND expired_at IS NULL",
        member_id,
    )
    return BalanceCheck(member_id, member["points"], int(entries[0]["s"]), int(lots[0]["s"]))


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    return start, start + timedelta(days=1)


async def earned_on(member_id: int, day: date, tz: ZoneInfo) -> int:
    """Points the member earned (``earn`` entries) on ``day`` in ``tz``: for daily caps."""
    start, end = _day_bounds(day, tz)
    rows = await scoped_raw(
        LedgerEntry,
        "SELECT COALESCE(SUM(points), 0) AS s FROM ledger_entry WHERE tenant = {tenant} AND "
        "member = {} AND kind = 'earn' AND created_at >= {} AND created_at < {}",
        member_id,
        start,
        end,
    )
    return int(rows[0]["s"])


async def liability() -> int:
    """Points outstanding over all the tenant's members: what the programme owes."""
    rows = await scoped_raw(
        Member, "SELECT COALESCE(SUM(points), 0) AS s FROM member WHERE tenant = {tenant}"
    )
    return int(rows[0]["s"])


async def daily_totals(days: int, tz: ZoneInfo, today: date | None = None) -> list[DayTotal]:
    """Points earned, redeemed and expired per local day, oldest first, for charts."""
    today = today or datetime.now(tz).date()
    first = today - timedelta(days=days - 1)
    start, _ = _day_bounds(first, tz)
    rows = await scoped_select(
        LedgerEntry, LedgerEntry.kind, LedgerEntry.points, LedgerEntry.created_at
    ).where(LedgerEntry.created_at >= start)
    totals = {
        first + timedelta(days=i): DayTotal(first + timedelta(days=i), 0, 0, 0) for i in range(days)
    }
    for row in rows:
        day = row["created_at"].astimezone(tz).date()
        if day not in totals:
            continue
        kind, points = row["kind"], row["points"]
        current = totals[day]
        if kind == EntryKind.earn:
            totals[day] = replace(current, earned=current.earned + points)
        elif kind == EntryKind.redeem:
            totals[day] = replace(current, redeemed=current.redeemed - points)
        elif kind == EntryKind.expire:
            totals[day] = replace(current, expired=current.expired - points)
    return list(totals.values())
