"""Per-tenant plugin settings: which plugins a tenant enabled, and their settings.

The only writer of ``TenantPlugin``. Every function works on the current tenant and fails
closed (``NoTenantContext``) without one. Secret fields live encrypted in the ``secrets``
column, never in ``config``; they are masked on display and never written to the audit log.

Tenants see and enable only the plugins the platform offers
(:mod:`loyalchat.tenants.plugin_access`, which also answers "may this tenant use it?").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pluggy

from loyalchat import db
from loyalchat.context import require_tenant
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.extensions.tenant_plugins import get_tenant_plugins
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update
from loyalchat.security import mask, secret_box
from loyalchat.tenants import audit, plugin_access
from loyalchat.tenants.tables import TenantPlugin


class PluginSettingsError(ValueError):
    """A plugin cannot be enabled or its settings saved; ``errors`` maps field -> problem."""

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


@dataclass(frozen=True, slots=True)
class PluginState:
    """What the console shows for one plugin of one tenant. Secrets are masked."""

    plugin: str
    enabled: bool  # the tenant's choice (no choice yet: plugin_access.default_enabled)
    fields: tuple[SettingField, ...]
    values: dict[str, str]  # every declared field; secret ones masked, "" when unset
    missing: tuple[str, ...]  # required fields still empty

    @property
    def configured(self) -> bool:
        return not self.missing


async def list_plugin_states(pm: pluggy.PluginManager) -> list[PluginState]:
    """Every plugin the platform offers the tenant, by name, with its state."""
    require_tenant()
    offered = await plugin_access.availability(pm)
    plugins = get_tenant_plugins(pm)
    rows = {row["plugin"]: row for row in await _rows()}
    return [
        _state(name, fields, rows.get(name))
        for name, fields in plugins.items()
        if offered.get(name)
    ]


async def get_plugin_state(plugin: str, pm: pluggy.PluginManager) -> PluginState:
    require_tenant()
    fields = await _fields(plugin, pm)
    return _state(plugin, fields, await _row(plugin))


async def set_enabled(plugin: str, enabled: bool, pm: pluggy.PluginManager) -> PluginState:
    """Enable or disable ``plugin``; enabling needs its required settings filled in, and a
    plugin the platform does not offer cannot be enabled (nor its settings saved)."""
    tenant_id = require_tenant()
    fields = await _fields(plugin, pm)
    async with db.write_transaction():
        row = await _row(plugin)
        before = _state(plugin, fields, row)
        if enabled and before.missing:
            raise PluginSettingsError(
                f"cannot enable {plugin!r}: required settings missing: "
                + ", ".join(before.missing),
                {name: "required" for name in before.missing},
            )
        if before.enabled == enabled:
            return before
        await _save(plugin, row, enabled=enabled)
        await audit.record(
            f"plugin.{'enable' if enabled else 'disable'}",
            f"plugin:{plugin}",
            before={"enabled": before.enabled},
            after={"enabled": enabled},
        )
    plugin_access.forget(tenant_id)
    return _state(plugin, fields, await _row(plugin))


async def enable_plugin(plugin: str, pm: pluggy.PluginManager) -> PluginState:
    return await set_enabled(plugin, True, pm)


async def disable_plugin(plugin: str, pm: pluggy.PluginManager) -> PluginState:
    return await set_enabled(plugin, False, pm)


async def update_settings(
    plugin: str, values: Mapping[str, Any], pm: pluggy.PluginManager
) -> PluginState:
    """Save submitted settings over the stored ones.

    Unknown fields and non-string values are refused; a required field left empty is
    refused; an empty secret keeps the stored secret. Fields not submitted keep theirs.
    """
    tenant_id = require_tenant()
    fields = {item.name: item for item in await _fields(plugin, pm)}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name not in fields:
            errors[name] = "unknown setting"
        elif not isinstance(value, str):
            errors[name] = "must be text"
    if errors:
        raise PluginSettingsError(_summary(plugin, errors), errors)

    async with db.write_transaction():
        row = await _row(plugin)
        config, secrets = _stored(row)
        new_config, new_secrets = dict(config), dict(secrets)
        for name, raw in values.items():
            value = raw.strip()
            if fields[name].secret:
                if value:  # empty keeps what is stored
                    new_secrets[name] = value
            elif value:
                new_config[name] = value
            else:
                new_config.pop(name, None)
        merged = {**new_config, **new_secrets}
        errors = {
            name: "required"
            for name, item in fields.items()
            if item.required and not merged.get(name)
        }
        if errors:
            raise PluginSettingsError(_summary(plugin, errors), errors)
        new_config = {name: value for name, value in new_config.items() if name in fields}
        new_secrets = {name: value for name, value in new_secrets.items() if name in fields}
        await _save(plugin, row, config=new_config, secrets=new_secrets)
        changed = sorted(name for name in new_secrets if new_secrets[name] != secrets.get(name))
        await audit.record(
            "plugin.settings",
            f"plugin:{plugin}",
            before=dict(config),
            after={**new_config, **({"secrets_changed": ", ".join(changed)} if changed else {})},
        )
    plugin_access.forget(tenant_id)
    return _state(plugin, tuple(fields.values()), await _row(plugin))


async def runtime_settings(plugin: str, pm: pluggy.PluginManager) -> dict[str, str]:
    """The current tenant's settings for ``plugin``, secrets decrypted: for plugin code only.

    Every declared field is present ("" when unset); never log or display the result.
    """
    require_tenant()
    fields = await _fields(plugin, pm)
    config, secrets = _stored(await _row(plugin))
    stored = {**config, **secrets}
    return {item.name: str(stored.get(item.name, "")) for item in fields}


# -- helpers --------------------------------------------------------------------------


async def _fields(plugin: str, pm: pluggy.PluginManager) -> tuple[SettingField, ...]:
    plugins = get_tenant_plugins(pm)
    if plugin in plugins:
        if not await plugin_access.is_available(plugin, pm):
            raise PluginSettingsError(f"plugin {plugin!r} is not offered on this platform")
        return plugins[plugin]
    if pm.is_blocked(plugin):
        raise PluginSettingsError(f"plugin {plugin!r} is blocked on this platform")
    raise PluginSettingsError(f"unknown plugin {plugin!r}")


async def _rows() -> list[dict[str, Any]]:
    return await scoped_select(TenantPlugin).output(load_json=True)


async def _row(plugin: str) -> dict[str, Any] | None:
    return (
        await scoped_select(TenantPlugin)
        .where(TenantPlugin.plugin == plugin)
        .output(load_json=True)
        .first()
    )


def _stored(row: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    if row is None:
        return {}, {}
    config = row["config"]
    if isinstance(config, str):  # a driver that hands JSON back as text
        config = json.loads(config or "{}")
    return config, secret_box().decrypt_json(row["secrets"] or "")


def _state(
    plugin: str, fields: tuple[SettingField, ...], row: dict[str, Any] | None
) -> PluginState:
    config, secrets = _stored(row)
    values = {
        item.name: mask(str(secrets.get(item.name, "")))
        if item.secret
        else str(config.get(item.name, ""))
        for item in fields
    }
    missing = tuple(
        item.name
        for item in fields
        if item.required and not (secrets if item.secret else config).get(item.name)
    )
    enabled = bool(row["enabled"]) if row else plugin_access.default_enabled(plugin)
    return PluginState(plugin, enabled, fields, values, missing)


async def _save(
    plugin: str,
    row: dict[str, Any] | None,
    *,
    enabled: bool | None = None,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> None:
    values: dict[Any, Any] = {TenantPlugin.updated_at: datetime.now(UTC)}
    if enabled is not None:
        values[TenantPlugin.enabled] = enabled
    if config is not None:
        values[TenantPlugin.config] = config
    if secrets is not None:
        values[TenantPlugin.secrets] = secret_box().encrypt_json(secrets)
    if row is None:
        await scoped_insert(
            TenantPlugin,
            new_row(
                TenantPlugin,
                plugin=plugin,
                enabled=plugin_access.default_enabled(plugin) if enabled is None else enabled,
                config=config or {},
                secrets=values.get(TenantPlugin.secrets, ""),
            ),
        )
        return
    await scoped_update(TenantPlugin, values).where(TenantPlugin.id == row["id"])


def _summary(plugin: str, errors: Mapping[str, str]) -> str:
    return f"settings for {plugin!r}: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
