"""CROSS-TENANT (platform admin): the payments that went wrong, across every shop.

Failed payments of the last days and the shops whose payment is overdue (in their grace
period, not suspended yet), as figures for the admin home and as lists for
``/admin/payments``. Platform-admin work: each query sits inside ``cross_tenant()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from piccolo.query.functions.aggregate import Count

from loyalchat.billing.payments import PaymentInfo, payment_info
from loyalchat.billing.tables import Payment, PaymentRowStatus, Subscription, SubscriptionStatus
from loyalchat.context import cross_tenant
from loyalchat.scoping import unscoped
from loyalchat.tenants.tables import TenantStatus

FAILED_DAYS = 30  # the admin home's "failed payments" look back this far
MAX_LIST = 200


@dataclass(frozen=True, slots=True)
class PaymentFigures:
    failed: int  # payments failed in the last ``days`` days, every shop
    in_grace: int  # shops whose payment is overdue and that still run (grace period)
    days: int


@dataclass(frozen=True, slots=True)
class OverdueShop:
    tenant_id: int
    plan_id: int | None
    status: str  # the subscription's: past_due
    grace_until: datetime | None


def _failed_since(table: type[Payment], since: datetime):
    return (table.status == PaymentRowStatus.failed.value) & (table.decided_at >= since)


def _in_grace(table: type[Subscription]):
    # Payment overdue while the shop still runs: enforce_grace suspends it once the grace
    # period ends (a shop already suspended, or not open yet, is not in grace).
    return (table.status == SubscriptionStatus.past_due.value) & (
        table.tenant.status == TenantStatus.active.value
    )


async def payment_figures(now: datetime | None = None, days: int = FAILED_DAYS) -> PaymentFigures:
    """How many payments failed in the last ``days`` days and how many shops are in
    their grace period, every shop together."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    with cross_tenant("platform admin home: failed payments and overdue shops of every shop"):
        payments = unscoped(Payment)
        failed = (
            await payments.select(Count(payments.id, alias="n"))
            .where(_failed_since(payments, since))
            .first()
        )
        subscriptions = unscoped(Subscription)
        overdue = (
            await subscriptions.select(Count(subscriptions.id, alias="n"))
            .where(_in_grace(subscriptions))
            .first()
        )
    return PaymentFigures(
        failed=failed["n"] if failed else 0,
        in_grace=overdue["n"] if overdue else 0,
        days=days,
    )


async def failed_payments(
    now: datetime | None = None, days: int = FAILED_DAYS, limit: int = MAX_LIST
) -> list[PaymentInfo]:
    """The payments that failed in the last ``days`` days, every shop, latest first."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    with cross_tenant("platform admin: failed payments of every shop"):
        table = unscoped(Payment)
        rows = await (
            table.select()
            .where(_failed_since(table, since))
            .order_by(table.decided_at, ascending=False)
            .order_by(table.id, ascending=False)
            .limit(limit)
        )
    return [payment_info(row) for row in rows]


async def overdue_shops(limit: int = MAX_LIST) -> list[OverdueShop]:
    """The shops in their grace period, the one suspended soonest first."""
    with cross_tenant("platform admin: shops whose payment is overdue"):
        table = unscoped(Subscription)
        rows = await (
            table.select(table.tenant, table.plan, table.status, table.grace_until)
            .where(_in_grace(table))
            .order_by(table.grace_until)
            .order_by(table.id)
            .limit(limit)
        )
    return [
        OverdueShop(row["tenant"], row["plan"], row["status"], _moment(row["grace_until"]))
        for row in rows
    ]


def _moment(value: object) -> datetime | None:
    """A timestamp as read (SQLite may hand one back as its stored text)."""
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None
