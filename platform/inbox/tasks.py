"""Inbox actors: process a stored inbound event. Import only after ``setup_broker()``."""

from __future__ import annotations

from loyalchat.context import NoTenantContext
from loyalchat.inbox import service
from loyalchat.inbox.tables import InboundEvent, InboundStatus
from loyalchat.tasks import actor, register_periodic, register_sweepable


@actor(
    max_retries=service.MAX_ATTEMPTS - 1,
    min_backoff=2_000,
    max_backoff=60_000,
    # Well under sweep_after_seconds, so the sweeper never takes a live run for a dead one.
    time_limit=120_000,
    throws=(NoTenantContext,),  # a message without a tenant will never succeed: no retry
)
async def process_inbound_event(event_id: int) -> None:
    """Run the source's handler on inbound event ``event_id`` of the message's tenant.

    Retry policy: up to ``MAX_ATTEMPTS`` runs (counted on the row), backoff 2 s .. 60 s,
    then the row is marked ``failed``. Idempotent: a final row, a row another run holds,
    or another tenant's id is a no-op.
    """
    await service.process_event(event_id)


service.set_enqueue(process_inbound_event.send)

# Rows left in received/processing (lost message, killed worker) are re-sent by the sweeper.
register_sweepable(
    InboundEvent,
    InboundEvent.status,
    (InboundStatus.received.value, InboundStatus.processing.value),
    InboundEvent.updated_at,
    process_inbound_event,
    reset_status=InboundStatus.received.value,
)


PURGE_INTERVAL_SECONDS = 3600


@actor(max_retries=3, time_limit=10 * 60_000)
async def purge_inbound_events() -> None:
    """Delete inbound events processed longer ago than ``inbox_retention_days``.

    Retry policy: three tries; the next hourly run removes anything left anyway.
    """
    await service.purge_processed()


register_periodic("purge_inbound_events", purge_inbound_events, PURGE_INTERVAL_SECONDS)
