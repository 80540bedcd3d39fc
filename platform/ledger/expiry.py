"""Expiry across tenants: what the hourly ``expire_points`` job runs."""

from __future__ import annotations

from loyalchat.context import Actor
from loyalchat.ledger import service
from loyalchat.tenants.service import run_for_each_tenant

EXPIRY_ACTOR = Actor("system", label="points expiry")


async def expire_all_tenants() -> dict[int, int]:
    """Run :func:`service.expire_due` for each tenant; returns points expired per tenant.

    Safe to run twice at once: each lot is expired under the key ``expire:<lot>``.
    """
    return await run_for_each_tenant(
        service.expire_due, reason="points expiry runs for every tenant", actor=EXPIRY_ACTOR
    )
