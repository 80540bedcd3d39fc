"""The plugin manager factory. Never built at import time.

Built-in plugins come through the same ``loyalchat`` entry-point group as third-party
ones; ``LOYALCHAT_BLOCKED_PLUGINS`` names plugins that are never loaded.
"""

from __future__ import annotations

import functools

import pluggy
from loyalchat.hookimpl import PROJECT
from loyalchat.settings import Settings, get_settings


def build_plugin_manager(
    settings: Settings | None = None,
    *,
    load_entrypoints: bool | None = None,
    plugins: dict[str, object] | None = None,
) -> pluggy.PluginManager:
    """A new plugin manager with every hookspec added.

    ``plugins`` registers extra plugin objects by name (tests use this with
    ``load_entrypoints=False``). Blocked names are refused before anything is imported.
    """
    from loyalchat import hookspecs

    settings = settings or get_settings()
    pm = pluggy.PluginManager(PROJECT)
    for module in hookspecs.MODULES:
        pm.add_hookspecs(module)
    for name in settings.blocked_plugins:
        pm.set_blocked(name)
    if settings.load_entrypoints if load_entrypoints is None else load_entrypoints:
        pm.load_setuptools_entrypoints(PROJECT)
    for name, plugin in (plugins or {}).items():
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    pm.check_pending()
    return pm


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, built on first use from settings."""
    return build_plugin_manager()


def reset_plugin_manager() -> None:
    get_plugin_manager.cache_clear()
