"""What a tenant may use: installed, offered by the platform, enabled by the tenant.

A plugin is per-tenant when it declares settings or registers anything in a per-tenant
family (:mod:`loyalchat.extensions.tenant_plugins`). For each such plugin:

- **installed**: in the plugin manager (not blocked by ``LOYALCHAT_BLOCKED_PLUGINS``);
- **available**: platform admins offer it to every tenant (``PlatformPlugin`` row; no row:
  offered, since installing a plugin is already the operator's choice; admins withdraw it
  on ``/admin/plugins``);
- **enabled**: the tenant turned it on (``TenantPlugin.enabled``; no row: on when it is one
  of :data:`DEFAULT_PLUGINS`).

A tenant uses a plugin only when all three hold. Hosts ask here: rewards (a reward type
that is off cannot be created nor redeemed), the receipt reader (an OCR engine that is off
is never chosen), channel webhooks (:func:`webhook_channel`).

Reads are cached in this process (the redemption path asks on every redemption) and
dropped on every change made through :mod:`loyalchat.tenants.plugin_settings` or
:func:`set_available`; another process sees a change within :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pluggy

from loyalchat import db
from loyalchat.context import require_tenant, reset_tenant, set_tenant
from loyalchat.domain import DomainError
from loyalchat.extensions.base import Registry
from loyalchat.extensions.channels import ChannelAdapter, get_channels
from loyalchat.extensions.ocr import OcrEngine, get_ocr_engines
from loyalchat.extensions.rewards import RewardType, get_reward_types
from loyalchat.extensions.tenant_plugins import get_tenant_plugins
from loyalchat.scoping import scoped_select
from loyalchat.tenants import audit
from loyalchat.tenants.tables import PlatformPlugin, TenantPlugin

# First-party plugins every tenant has on until it says otherwise, so existing shops (and
# the demo) keep their coupons, stored value, OCR engine and receipt parser, and receipts
# sent in the chat earn points.
DEFAULT_PLUGINS = frozenset({"coupon", "stored_value", "rapidocr", "genericparser", "receipts"})
CACHE_SECONDS = 5.0


class PluginDisabled(DomainError):
    """The shop cannot use this plugin: not offered by the platform, or turned off."""

    code = "plugin_disabled"
    status = 422


class PluginNotAvailable(DomainError):
    """The platform does not offer this plugin, so no tenant can turn it on."""

    code = "plugin_not_available"
    status = 422


@dataclass(frozen=True, slots=True)
class _Cached:
    at: float
    rows: Mapping[str, bool]  # plugin -> the stored flag


_platform: dict[str, _Cached] = {}  # one entry, key ""
_tenants: dict[int, _Cached] = {}


def forget(tenant_id: int | None = None) -> None:
    """Drop cached rows: one tenant's, or (``None``) everything, platform choices included."""
    if tenant_id is None:
        _platform.clear()
        _tenants.clear()
    else:
        _tenants.pop(tenant_id, None)


def _fresh(entry: _Cached | None) -> bool:
    return entry is not None and time.monotonic() - entry.at < CACHE_SECONDS


async def _platform_rows() -> Mapping[str, bool]:
    entry = _platform.get("")
    if not _fresh(entry):
        rows = await PlatformPlugin.select(PlatformPlugin.plugin, PlatformPlugin.available)
        entry = _Cached(time.monotonic(), {row["plugin"]: row["available"] for row in rows})
        _platform[""] = entry
    return entry.rows  # type: ignore[union-attr]


async def _tenant_rows(tenant_id: int) -> Mapping[str, bool]:
    entry = _tenants.get(tenant_id)
    if not _fresh(entry):
        rows = await scoped_select(TenantPlugin, TenantPlugin.plugin, TenantPlugin.enabled)
        entry = _Cached(time.monotonic(), {row["plugin"]: row["enabled"] for row in rows})
        _tenants[tenant_id] = entry
    return entry.rows  # type: ignore[union-attr]


# -- platform: what is offered ------------------------------------------------------------


async def availability(pm: pluggy.PluginManager) -> dict[str, bool]:
    """Every per-tenant plugin installed, by name: is it offered to tenants?"""
    rows = await _platform_rows()
    return {name: rows.get(name, True) for name in get_tenant_plugins(pm)}


async def is_available(plugin: str, pm: pluggy.PluginManager) -> bool:
    return (await availability(pm)).get(plugin, False)


