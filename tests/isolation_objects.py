"""Objects the isolation harness plants in tenant B, by the ``tenant_object`` a route declares.

A route that takes a tenant-owned id in its path sets ``opt={"tenant_object": "<kind>"}``;
add a factory here for each new kind (the harness fails for a kind it cannot make).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.scoping import scoped_select
from loyalchat.tenants import apikeys
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.tables import Role, TenantPlugin

Factory = Callable[[int], Awaitable[int]]


async def _api_key(tenant_id: int) -> int:
    with tenant_context(tenant_id, Actor("system")):
        return (await apikeys.create_key("planted by harness", Role.cashier)).id


class _PlantedPlugin:
    """A plugin named "x" (the name the harness puts in a ``{plugin:str}`` path)."""

    @hookimpl
    def register_tenant_settings(self, register) -> None:
        register(SettingField("token", "Token", secret=True), SettingField("account", "Account"))


async def _tenant_plugin(tenant_id: int) -> int:
    """Tenant B enables plugin "x" with settings; the app's own plugin manager lacks "x",
    so tenant A must get 404 for it and leave B's row alone."""
    pm = build_plugin_manager(load_entrypoints=False, plugins={"x": _PlantedPlugin()})
    with tenant_context(tenant_id, Actor("system")):
        await ps.update_settings("x", {"token": "planted-secret", "account": "planted"}, pm)
        await ps.enable_plugin("x", pm)
        row = await scoped_select(TenantPlugin, TenantPlugin.id).first()
    return row["id"]


FACTORIES: dict[str, Factory] = {
    "api_key": _api_key,
    "tenant_plugin": _tenant_plugin,
}
