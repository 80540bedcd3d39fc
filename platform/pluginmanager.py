"""The plugin manager factory. Never built at import time, nor lazily by a service.

Built-in plugins come through the same ``loyalchat`` entry-point group as third-party
ones; ``LOYALCHAT_BLOCKED_PLUGINS`` names plugins that are never loaded.

The host builds the manager at start (``create_app()``, the worker bootstrap, the CLI)
and passes it: ``app.state.plugins`` and a per-request context, the click context object,
:func:`install_plugin_manager` for the worker process. Code that cannot take it as an
argument (domain events deep inside a service) reads :func:`current_plugin_manager`,
which fails loudly when the host set none.
"""

from __future__ import annotations

import contextlib
import inspect
import types
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

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


class NoPluginManager(RuntimeError):
    """Plugin code was reached with no plugin manager handed in by the host."""


_current: ContextVar[pluggy.PluginManager | None] = ContextVar("loyalchat_plugins", default=None)
_installed: list[pluggy.PluginManager] = []  # install_plugin_manager(); the last one counts


def current_plugin_manager() -> pluggy.PluginManager:
    """The manager the host handed to this request, task or command; never built here."""
    pm = _current.get()
    if pm is None and _installed:
        pm = _installed[-1]
    if pm is None:
        raise NoPluginManager(
            "no plugin manager: the host builds one at start (build_plugin_manager) and "
            "passes it (use_plugin_manager / install_plugin_manager)"
        )
    return pm


@contextlib.contextmanager
def use_plugin_manager(pm: pluggy.PluginManager) -> Iterator[pluggy.PluginManager]:
    """Run a block (a request, a command, a test) with ``pm`` as the current manager."""
    token = _current.set(pm)
    try:
        yield pm
    finally:
        _current.reset(token)


def install_plugin_manager(pm: pluggy.PluginManager) -> None:
    """Make ``pm`` the manager of this process's threads (a worker, the embedded worker),
    until :func:`uninstall_plugin_manager`; the one installed before comes back then."""
    _installed.append(pm)


def uninstall_plugin_manager(pm: pluggy.PluginManager) -> None:
    """Undo :func:`install_plugin_manager` of ``pm``."""
    for index in range(len(_installed) - 1, -1, -1):
        if _installed[index] is pm:
            del _installed[index]
            return


def describe_plugins(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """One dict per registered plugin, by name: where it comes from and the hooks it implements.

    ``distribution``/``version`` come from entry-point metadata when the plugin was loaded
    from one; otherwise ``distribution`` is ``"builtin"`` (a ``loyalchat.*`` module) or
    ``"local"`` (registered in code, e.g. by a test) and ``version`` is None.
    """
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    rows: list[dict[str, Any]] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # a blocked name
            continue
        dist = dists.get(id(plugin))
        if dist is not None:
            distribution, version = dist.project_name, dist.version
        else:
            module = (
                plugin.__name__
                if isinstance(plugin, types.ModuleType)
                else getattr(plugin, "__module__", "")
            )
            distribution = "builtin" if module.startswith("loyalchat.") else "local"
            version = None
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        rows.append(
            {"name": name, "distribution": distribution, "version": version, "hooks": hooks}
        )
    return sorted(rows, key=lambda row: row["name"])


def plugin_asset_dirs(pm: pluggy.PluginManager, kind: str) -> dict[str, Path]:
    """Each plugin's ``templates`` or ``static`` folder, found beside its module.

    A plugin ships ``<package>/templates/<plugin name>/...`` (namespaced, so it cannot
    hide our templates) and ``<package>/static/...`` (served at ``/static/plugins/<name>/``).
    """
    found: dict[str, Path] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        module = plugin if inspect.ismodule(plugin) else inspect.getmodule(type(plugin))
        source = getattr(module, "__file__", None)
        if not source:
            continue
        folder = Path(source).parent / kind
        if folder.is_dir():
            found[name] = folder
    return found
