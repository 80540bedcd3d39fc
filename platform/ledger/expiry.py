"""Expiry across tenants: what the hourly ``expire_points`` job runs."""

from __future__ import annotations

import logging

from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.ledger import service
from loyalchat.scoping import unscoped
from loyalchat.tenants.tables import Tenant, TenantStatus

EXPIRY_ACTOR = Actor("system", label="points expiry")

log = logging.getLogger(__name__)


async def expire_all_tenants() -> dict[int, int]:
    """Run :func:`service.expire_due` for each tenant; returns points expired per tenant.

    Safe to run twice at once: each lot is expired under the key ``expire:<lot>``.
    """
    with cross_tenant("points expiry runs for every tenant"):
        tenants = (
            await unscoped(Tenant)
            .select(Tenant.id)
            .where(Tenant.status.is_in([TenantStatus.active.value, TenantStatus.suspended.value]))
        )
    expired: dict[int, int] = {}
    for row in tenants:
        with tenant_context(row["id"], EXPIRY_ACTOR):
            points = await service.expire_due()
        if points:
            expired[row["id"]] = points
            log.info("expired %d points for tenant %d", points, row["id"])
    return expired
