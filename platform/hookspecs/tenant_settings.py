"""Hooks for per-tenant plugin settings."""

from __future__ import annotations

from collections.abc import Callable

from loyalchat.hookimpl import hookspec


@hookspec
def register_tenant_settings(register: Callable[..., None]) -> None:
    """Called when the console shows or saves a tenant's plugin settings.

    Call ``register(*fields)`` with :class:`loyalchat.extensions.settings_fields.SettingField`
    objects (name, label, required, secret, help): the settings a merchant fills in to
    use this plugin. Secret fields are encrypted at rest and masked on display. Plugin
    code reads the values with ``loyalchat.tenants.plugin_settings.runtime_settings()``.
    Return nothing.
    """
