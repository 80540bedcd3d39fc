"""Usage against the plan's limits, per tenant and month, and the mails when it nears them.

Receipts are counted from the receipt table (no write on the receipt path), members,
channels and staff seats live; what no table records (broadcasts) is counted in
``UsageCounter`` by :func:`count_usage`. A month is the shop's calendar month, in its time
zone. The near-limit (80 %) and limit-reached mails go out once per month per metric: a
conditional UPDATE of the month's counter row decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalchat.billing import notify
from loyalchat.billing.payments import as_tenant, plan_of
from loyalchat.billing.plans import METRICS, PlanInfo
from loyalchat.billing.tables import UsageCounter
from loyalchat.bounds import INT32_MAX
from loyalchat.i18n import N_
from loyalchat.scoping import new_row, scoped_count, scoped_insert, scoped_select, scoped_update
from loyalchat.tenants.service import get_tenant

NEAR = 0.8
LABELS = {
    "members": N_("members"),
    "receipts_per_month": N_("receipts"),
    "channels": N_("channels"),
    "staff_seats": N_("staff seats"),
    "broadcasts_per_month": N_("broadcasts"),
}
TITLES = {
    "members": N_("Members"),
    "receipts_per_month": N_("Receipts this month"),
    "channels": N_("Channels"),
    "staff_seats": N_("Staff seats"),
    "broadcasts_per_month": N_("Broadcasts this month"),
}
COUNTED = ("broadcasts_per_month",)  # kept in UsageCounter by count_usage()
ALIASES = {"receipts": "receipts_per_month", "broadcasts": "broadcasts_per_month"}


@dataclass(frozen=True, slots=True)
class Usage:
    metric: str
    used: int
    limit: int | None  # None: unlimited

    @property
    def percent(self) -> int:
        if not self.limit:
            return 100 if self.limit == 0 else 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def level(self) -> str:
        """ "ok", "near" (80 % or more) or "reached"."""
        if self.limit is None:
            return "ok"
        if self.used >= self.limit:
            return "reached"
        return "near" if self.used >= NEAR * self.limit else "ok"


def metric_name(metric: str) -> str:
    name = ALIASES.get(metric, metric)
    if name not in METRICS:
        raise ValueError(f"unknown usage metric {metric!r}")
    return name


async def month_start(tenant_id: int, now: datetime | None = None) -> tuple[str, datetime]:
    """("YYYY-MM", the first moment of that month) in the shop's time zone."""
    tenant = await get_tenant(tenant_id)
    try:
        zone = ZoneInfo(tenant.timezone if tenant else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or datetime.now(UTC)).astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.strftime("%Y-%m"), first.astimezone(UTC)


async def _counter_row(period: str, metric: str) -> None:
    await scoped_insert(
        UsageCounter, new_row(UsageCounter, period=period, metric=metric)
    ).on_conflict(action="DO NOTHING")


async def count_usage(tenant_id: int, metric: str, n: int = 1) -> int:
    """Add ``n`` to this month's count of ``metric`` (e.g. "broadcasts"); the new count.
    Sends the near-limit / limit mail when the count crosses 80 % or 100 %."""
    name = metric_name(metric)
    if not 0 <= n <= INT32_MAX:
        raise ValueError("n out of range")
    period, _ = await month_start(tenant_id)
    with as_tenant(tenant_id):
        await _counter_row(period, name)
        rows = (
            await scoped_update(
                UsageCounter,
                {
                    UsageCounter.count: UsageCounter.count + n,
                    UsageCounter.updated_at: datetime.now(UTC),
                },
            )
            .where((UsageCounter.period == period) & (UsageCounter.metric == name))
            .returning(UsageCounter.count)
        )
    count = rows[0]["count"]
    await check_limits(tenant_id, only=name)
    return count


