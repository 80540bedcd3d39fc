"""Read-only figures about members for the console dashboard (no writes).

Kept apart from ``members.service`` (the writer of the members tables): these only count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalchat.members.tables import Member, MemberStatus
from loyalchat.scoping import scoped_select


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int


async def joined_per_day(days: int, tz: ZoneInfo, today: date | None = None) -> list[DayCount]:
    """Members who joined on each of the last ``days`` local days, oldest first.

    Merged members are left out: the person is counted once, as the member that was kept.
    """
    today = today or datetime.now(tz).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC)
    rows = await scoped_select(Member, Member.joined_at).where(
        (Member.joined_at >= start) & (Member.status != MemberStatus.merged.value)
    )
    counts = {first + timedelta(days=i): 0 for i in range(days)}
    for row in rows:
        day = row["joined_at"].astimezone(tz).date()
        if day in counts:
            counts[day] += 1
    return [DayCount(day, count) for day, count in counts.items()]
