"""Read-only figures from the points ledger: a member's history and audit, points earned
on a day (daily caps), what the programme owes, and daily totals for charts.

Nothing here writes; the writers are in :mod:`loyalchat.ledger.service`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalchat.domain import NotFound, Page
from loyalchat.ledger.service import EntryOut, entry_out
from loyalchat.ledger.tables import EntryKind, LedgerEntry, PointLot
from loyalchat.members.tables import Member
from loyalchat.scoping import scoped_count, scoped_raw, scoped_select


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
    return Page(items=[entry_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def audit_member(member_id: int) -> BalanceCheck:
    """The cached balance beside the sum of the member's entries and of its open lots."""
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
