"""Domain events reach plugins through on_event; a failing plugin never breaks the caller."""

from __future__ import annotations

from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import get_plugin_manager
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
    pm = get_plugin_manager()
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