async def set_available(plugin: str, available: bool, pm: pluggy.PluginManager) -> bool:
    """A platform admin offers ``plugin`` to every tenant, or withdraws it (audited).

    Withdrawing keeps each tenant's own choice and settings: offering it again restores
    them. Returns whether anything changed; unknown or blocked names are refused.
    """
    if plugin not in get_tenant_plugins(pm):
        raise DomainError(f"unknown plugin {plugin!r}", code="unknown_plugin")
    token = set_tenant(None)  # a platform choice: its audit row belongs to no tenant
    try:
        return await _set_available(plugin, available, pm)
    finally:
        reset_tenant(token)


async def _set_available(plugin: str, available: bool, pm: pluggy.PluginManager) -> bool:
    async with db.write_transaction():
        before = (await availability(pm))[plugin]
        if before == available:
            return False
        now = datetime.now(UTC)
        updated = (
            await PlatformPlugin.update(
                {PlatformPlugin.available: available, PlatformPlugin.updated_at: now}
            )
            .where(PlatformPlugin.plugin == plugin)
            .returning(PlatformPlugin.id)
        )
        if not updated:
            await PlatformPlugin.insert(
                PlatformPlugin(plugin=plugin, available=available, updated_at=now)
            )
        await audit.record(
            "plugin.offer" if available else "plugin.withdraw",
            f"plugin:{plugin}",
            before={"available": before},
            after={"available": available},
        )
    forget()
    return True


# -- one tenant: what it uses --------------------------------------------------------------


def default_enabled(plugin: str) -> bool:
    """Whether a tenant that never chose has ``plugin`` on."""
    return plugin in DEFAULT_PLUGINS


async def enabled_plugins(pm: pluggy.PluginManager) -> frozenset[str]:
    """The plugins the current tenant uses: installed, offered, and enabled."""
    tenant_id = require_tenant()
    offered = await availability(pm)
    chosen = await _tenant_rows(tenant_id)
    return frozenset(
        name
        for name, available in offered.items()
        if available and chosen.get(name, default_enabled(name))
    )


async def is_enabled(plugin: str, pm: pluggy.PluginManager) -> bool:
    return plugin in await enabled_plugins(pm)


async def _usable(registry: Registry[Any], pm: pluggy.PluginManager) -> dict[str, Any]:
    enabled = await enabled_plugins(pm)
    return {name: obj for name, obj in registry.items() if registry.owner(name) in enabled}


async def reward_types(pm: pluggy.PluginManager) -> dict[str, RewardType]:
    """The reward types the current tenant may create and redeem, by kind."""
    return await _usable(get_reward_types(pm), pm)


async def require_reward_type(kind: str, pm: pluggy.PluginManager) -> RewardType:
    """The reward type ``kind`` when the current tenant may use it; else
    :class:`PluginDisabled` (installed but off). Unknown kinds raise ``KeyError``."""
    registry = get_reward_types(pm)
    found = registry[kind]
    plugin = registry.owner(kind)
    if not await is_enabled(plugin, pm):
        raise PluginDisabled(
            f"reward type {kind!r} is not enabled for this shop", kind=kind, plugin=plugin
        )
    return found


async def ocr_engines(pm: pluggy.PluginManager) -> dict[str, OcrEngine]:
    """The OCR engines the current tenant may use, in registry order."""
    return await _usable(get_ocr_engines(pm), pm)


async def choose_ocr_engine(preferred: str | None, pm: pluggy.PluginManager) -> OcrEngine:
    """``preferred`` when the tenant may use it, else the first engine it may use.

    :class:`PluginDisabled` when the tenant may use none (or ``preferred`` is unknown
    and nothing else is on): a disabled engine is never chosen.
    """
    usable = await ocr_engines(pm)
    if preferred and preferred in usable:
        return usable[preferred]
    if usable:
        return next(iter(usable.values()))
    raise PluginDisabled("no OCR engine is enabled for this shop", engine=preferred or "")


async def webhook_channel(kind: str, pm: pluggy.PluginManager) -> ChannelAdapter | None:
    """The channel adapter for a webhook of ``kind`` to the current tenant, or ``None``
    when the tenant does not use it (unknown, withdrawn or off): the route answers 404 and
    hands the adapter nothing."""
    channels = get_channels(pm)
    if kind not in channels:
        return None
    return channels[kind] if await is_enabled(channels.owner(kind), pm) else None
