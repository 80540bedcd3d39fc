"""Per-tenant plugin settings: isolation, secrets at rest, masking, validation, audit."""

from __future__ import annotations

import json

import pluggy
import pytest

from loyalchat.context import Actor, NoTenantContext, tenant_context
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.security import secret_box
from loyalchat.settings import Settings
from loyalchat.tenants import plugin_access
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.tables import AuditLog, TenantPlugin
from tests.fakeplugin import FakePlugin
from tests.fixtures import World, make_world

TOKEN = "EAAG-very-secret-access-token-1234"
HOOK_SECRET = "whsec-another-secret-9876"


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return build_plugin_manager(load_entrypoints=False, plugins={"fake": FakePlugin()})


def as_owner(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, world.owner.email))


async def configure(pm: pluggy.PluginManager, token: str = TOKEN) -> ps.PluginState:
    return await ps.update_settings(
        "fake",
        {
            "account_id": "acct-1",
            "access_token": token,
            "greeting": " Welcome! ",
            "webhook_secret": HOOK_SECRET,
        },
        pm,
    )


async def raw_row(tenant_id: int) -> dict:
    rows = await TenantPlugin.raw(
        "SELECT config, secrets FROM tenant_plugin WHERE tenant = {}", tenant_id
    )
    return rows[0]


async def settings_lifecycle(pm: pluggy.PluginManager, a: World, b: World) -> None:
    """The whole story, run on PostgreSQL and once on SQLite."""
    with as_owner(a):
        [state] = await ps.list_plugin_states(pm)
        assert state.plugin == "fake" and not state.enabled
        assert state.missing == ("account_id", "access_token")

        state = await configure(pm)
        assert state.values["greeting"] == "Welcome!"
        assert state.values["access_token"] == "••••••••1234"  # masked on display
        assert TOKEN not in json.dumps(state.values)
        assert state.configured

        state = await ps.enable_plugin("fake", pm)
        assert state.enabled and await plugin_access.is_enabled("fake", pm)
        assert await plugin_access.enabled_plugins(pm) == {"fake"}

    # Encrypted at rest: neither column holds the plaintext, and the app's key opens it.
    row = await raw_row(a.id)
    assert TOKEN not in str(row["config"]) and TOKEN not in row["secrets"]
    assert HOOK_SECRET not in str(row["config"]) and HOOK_SECRET not in row["secrets"]
    config = row["config"] if isinstance(row["config"], dict) else json.loads(row["config"])
    assert config == {"account_id": "acct-1", "greeting": "Welcome!"}
    assert secret_box().decrypt_json(row["secrets"]) == {
        "access_token": TOKEN,
        "webhook_secret": HOOK_SECRET,
    }

    # Tenant B sees none of it and cannot change it.
    with as_owner(b):
        [state] = await ps.list_plugin_states(pm)
        assert not state.enabled and set(state.values.values()) == {""}
        assert await ps.runtime_settings("fake", pm) == {
            "greeting": "",
            "webhook_secret": "",
            "account_id": "",
            "access_token": "",
        }
        assert await plugin_access.enabled_plugins(pm) == set()
        await ps.update_settings("fake", {"account_id": "b-acct", "access_token": "b-tok"}, pm)
        assert (await ps.enable_plugin("fake", pm)).enabled
        assert not (await ps.disable_plugin("fake", pm)).enabled
        assert (await ps.disable_plugin("fake", pm)).enabled is False  # no-op, not audited
        assert (await ps.runtime_settings("fake", pm))["access_token"] == "b-tok"

    with as_owner(a):
        runtime = await ps.runtime_settings("fake", pm)
        assert runtime["access_token"] == TOKEN and runtime["account_id"] == "acct-1"
        assert await plugin_access.is_enabled("fake", pm)

        # An empty secret keeps the stored one; an empty plain value clears it.
        state = await ps.update_settings("fake", {"access_token": "", "greeting": ""}, pm)
        assert state.values["greeting"] == ""
        runtime = await ps.runtime_settings("fake", pm)
        assert runtime["access_token"] == TOKEN and runtime["greeting"] == ""

        await configure(pm, token="rotated-token-5555")
        assert (await ps.runtime_settings("fake", pm))["access_token"] == "rotated-token-5555"

    # No secret ever reaches the audit log.
    audit_rows = await AuditLog.select().where(AuditLog.action.like("plugin.%"))
    assert {row["action"] for row in audit_rows} == {
        "plugin.settings",
        "plugin.enable",
        "plugin.disable",
    }
    dumped = json.dumps(audit_rows, default=str)
    for secret in (TOKEN, HOOK_SECRET, "rotated-token-5555", "b-tok"):
        assert secret not in dumped
    assert "secrets_changed" in dumped


