"""Grant expiry across tenants: what the hourly ``expire_grants`` job runs."""

from __future__ import annotations

from loyalchat.context import Actor
from loyalchat.rewards import service
from loyalchat.tenants.service import run_for_each_tenant


async def expire_all_grants() -> dict[int, int]:
    """Expire issued grants past their expiry in every tenant; counts by tenant."""
    return await run_for_each_tenant(
        service.expire_grants,
        reason="grant expiry runs for every tenant",
        actor=Actor("system", label="grant expiry"),
    )
