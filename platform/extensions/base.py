"""The host side of every ``register_*`` hook: call, validate, order, reject duplicates."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import pluggy

T = TypeVar("T")

_PROTOCOL_BASES = {object, Protocol, Generic}


class ExtensionError(Exception):
    """A plugin handed over something the host cannot use; the message says which plugin."""


class InvalidExtension(ExtensionError, TypeError):
    """An object does not implement its family's Protocol."""


class DuplicateExtension(ExtensionError):
    """Two registrations claim the same name; the message names both plugins."""


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A webhook request, free of any web framework: what channels and payments verify."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]
    body: bytes  # the raw body, exactly as received (signatures are over these bytes)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class Registry(dict[str, T]):
    """Name -> object, in the order the hooks ran; ``owner(name)`` is the plugin behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, str] = {}

    def owner(self, name: str) -> str:
        return self.owners[name]

    def by_plugin(self, plugin: str) -> list[str]:
        return [name for name, owner in self.owners.items() if owner == plugin]


@dataclass
class _Family(Generic[T]):
    hook: str
    protocol: type
    what: str  # "channel", "OCR engine"... for error messages
    key: str = "name"
    registry: Registry[T] = field(default_factory=Registry)


# Per plugin manager: cache key -> (the hook implementations it was built from, value).
_CACHE: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, tuple[tuple[Any, ...], Any]]]
_CACHE = weakref.WeakKeyDictionary()


def cached(pm: pluggy.PluginManager, key: str, hooks: Sequence[str], build: Callable[[], T]) -> T:
    """``build()`` once per plugin manager, kept until the implementations of ``hooks`` change.

    A plugin registered or unregistered later (tests do) rebuilds the value; otherwise
    every caller gets the same object, so a registry is collected and checked once.
    """
    impls = tuple(impl for hook in hooks for impl in getattr(pm.hook, hook).get_hookimpls())
    entries = _CACHE.setdefault(pm, {})
    found = entries.get(key)
    if found is not None and len(found[0]) == len(impls):
        if all(a is b for a, b in zip(found[0], impls, strict=True)):
            return found[1]
    value = build()
    entries[key] = (impls, value)
    return value


def collect(
    pm: pluggy.PluginManager,
    hook: str,
    protocol: type,
    *,
    what: str,
    key: str = "name",
) -> Registry[Any]:
    """Call ``hook(register=...)`` on every plugin and return what they registered.

    Each object must implement ``protocol`` (every member present, async methods async)
    and carry a non-empty string ``key``; a name registered twice raises
    :class:`DuplicateExtension` naming both plugins. Order: pluggy's call order (use
    ``tryfirst``/``trylast`` to move), then the order each plugin called ``register``.
    Collected once per plugin manager (see :func:`cached`): treat the result as read-only.
    """
    return cached(pm, hook, (hook,), lambda: _collect(pm, hook, protocol, what, key))


def _collect(
    pm: pluggy.PluginManager, hook: str, protocol: type, what: str, key: str
) -> Registry[Any]:
    family: _Family[Any] = _Family(hook, protocol, what, key)
    for plugin, impl in call_order(pm, hook):

        def register(obj: object, _plugin: str = plugin) -> None:
            _add(family, obj, _plugin)

        run_register_hook(impl, plugin, hook, register)
    return family.registry


def call_order(pm: pluggy.PluginManager, hook: str) -> list[tuple[str, Any]]:
    """(plugin name, hookimpl) pairs of ``hook`` in the order pluggy would call them.

    The host calls each implementation itself so it knows which plugin registered what;
    wrappers do not apply to ``register_*`` hooks.
    """
    caller = getattr(pm.hook, hook)
    impls = [
        impl
        for impl in caller.get_hookimpls()
        if not (getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False))
    ]
    return [(impl.plugin_name, impl) for impl in reversed(impls)]


def run_register_hook(impl: Any, plugin: str, hook: str, register: Callable[..., None]) -> None:
    result = impl.function(register=register)
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise InvalidExtension(f"plugin {plugin!r}: {hook}() must call register(), not be async")


def _add(family: _Family[Any], obj: object, plugin: str) -> None:
    problems = protocol_problems(obj, family.protocol)
    if problems:
        raise InvalidExtension(
            f"plugin {plugin!r} registered {obj!r} as a {family.what}, but it does "
            f"not implement {family.protocol.__name__}: {'; '.join(problems)}"
        )
    name = getattr(obj, family.key)
    if not isinstance(name, str) or not name.strip():
        raise InvalidExtension(f"plugin {plugin!r} registered {obj!r} with an empty {family.key!r}")
    registry = family.registry
    if name in registry:
        first = registry.owners[name]
        how = (
            f"twice by plugin {plugin!r}"
            if first == plugin
            else f"by both plugin {first!r} and plugin {plugin!r}"
        )
        raise DuplicateExtension(f"{family.what} {family.key} {name!r} is registered {how}")
    registry[name] = obj
    registry.owners[name] = plugin


def protocol_problems(obj: object, protocol: type) -> list[str]:
    """Why ``obj`` does not implement ``protocol``: missing members, sync-for-async methods."""
    problems: list[str] = []
    for name, member in protocol_members(protocol).items():
        if not hasattr(obj, name):
            problems.append(f"missing {name}")
        elif inspect.iscoroutinefunction(member) and not inspect.iscoroutinefunction(
            getattr(obj, name)
        ):
            problems.append(f"{name}() must be async")
        elif inspect.isfunction(member) and not callable(getattr(obj, name)):
            problems.append(f"{name} must be callable")
    if not problems and not isinstance(obj, protocol):
        problems.append("isinstance() check failed")
    return problems


def protocol_members(protocol: type) -> dict[str, Any]:
    """Attributes and methods a Protocol declares (its own and its Protocol bases')."""
    members: dict[str, Any] = {}
    for cls in reversed(protocol.__mro__):
        if cls in _PROTOCOL_BASES or not getattr(cls, "_is_protocol", False):
            continue
        for name in getattr(cls, "__annotations__", {}):
            members.setdefault(name, None)
        for name, value in vars(cls).items():
            if not name.startswith("_") and callable(value):
                members[name] = value
    return members
