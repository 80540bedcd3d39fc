"""Periodic billing work: the grace period, and the usage mails of every shop."""

from __future__ import annotations

from loyalchat.context import SYSTEM
from loyalchat.tasks import registry
from loyalchat.tasks.broker import actor

BILLING_INTERVAL_SECONDS = 3600


@actor(max_retries=3, time_limit=30 * 60_000)
async def enforce_billing() -> None:
    """Suspend shops past their grace period, then send the usage mails due.

    Retry policy: three tries; the next hourly run catches up anyway (both steps are
    safe to repeat: a suspension and each mail happen once)."""
    from loyalchat.billing.grace import enforce_grace
    from loyalchat.billing.usage import check_limits
    from loyalchat.tenants.service import run_for_each_tenant

    await enforce_grace()

    async def mails() -> int:
        from loyalchat.context import require_tenant

        return len(await check_limits(require_tenant()))

    await run_for_each_tenant(mails, reason="billing: usage mails of every shop", actor=SYSTEM)


registry.register_periodic("enforce_billing", enforce_billing, BILLING_INTERVAL_SECONDS)
