"""Per-tenant plugin settings: the fields a merchant fills in for a plugin.

A plugin declares fields with ``register_tenant_settings``; a channel adapter's
``config_fields`` count too (:mod:`loyalchat.extensions.tenant_plugins` adds them, and
says which plugins a tenant can enable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pluggy

from loyalchat.extensions.base import (
    DuplicateExtension,
    InvalidExtension,
    cached,
    call_order,
    run_register_hook,
)

HOOK = "register_tenant_settings"
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting a merchant fills in; values are strings.

    ``label``, ``help`` and ``invalid`` are shown through the core i18n (``N_()`` them): a
    string the catalogues lack is shown as written.
    """

    name: str  # a key in the plugin's runtime settings: lower_snake_case
    label: str
    required: bool = False
    secret: bool = False  # encrypted at rest, masked on display, never audited
    help: str = ""
    # What the form says when the value is refused (an ``N_()`` string, or plain text of a
    # plugin without catalogues); "" for the host's own "Check this value."
    invalid: str = ""
    # A text members or staff read (a reward's option such as a coupon's benefit): its
    # value is {zh-Hant, zh-Hans, en} (loyalchat.rewards.text), a plain string accepted.
    localized: bool = False

    def __post_init__(self) -> None:
        if not FIELD_NAME.match(self.name):
            raise ValueError(f"setting field name {self.name!r}: lower_snake_case, 1-64 chars")


def declared_settings(pm: pluggy.PluginManager) -> dict[str, tuple[SettingField, ...]]:
    """Plugin name -> the fields it declares with ``register_tenant_settings`` (collected once).

    A channel's ``config_fields`` are added by :func:`loyalchat.extensions.tenant_plugins.
    get_settings_fields`; this module imports no family.
    """
    return cached(pm, "settings_fields", (HOOK,), lambda: _declared(pm))


def add_field(declared: dict[str, dict[str, SettingField]], plugin: str, item: object) -> None:
    """Add ``item`` to ``plugin``'s fields; a field declared twice differently is refused."""
    if not isinstance(item, SettingField):
        raise InvalidExtension(f"plugin {plugin!r} declared {item!r}, not a SettingField")
    fields = declared.setdefault(plugin, {})
    known = fields.get(item.name)
    if known is not None and known != item:
        raise DuplicateExtension(
            f"plugin {plugin!r} declares setting {item.name!r} twice, differently"
        )
    fields[item.name] = item


def _declared(pm: pluggy.PluginManager) -> dict[str, tuple[SettingField, ...]]:
    declared: dict[str, dict[str, SettingField]] = {}
    for plugin, impl in call_order(pm, HOOK):

        def register(*items: SettingField, _plugin: str = plugin) -> None:
            for item in items:
                add_field(declared, _plugin, item)

        run_register_hook(impl, plugin, HOOK, register)
    return {plugin: tuple(fields.values()) for plugin, fields in declared.items()}
