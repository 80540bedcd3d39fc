"""Trials: a plan's trial days, one trial per shop, whatever the way to pay.

Card providers run the trial themselves (Stripe's ``trial_period_days``; the subscription
comes back ``trialing`` and :mod:`loyalchat.billing.lifecycle` records it). For a plan paid
by hand (bank transfer, FPS) billing runs it: choosing the plan starts the trial at once,
without waiting for the transfer, so the shop may be approved and run. The trial's days
count from the moment the shop is open: from the choice when it already is, else from
its approval (:func:`start_trial_clock`). The first month's transfer is due by the trial's
end; unpaid then, the subscription is past due like a paid period that ran out
(:func:`loyalchat.billing.grace.enforce_grace`: grace, then suspension).

A shop has one trial: only a subscription never paid nor trialed (``pending``, no
``trial_ends_at``) starts one, by one conditional UPDATE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from loyalchat.billing.plans import PlanInfo, get_plan
from loyalchat.billing.scope import as_tenant
from loyalchat.billing.tables import Subscription, SubscriptionStatus
from loyalchat.context import require_tenant
from loyalchat.scoping import scoped_select, scoped_update
from loyalchat.tenants import audit
from loyalchat.tenants.service import get_tenant
from loyalchat.tenants.tables import TenantStatus

S = SubscriptionStatus


def trial_open(sub: dict[str, Any] | None) -> bool:
    """Whether a trial may still start for this subscription (never paid nor trialed)."""
    return sub is None or (sub["status"] == S.pending.value and sub["trial_ends_at"] is None)


async def start_trial(plan: PlanInfo, provider: str, now: datetime | None = None) -> bool:
    """The current tenant's first plan has trial days: the trial starts (its clock now when
    the shop is open, else at approval). False when the plan has none or the shop had one."""
    if plan.trial_days <= 0:
        return False
    now = now or datetime.now(UTC)
    tenant = await get_tenant(require_tenant())
    values: dict[Any, Any] = {
        Subscription.status: S.trialing.value,
        Subscription.plan: plan.id,
        Subscription.provider: provider,
        Subscription.grace_until: None,
        Subscription.updated_at: now,
    }
    end = None
    if tenant is not None and tenant.status == TenantStatus.active.value:
        end = now + timedelta(days=plan.trial_days)
        values.update(_clock(now, end))
    moved = (
        await scoped_update(Subscription, values)
        .where((Subscription.status == S.pending.value) & Subscription.trial_ends_at.is_null())
        .returning(Subscription.id)
    )
    if moved:
        await audit.record(
            "billing.trial_started",
            f"subscription:{moved[0]['id']}",
            after={
                "plan": plan.code,
                "days": plan.trial_days,
                "ends": end.isoformat() if end else "at approval",
            },
        )
    return bool(moved)


async def start_trial_clock(tenant_id: int, now: datetime | None = None) -> datetime | None:
    """The shop is approved: a trial waiting for it starts now. Its end, or None (no trial
    waiting; safe to call twice)."""
    now = now or datetime.now(UTC)
    with as_tenant(tenant_id):
        waiting = (Subscription.status == S.trialing.value) & (
            Subscription.current_period_end.is_null()
        )
        sub = await scoped_select(Subscription).where(waiting).first()
        if sub is None:
            return None
        plan = await get_plan(sub["plan"]) if sub["plan"] else None
        end = now + timedelta(days=plan.trial_days if plan else 0)
        values: dict[Any, Any] = {Subscription.updated_at: now, **_clock(now, end)}
        moved = (
            await scoped_update(Subscription, values)
            .where(waiting & (Subscription.id == sub["id"]))
            .returning(Subscription.id)
        )
    return end if moved else None


def _clock(start: datetime, end: datetime) -> dict[Any, Any]:
    return {
        Subscription.current_period_start: start,
        Subscription.current_period_end: end,
        Subscription.trial_ends_at: end,
    }