async def test_settings_lifecycle_postgres(
    pm: pluggy.PluginManager, tenant_a: World, tenant_b: World
) -> None:
    await settings_lifecycle(pm, tenant_a, tenant_b)


@pytest.mark.sqlite
async def test_settings_lifecycle_sqlite(pm: pluggy.PluginManager, sqlite_db: object) -> None:
    a = await make_world("alpha-tea")
    b = await make_world("bravo-bakery")
    await settings_lifecycle(pm, a, b)


async def test_no_tenant_context_fails_closed(pm: pluggy.PluginManager, tenant_a: World) -> None:
    with as_owner(tenant_a):
        await configure(pm)
    calls = [
        ps.list_plugin_states(pm),
        ps.get_plugin_state("fake", pm),
        ps.enable_plugin("fake", pm),
        ps.disable_plugin("fake", pm),
        ps.update_settings("fake", {"account_id": "x"}, pm),
        ps.runtime_settings("fake", pm),
        plugin_access.is_enabled("fake", pm),
        plugin_access.enabled_plugins(pm),
    ]
    for call in calls:
        with pytest.raises(NoTenantContext):
            await call


async def test_validation_errors(pm: pluggy.PluginManager, tenant_a: World) -> None:
    with as_owner(tenant_a):
        with pytest.raises(ps.PluginSettingsError) as caught:
            await ps.update_settings("fake", {"account_id": "a", "colour": "red"}, pm)
        assert caught.value.errors == {"colour": "unknown setting"}

        with pytest.raises(ps.PluginSettingsError) as caught:
            await ps.update_settings("fake", {"account_id": "a"}, pm)
        assert caught.value.errors == {"access_token": "required"}

        with pytest.raises(ps.PluginSettingsError) as caught:
            await ps.update_settings("fake", {"account_id": 42, "access_token": "t"}, pm)
        assert caught.value.errors == {"account_id": "must be text"}

        with pytest.raises(ps.PluginSettingsError, match="required settings missing"):
            await ps.enable_plugin("fake", pm)

        with pytest.raises(ps.PluginSettingsError, match="unknown plugin 'nope'"):
            await ps.enable_plugin("nope", pm)

        await configure(pm)
        with pytest.raises(ps.PluginSettingsError) as caught:
            await ps.update_settings("fake", {"account_id": " "}, pm)
        assert caught.value.errors == {"account_id": "required"}

        # Nothing was half-saved by the refused updates.
        assert (await ps.runtime_settings("fake", pm))["account_id"] == "acct-1"
        assert not await plugin_access.is_enabled("fake", pm)


async def test_blocked_plugin_cannot_be_enabled(tenant_a: World) -> None:
    pm = build_plugin_manager(
        Settings(blocked_plugins="fake"), load_entrypoints=False, plugins={"fake": FakePlugin()}
    )
    with as_owner(tenant_a):
        assert await ps.list_plugin_states(pm) == []
        with pytest.raises(ps.PluginSettingsError, match="'fake' is blocked"):
            await ps.enable_plugin("fake", pm)
        with pytest.raises(ps.PluginSettingsError, match="'fake' is blocked"):
            await ps.update_settings("fake", {"account_id": "a"}, pm)


async def test_eventlog_is_not_tenant_enableable(tenant_a: World) -> None:
    pm = build_plugin_manager(Settings(), load_entrypoints=True)
    with as_owner(tenant_a):
        assert "eventlog" not in [state.plugin for state in await ps.list_plugin_states(pm)]
