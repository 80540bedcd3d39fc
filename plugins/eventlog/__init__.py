"""Built-in plugin: writes every domain event to the structured log."""

from __future__ import annotations

import structlog

from loyalchat.hookimpl import hookimpl

log = structlog.get_logger("loyalchat.events")


@hookimpl
def on_event(event) -> None:
    log.info("domain_event", event_name=event.name, tenant_id=event.tenant_id, data=event.data)
