"""The tenant's points policy: when earned points expire, and the daily cap per member.

``expires_at`` is pure (no database, not async): the ledger stamps each new lot with it.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from loyalchat import db
from loyalchat.context import require_tenant
from loyalchat.domain import DomainError
from loyalchat.rules.schemas import PolicyIn, PolicyOut
from loyalchat.rules.tables import ExpiryPolicy, PointsPolicy
from loyalchat.scoping import new_row, scoped_insert, scoped_select
from loyalchat.tenants import audit
from loyalchat.tenants.tables import Tenant

MAX_DAILY_CAP = 100_000_000


async def _tenant_timezone() -> str:
    row = await Tenant.select(Tenant.timezone).where(Tenant.id == require_tenant()).first()
    return row["timezone"] if row else "UTC"


async def get_policy() -> PolicyOut:
    """The tenant's policy, or the defaults (never expire, no daily cap) when none is set."""
    timezone = await _tenant_timezone()
    row = await scoped_select(PointsPolicy).first()
    if row is None:
        return PolicyOut(timezone=timezone)
    return PolicyOut(
        expiry=ExpiryPolicy(row["expiry"]),
        expiry_months=row["expiry_months"],
        expiry_month=row["expiry_month"],
        expiry_day=row["expiry_day"],
        daily_cap=row["daily_cap"],
        timezone=timezone,
    )


def _validated_policy(data: PolicyIn) -> dict[str, Any]:
    def invalid(message: str, field: str) -> DomainError:
        return DomainError(message, code="invalid_policy", field=field)

    try:
        expiry = ExpiryPolicy(data.expiry)
    except ValueError:
        raise invalid("expiry must be never, rolling or yearly", "expiry") from None

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not whole(data.expiry_months) or not 1 <= data.expiry_months <= 120:
        raise invalid("rolling expiry is 1 to 120 months", "expiry_months")
    if not whole(data.expiry_month) or not 1 <= data.expiry_month <= 12:
        raise invalid("the yearly expiry month is 1 to 12", "expiry_month")
    # A non-leap year: the day must exist every year (no February 29).
    last = calendar.monthrange(2001, data.expiry_month)[1]
    if not whole(data.expiry_day) or not 1 <= data.expiry_day <= last:
        raise invalid(f"the yearly expiry day of that month is 1 to {last}", "expiry_day")
    cap = data.daily_cap
    if cap is not None and (not whole(cap) or not 1 <= cap <= MAX_DAILY_CAP):
        raise invalid(f"the daily cap is 1 to {MAX_DAILY_CAP:,} points, or none", "daily_cap")
    return {
        "expiry": expiry.value,
        "expiry_months": data.expiry_months,
        "expiry_month": data.expiry_month,
        "expiry_day": data.expiry_day,
        "daily_cap": cap,
    }


async def set_policy(data: PolicyIn) -> PolicyOut:
    """Store the tenant's policy (one row per tenant, inserted or updated in one statement)."""
    values = _validated_policy(data)
    async with db.write_transaction():
        before = await get_policy()
        row = new_row(PointsPolicy, updated_at=datetime.now(UTC), **values)
        columns = [getattr(PointsPolicy, k) for k in values] + [PointsPolicy.updated_at]
        await scoped_insert(PointsPolicy, row).on_conflict(
            target=PointsPolicy.tenant, action="DO UPDATE", values=columns
        )
        after = await get_policy()
        await audit.record(
            "points_policy.set",
            "points_policy",
            before=msgspec.structs.asdict(before),
            after=msgspec.structs.asdict(after),
        )
    return after


def zone(policy: PolicyOut) -> ZoneInfo:
    """The tenant's time zone; UTC if the stored name is unknown (never fail a purchase)."""
    try:
        return ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months at the same wall time, clamped to the month's end."""
    years, month0 = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + years, month0 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expires_at(earned_at: datetime, policy: PolicyOut) -> datetime | None:
    """When points earned at ``earned_at`` (timezone-aware) expire under ``policy``.

    - ``never``: ``None``.
    - ``rolling``: ``earned_at`` plus ``expiry_months`` calendar months, at the same wall
      time in the tenant's time zone; a day the target month lacks becomes its last day
      (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year).
    - ``yearly``: the first date with ``expiry_month``/``expiry_day`` strictly after the
      local date of ``earned_at`` (points earned on the expiry day itself last until next
      year's), at the end of that day (23:59:59.999999) in the tenant's time zone.

    Pure (no database, not async); the result is aware, in the tenant's time zone.
    """
    if earned_at.tzinfo is None:
        raise ValueError("earned_at must be timezone-aware")
    expiry = ExpiryPolicy(policy.expiry)
    if expiry == ExpiryPolicy.never:
        return None
    local = earned_at.astimezone(zone(policy))
    if expiry == ExpiryPolicy.rolling:
        return add_months(local, policy.expiry_months)
    day = date(local.year, policy.expiry_month, policy.expiry_day)
    if day <= local.date():
        day = date(local.year + 1, policy.expiry_month, policy.expiry_day)
    return datetime.combine(day, time.max, tzinfo=local.tzinfo)
