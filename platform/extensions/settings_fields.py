"""Per-tenant plugin settings: the fields a merchant fills in for a plugin.

A plugin declares fields with ``register_tenant_settings``; a channel adapter's
``config_fields`` count too. Which plugins a tenant can enable: those that declare
settings or register anything in a per-tenant family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pluggy

from loyalchat.extensions.base import (
    DuplicateExtension,
    InvalidExtension,
    call_order,
    run_register_hook,
)

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting a merchant fills in; values are strings."""

    name: str  # a key in the plugin's runtime settings: lower_snake_case
    label: str
    required: bool = False
    secret: bool = False  # encrypted at rest, masked on display, never audited
    help: str = ""

    def __post_init__(self) -> None:
        if not FIELD_NAME.match(self.name):
            raise ValueError(f"setting field name {self.name!r}: lower_snake_case, 1-64 chars")


def get_settings_fields(
    pm: pluggy.PluginManager | None = None,
) -> dict[str, tuple[SettingField, ...]]:
    """Plugin name -> the settings fields it declares (own hook plus its channels')."""
    declared: dict[str, dict[str, SettingField]] = {}

    def add(plugin: str, item: object) -> None:
        if not isinstance(item, SettingField):
            raise InvalidExtension(f"plugin {plugin!r} declared {item!r}, not a SettingField")
        fields = declared.setdefault(plugin, {})
        known = fields.get(item.name)
        if known is not None and known != item:
            raise DuplicateExtension(
                f"plugin {plugin!r} declares setting {item.name!r} twice, differently"
            )
        fields[item.name] = item

    for plugin, impl in call_order(pm, "register_tenant_settings"):

        def register(*items: SettingField, _plugin: str = plugin) -> None:
            for item in items:
                add(_plugin, item)

        run_register_hook(impl, plugin, "register_tenant_settings", register)

    from loyalchat.extensions.channels import get_channels

    channels = get_channels(pm)
    for kind, adapter in channels.items():
        for item in adapter.config_fields:
            add(channels.owner(kind), item)
    return {plugin: tuple(fields.values()) for plugin, fields in declared.items()}


def get_tenant_plugins(
    pm: pluggy.PluginManager | None = None,
) -> dict[str, tuple[SettingField, ...]]:
    """Plugins a tenant can enable, by name (sorted), with their settings fields."""
    from loyalchat.extensions.ocr import get_ocr_engines
    from loyalchat.extensions.payments import get_payment_providers
    from loyalchat.extensions.receipts import get_receipt_checks, get_receipt_parsers
    from loyalchat.extensions.rewards import get_reward_types

    found = dict(get_settings_fields(pm))
    for get in (
        get_ocr_engines,
        get_receipt_parsers,
        get_receipt_checks,
        get_reward_types,
        get_payment_providers,
    ):
        for plugin in get(pm).owners.values():
            found.setdefault(plugin, ())
    return dict(sorted(found.items()))
