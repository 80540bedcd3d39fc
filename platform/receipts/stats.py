"""Read-only receipt figures for the platform admin's home (no writes).

Kept apart from ``receipts.service`` (the writer of the receipts tables): these only count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalchat.context import cross_tenant
from loyalchat.members.stats import DayCount
from loyalchat.receipts.tables import Receipt
from loyalchat.scoping import unscoped


async def platform_receipts_per_day(
    days: int, tz: ZoneInfo, today: date | None = None
) -> list[DayCount]:
    """CROSS-TENANT: receipts received on each of the last ``days`` local days, every shop
    together, oldest first (days without any included, as 0)."""
    today = today or datetime.now(tz).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=tz).astimezone(UTC)
    with cross_tenant("platform admin home: receipts per day of every shop"):
        table = unscoped(Receipt)
        rows = await table.select(table.created_at).where(table.created_at >= start)
    counts = {first + timedelta(days=i): 0 for i in range(days)}
    for row in rows:
        day = row["created_at"].astimezone(tz).date()
        if day in counts:
            counts[day] += 1
    return [DayCount(day, count) for day, count in counts.items()]
