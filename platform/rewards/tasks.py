"""Periodic rewards work: grants past their expiry become ``expired``, for every tenant."""

from __future__ import annotations

from loyalchat.rewards.expiry import expire_all_grants
from loyalchat.tasks import registry
from loyalchat.tasks.broker import actor

EXPIRY_INTERVAL_SECONDS = 3600


@actor(max_retries=3, time_limit=30 * 60_000)
async def expire_grants() -> None:
    """Retry policy: three tries; the next hourly run catches up anyway."""
    await expire_all_grants()


registry.register_periodic("expire_grants", expire_grants, EXPIRY_INTERVAL_SECONDS)
