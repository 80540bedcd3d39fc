"""Periodic ledger work: expire points whose lots are past their expiry, for every tenant."""

from __future__ import annotations

from loyalchat.ledger.expiry import expire_all_tenants
from loyalchat.tasks import registry
from loyalchat.tasks.broker import actor

EXPIRY_INTERVAL_SECONDS = 3600


@actor(max_retries=3, time_limit=30 * 60_000)
async def expire_points() -> None:
    """Retry policy: three tries; the next hourly run picks up anything left anyway."""
    await expire_all_tenants()


registry.register_periodic("expire_points", expire_points, EXPIRY_INTERVAL_SECONDS)
