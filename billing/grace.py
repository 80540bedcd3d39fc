"""The grace period: a plan not paid in time gives the shop some days, then suspends it.

Run periodically (:mod:`loyalchat.billing.tasks`). A subscription whose paid period, or
trial (:mod:`loyalchat.billing.trial`), ended becomes past due with
``LOYALCHAT_BILLING_GRACE_DAYS`` of grace from the period's end (the owners get the
``payment_due`` mail); a past-due or cancelled one whose grace ran out suspends an active
tenant, audited with the reason "payment overdue" (a later payment reactivates it, see
:func:`loyalchat.billing.lifecycle.reactivate_if_suspended_for_nonpayment`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from loyalchat.billing import notify
from loyalchat.billing.lifecycle import NONPAYMENT_REASON, begin_grace
from loyalchat.billing.tables import Subscription, SubscriptionStatus
from loyalchat.context import cross_tenant, tenant_context
from loyalchat.tenants.service import StatusConflict, get_tenant, set_status
from loyalchat.tenants.tables import TenantStatus

log = logging.getLogger(__name__)
S = SubscriptionStatus


async def enforce_grace(now: datetime | None = None) -> list[int]:
    """Start grace for periods that ran out; suspend tenants whose grace ran out.
    Returns the ids of the tenants suspended. Safe to run twice, also at once."""
    now = now or datetime.now(UTC)
    with cross_tenant("billing grace: the subscriptions of every tenant"):
        ended = await Subscription.select(
            Subscription.tenant, Subscription.status, Subscription.current_period_end
        ).where(
            Subscription.status.is_in([S.active.value, S.trialing.value])
            & Subscription.current_period_end.is_not_null()
            & (Subscription.current_period_end < now)
        )
    for row in ended:
        with tenant_context(row["tenant"]):
            until = await begin_grace(now, base=row["current_period_end"])
        if until is not None:  # this run moved it: tell the owners once
            trial = row["status"] == S.trialing.value
            await notify.mail_owners(
                row["tenant"],
                "payment_due",
                {
                    "grace_until": until.date().isoformat(),
                    "link": "/console/billing",
                    "trial": trial,
                },
            )
    with cross_tenant("billing grace: the subscriptions of every tenant"):
        overdue = await Subscription.select(Subscription.tenant).where(
            Subscription.status.is_in([S.past_due.value, S.cancelled.value])
            & Subscription.grace_until.is_not_null()
            & (Subscription.grace_until < now)
        )
    suspended = []
    for row in overdue:
        tenant = await get_tenant(row["tenant"])
        if tenant is None or tenant.status != TenantStatus.active.value:
            continue
        try:
            with tenant_context(tenant.id):
                await set_status(
                    tenant.id,
                    TenantStatus.suspended,
                    NONPAYMENT_REASON,
                    only_from={TenantStatus.active},
                )
        except StatusConflict:
            continue  # changed meanwhile (another run, an admin)
        log.info("tenant %s suspended: payment overdue", tenant.id)
        suspended.append(tenant.id)
    return suspended