async def _used(tenant_id: int, metric: str, since: datetime, period: str) -> int:
    from loyalchat.members.tables import Member, MemberStatus
    from loyalchat.receipts.tables import Receipt
    from loyalchat.tenants.tables import StaffRole

    if metric == "members":
        return await scoped_count(Member).where(Member.status == MemberStatus.active.value)
    if metric == "receipts_per_month":
        return await scoped_count(Receipt).where(Receipt.created_at >= since)
    if metric == "staff_seats":
        return await scoped_count(StaffRole)
    if metric == "channels":
        return await _channels_in_use()
    row = (
        await scoped_select(UsageCounter, UsageCounter.count)
        .where((UsageCounter.period == period) & (UsageCounter.metric == metric))
        .first()
    )
    return row["count"] if row else 0


async def _channels_in_use() -> int:
    """Channels the shop has turned on (their plugins enabled for it)."""
    from loyalchat.extensions.channels import get_channels
    from loyalchat.pluginmanager import current_plugin_manager
    from loyalchat.tenants import plugin_access

    pm = current_plugin_manager()
    registry = get_channels(pm)
    enabled = await plugin_access.enabled_plugins(pm)
    return sum(1 for name in registry if registry.owner(name) in enabled)


async def usage(tenant_id: int, *, plan: PlanInfo | None = None) -> dict[str, Usage]:
    """Every metric's use this month against the tenant's plan (no plan: unlimited)."""
    plan = plan or await plan_of(tenant_id)
    period, since = await month_start(tenant_id)
    with as_tenant(tenant_id):
        return {
            metric: Usage(
                metric,
                await _used(tenant_id, metric, since, period),
                plan.limit(metric) if plan else None,
            )
            for metric in METRICS
        }


async def limit_reached(tenant_id: int, metric: str) -> bool:
    """Whether the tenant used all its plan allows of ``metric`` (this month)."""
    name = metric_name(metric)
    plan = await plan_of(tenant_id)
    limit = plan.limit(name) if plan else None
    if limit is None:
        return False
    period, since = await month_start(tenant_id)
    with as_tenant(tenant_id):
        return await _used(tenant_id, name, since, period) >= limit


async def receipt_over_quota(tenant_id: int, receipt_id: int) -> bool:
    """Whether receipt ``receipt_id`` is past the month's receipt limit: more than the
    limit of this month's receipts came in up to it (so the same receipts are over the
    limit whichever order the workers take them in)."""
    plan = await plan_of(tenant_id)
    limit = plan.limit("receipts_per_month") if plan else None
    if limit is None:
        return False
    from loyalchat.receipts.tables import Receipt

    period, since = await month_start(tenant_id)
    with as_tenant(tenant_id):
        rank = await scoped_count(Receipt).where(
            (Receipt.created_at >= since) & (Receipt.id <= receipt_id)
        )
    if rank >= NEAR * limit:
        await _notify(
            tenant_id, period, "receipts_per_month", Usage("receipts_per_month", rank, limit)
        )
    return rank > limit


async def check_limits(tenant_id: int, *, only: str | None = None) -> list[str]:
    """Send the near-limit and limit-reached mails due for this month; the metrics mailed."""
    period, _ = await month_start(tenant_id)
    mailed = []
    for metric, used in (await usage(tenant_id)).items():
        if only is not None and metric != only:
            continue
        if used.level != "ok" and await _notify(tenant_id, period, metric, used):
            mailed.append(metric)
    return mailed


async def _notify(tenant_id: int, period: str, metric: str, used: Usage) -> bool:
    """The mail for ``used``'s level, once per month per metric and level."""
    level = used.level
    if level == "ok":
        return False
    column = (
        UsageCounter.reached_notified_at if level == "reached" else UsageCounter.near_notified_at
    )
    with as_tenant(tenant_id):
        await _counter_row(period, metric)
        taken = (
            await scoped_update(UsageCounter, {column: datetime.now(UTC)})
            .where((UsageCounter.period == period) & (UsageCounter.metric == metric))
            .where(column.is_null())
            .returning(UsageCounter.id)
        )
    if not taken:
        return False
    template = "usage_limit_reached" if level == "reached" else "usage_near_limit"
    await notify.mail_owners(
        tenant_id,
        template,
        {
            "used": used.used,
            "limit": used.limit,
            "metric_label": LABELS[metric],
            "link": "/console/billing",
        },
    )
    return True
