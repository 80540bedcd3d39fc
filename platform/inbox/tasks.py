"""Inbox actors: process a stored inbound event. Import only after ``setup_broker()``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from loyalchat.context import NoTenantContext
from loyalchat.inbox import batching, service
from loyalchat.inbox.tables import InboundEvent, InboundStatus
from loyalchat.tasks import actor, register_periodic, register_sweepable

log = logging.getLogger(__name__)


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


BATCH_CONCURRENCY = 8  # events of one batch in progress at once (each waits on the database)


@actor(max_retries=0, time_limit=600_000, throws=(NoTenantContext,))
async def process_inbound_events(event_ids: list[int]) -> None:
    """Process events stored together (one webhook batch of a busy moment, one tenant).

    They run side by side, as one message each would on the worker's threads. An event
    whose handler fails goes on as its own ``process_inbound_event`` message after the
    first backoff, so its retries and attempt count are exactly a lone event's; if even
    that cannot be queued, the sweeper finds the row. No retry of the batch itself: every
    event in it is either done, failed, or handed on.
    """
    gate = asyncio.Semaphore(BATCH_CONCURRENCY)

    async def one(event_id: int) -> None:
        async with gate:
            try:
                await service.process_event(event_id)
            except Exception:
                log.warning("inbound event %s failed in a batch; retrying alone", event_id)
                with contextlib.suppress(Exception):
                    process_inbound_event.send_with_options(args=(event_id,), delay=2_000)

    await asyncio.gather(*(one(int(event_id)) for event_id in event_ids[: batching.MAX_BATCH]))


service.set_enqueue(process_inbound_event.send, process_inbound_events.send)

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
