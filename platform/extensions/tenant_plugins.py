"""The plugins a tenant can enable, and the families their objects belong to.

A plugin is per-tenant when it declares settings or registers anything in a per-tenant
family (channels, OCR engines, receipt parsers and checks, reward types, payment
providers). This module is the one place that imports every family; each family module
imports only :mod:`loyalchat.extensions.base` (and ``settings_fields`` for ``SettingField``).
Everything here is computed once per plugin manager (:func:`~loyalchat.extensions.base.cached`).
"""

from __future__ import annotations

import pluggy

from loyalchat.extensions.base import Registry, cached
from loyalchat.extensions.channels import get_channels
from loyalchat.extensions.ocr import get_ocr_engines
from loyalchat.extensions.payments import get_payment_providers
from loyalchat.extensions.receipts import get_receipt_checks, get_receipt_parsers
from loyalchat.extensions.rewards import get_reward_types
from loyalchat.extensions.settings_fields import (
    HOOK as SETTINGS_HOOK,
)
from loyalchat.extensions.settings_fields import (
    SettingField,
    add_field,
    declared_settings,
)

# family -> (hook, how to collect it)
FAMILIES = {
    "channels": ("register_channels", get_channels),
    "ocr_engines": ("register_ocr_engines", get_ocr_engines),
    "receipt_parsers": ("register_receipt_parsers", get_receipt_parsers),
    "receipt_checks": ("register_receipt_checks", get_receipt_checks),
    "reward_types": ("register_reward_types", get_reward_types),
    "payment_providers": ("register_payment_providers", get_payment_providers),
}
_HOOKS = (SETTINGS_HOOK, *(hook for hook, _ in FAMILIES.values()))


def get_settings_fields(pm: pluggy.PluginManager) -> dict[str, tuple[SettingField, ...]]:
    """Plugin name -> the settings fields it declares (own hook plus its channels')."""
    return cached(pm, "settings_fields+channels", _HOOKS, lambda: _settings_fields(pm))


def get_tenant_plugins(pm: pluggy.PluginManager) -> dict[str, tuple[SettingField, ...]]:
    """Plugins a tenant can enable, by name (sorted), with their settings fields."""
    return cached(pm, "tenant_plugins", _HOOKS, lambda: _tenant_plugins(pm))


def family_registries(pm: pluggy.PluginManager) -> dict[str, Registry[object]]:
    """Family name (``reward_types``...) -> its registry, each collected once."""
    return {family: get(pm) for family, (_, get) in FAMILIES.items()}


def _settings_fields(pm: pluggy.PluginManager) -> dict[str, tuple[SettingField, ...]]:
    declared: dict[str, dict[str, SettingField]] = {
        plugin: {item.name: item for item in fields}
        for plugin, fields in declared_settings(pm).items()
    }
    channels = get_channels(pm)
    for kind, adapter in channels.items():
        for item in adapter.config_fields:
            add_field(declared, channels.owner(kind), item)
    return {plugin: tuple(fields.values()) for plugin, fields in declared.items()}


def _tenant_plugins(pm: pluggy.PluginManager) -> dict[str, tuple[SettingField, ...]]:
    found = dict(get_settings_fields(pm))
    for registry in family_registries(pm).values():
        for plugin in registry.owners.values():
            found.setdefault(plugin, ())
    return dict(sorted(found.items()))
