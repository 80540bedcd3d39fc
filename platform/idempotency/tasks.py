"""Periodic clean-up of stored API responses: after 24 h an Idempotency-Key is forgotten."""

from __future__ import annotations

from loyalchat.idempotency import service
from loyalchat.tasks import registry
from loyalchat.tasks.broker import actor

PURGE_INTERVAL_SECONDS = 3600


@actor(max_retries=3, time_limit=10 * 60_000)
async def purge_idempotent_requests() -> None:
    """Delete stored responses older than 24 h, for every tenant.

    Retry policy: three tries; the next hourly run removes anything left anyway.
    """
    await service.purge()


registry.register_periodic(
    "purge_idempotent_requests", purge_idempotent_requests, PURGE_INTERVAL_SECONDS
)
