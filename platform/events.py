"""Domain events, delivered to plugins through the ``on_event`` hook.

The plugin manager is the one the host handed to this request, task or command
(:func:`loyalchat.pluginmanager.current_plugin_manager`); services need not carry it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from loyalchat.context import current_tenant_id
from loyalchat.pluginmanager import current_plugin_manager

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DomainEvent:
    name: str  # member_joined, points_credited, tenant_approved...
    tenant_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


async def emit(name: str, data: dict[str, Any] | None = None, tenant_id: int | None = None) -> None:
    """Tell every plugin; a plugin that raises is logged and never breaks the caller."""
    event = DomainEvent(
        name, tenant_id if tenant_id is not None else current_tenant_id(), data or {}
    )
    hook = current_plugin_manager().hook.on_event
    for impl in reversed(hook.get_hookimpls()):
        try:
            result = impl.function(event=event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("plugin_event_handler_failed", plugin=impl.plugin_name, event_name=name)
