"""Domain events reach plugins through on_event; a failing plugin never breaks the caller."""

from __future__ import annotations

from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus


class Recorder:
    def __init__(self) -> None:
        self.events = []

    @hookimpl
    def on_event(self, event) -> None:
        self.events.append(event)


class Broken:
    @hookimpl
    async def on_event(self, event) -> None:
        raise RuntimeError("integration is down")


async def test_tenant_lifecycle_events_reach_plugins(clean_db) -> None:
    pm = current_plugin_manager()
    recorder, broken = Recorder(), Broken()
    pm.register(recorder, name="test-recorder")
    pm.register(broken, name="test-broken")
    try:
        tenant = await tenants.create_tenant("event-shop", "Event Shop")
        await tenants.set_status(tenant.id, TenantStatus.suspended, "chargeback")
    finally:
        pm.unregister(name="test-recorder")
        pm.unregister(name="test-broken")
    names = [(e.name, e.tenant_id) for e in recorder.events]
    assert names == [("tenant_created", tenant.id), ("tenant_status_changed", tenant.id)]
    change = recorder.events[1].data
    assert (change["from"], change["to"], change["reason"]) == (
        "applying",
        "suspended",
        "chargeback",
    )
    assert (await tenants.get_tenant(tenant.id)).status == "suspended"


async def test_concurrent_status_changes_apply_once(clean_db) -> None:
    import asyncio

    import pytest

    tenant = await tenants.create_tenant("race-shop", "Race Shop", status=TenantStatus.active)
    results = await asyncio.gather(
        *[
            tenants.set_status(
                tenant.id, TenantStatus.suspended, f"admin {n}", only_from={TenantStatus.active}
            )
            for n in range(8)
        ],
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, tenants.StatusConflict) for r in results if isinstance(r, Exception))
    with pytest.raises(tenants.StatusConflict):
        await tenants.set_status(tenant.id, TenantStatus.active, only_from={TenantStatus.rejected})
