"""The inbox service: store every inbound event once, then process it through its handler.

``record_inbound`` is what webhook routes call after verifying a signature: the row is
the source of truth, its unique index (tenant, source, provider_key) makes a provider's
retry a no-op, and only a new row gets a queue message. ``process_event`` is the body of
the ``process_inbound_event`` actor. This module is the only writer of ``inbound_event``.

The actor module (``inbox.tasks``) depends on this one, not the other way round: when it is
imported (after the broker exists) it hands its actor's ``send`` to :func:`set_enqueue`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq.errors
import redis.exceptions
from piccolo.query.functions.aggregate import Count
from piccolo.utils.encoding import dump_json

from loyalchat.context import cross_tenant, require_tenant
from loyalchat.db import current_engine, database_is_sqlite
from loyalchat.inbox import batching
from loyalchat.inbox.tables import FINAL_STATUSES, InboundEvent, InboundStatus
from loyalchat.scoping import scoped_raw, scoped_select, unscoped
from loyalchat.settings import get_settings
from loyalchat.tasks import claims

# Runs of one event (all causes: dramatiq retries, sweeper re-sends) before it is failed.
MAX_ATTEMPTS = 5
ERROR_MAX_CHARS = 2000

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InboundEventRow:
    """What a handler gets: a snapshot of the stored event (handlers never write the row)."""

    id: int
    tenant_id: int
    source: str
    provider_key: str
    payload: Any = field(default_factory=dict)
    attempts: int = 0


InboundHandler = Callable[[InboundEventRow], Awaitable[None]]

_handlers: dict[str, InboundHandler] = {}
# ``process_inbound_event.send``, set by inbox.tasks (see set_enqueue).
_enqueue: Callable[[int], object] | None = None
_enqueue_many: Callable[[list[int]], object] | None = None


def register_inbound_handler(
    source: str, handler: InboundHandler, *, replace: bool = False
) -> None:
    """Route events of ``source`` (e.g. ``"whatsapp"``) to ``async handler(event_row)``.

    A handler raises to ask for a retry; it must be safe to run twice for one event.
    """
    if source in _handlers and _handlers[source] is not handler and not replace:
        raise ValueError(f"an inbound handler for {source!r} is already registered")
    _handlers[source] = handler


def unregister_inbound_handler(source: str) -> None:
    _handlers.pop(source, None)


def inbound_handler(source: str) -> InboundHandler | None:
    return _handlers.get(source)


# One statement for a new event: Piccolo's insert builder (a Table instance, every column's
# default, the query string) was a sixth of a webhook's time (bench/channels.py). The
# unique index (tenant, source, provider_key) turns a retry into no row, not an error.
INSERT_EVENT = (
    "INSERT INTO inbound_event (tenant, source, provider_key, payload, status, attempts, "
    "last_error, received_at, updated_at) VALUES ({tenant}, {}, {}, {}, 'received', 0, '', "
    "{}, {}) ON CONFLICT DO NOTHING RETURNING id"
)


async def record_inbound(source: str, provider_key: str, payload: Any) -> tuple[int, bool]:
    """Store an inbound event for the current tenant; returns ``(event_id, created)``.

    The insert relies on the unique index (no check-then-insert): concurrent deliveries of
    one provider key make one row, and only its creator queues it for processing. On
    PostgreSQL the events arriving together outside a transaction share one statement and
    one queue message (:mod:`loyalchat.inbox.batching`). If the queue is unreachable the
    row stays ``received`` and the sweeper sends it later.
    """
    require_tenant()
    engine = current_engine()
    if not database_is_sqlite(engine) and engine.current_transaction.get() is None:
        return await batching.record(source, provider_key, payload, _send_process)
    # SQLite, or inside the caller's transaction (the row commits or rolls back with it):
    # one statement of its own.
    now = datetime.now(UTC)
    inserted = await scoped_raw(
        InboundEvent, INSERT_EVENT, source, provider_key, dump_json(payload), now, now
    )
    if not inserted:  # a replay: the first delivery's row
        existing = (
            await scoped_select(InboundEvent, InboundEvent.id)
            .where((InboundEvent.source == source) & (InboundEvent.provider_key == provider_key))
            .first()
        )
        if existing is None:  # pragma: no cover - the conflict implies the row exists
            raise RuntimeError(f"inbound {source} {provider_key!r} conflicted but is not there")
        return existing["id"], False
    event_id = inserted[0]["id"]
    await _send_process([event_id])
    return event_id, True


def set_enqueue(
    send: Callable[[int], object], send_many: Callable[[list[int]], object] | None = None
) -> None:
    """Queue a new event with ``send(event_id)`` (the ``process_inbound_event`` actor's)
    and several stored together with ``send_many(event_ids)`` (``process_inbound_events``).

    Called by ``inbox.tasks`` when ``import_actors()`` imports it, in every process that
    records events (web app, worker, tests), so this module never imports its actors.
    """
    global _enqueue, _enqueue_many
    _enqueue, _enqueue_many = send, send_many


async def _send_process(event_ids: list[int]) -> None:
    if _enqueue is None:
        # No actor declared in this process (import_actors() not run): the rows stay
        # ``received`` and the sweeper sends them, as when the queue is unreachable.
        log.warning("no inbox actor in this process; the sweeper will send %s", event_ids)
        return
    try:
        # Off the event loop: a Redis enqueue is network I/O. to_thread copies the tenant.
        if len(event_ids) == 1 or _enqueue_many is None:
            for event_id in event_ids:
                await asyncio.to_thread(_enqueue, event_id)
        else:
            await asyncio.to_thread(_enqueue_many, event_ids)
    except (dramatiq.errors.BrokerError, redis.exceptions.RedisError, OSError):
        log.warning("could not enqueue inbound %s; the sweeper will", event_ids, exc_info=True)


async def process_event(event_id: int) -> str:
    """Process one event of the current tenant; returns what happened.

    ``"done"``, ``"failed"`` (no handler, or attempts exhausted), or a no-op:
    ``"not_found"`` (unknown id or another tenant's), ``"final"``, ``"in_progress"``.
    A handler exception below ``MAX_ATTEMPTS`` puts the row back to ``received`` with
    ``last_error`` and is re-raised so dramatiq retries.
    """
    require_tenant()
    # Of two concurrent runs, exactly one gets the row (tasks.claims).
    claimed = await claims.claim(
        InboundEvent,
        event_id,
        ready=InboundStatus.received.value,
        working=InboundStatus.processing.value,
        returning=(
            InboundEvent.id,
            InboundEvent.tenant,
            InboundEvent.source,
            InboundEvent.provider_key,
            InboundEvent.payload,
            InboundEvent.attempts,
        ),
    )
    if claimed is None:
        return await _why_not_claimed(event_id)
    event = _snapshot(claimed)
    handler = _handlers.get(event.source)
    if handler is None:
        await _finish(event_id, InboundStatus.failed, f"no handler for source {event.source}")
        log.error("inbound event %s failed: no handler for source %s", event_id, event.source)
        return InboundStatus.failed.value
    try:
        await handler(event)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
        if event.attempts >= MAX_ATTEMPTS:
            await _finish(event_id, InboundStatus.failed, error)
            log.error(
                "inbound event %s failed after %d attempts: %s", event_id, event.attempts, error
            )
            return InboundStatus.failed.value
        await _mark(event_id, {InboundEvent.status: InboundStatus.received.value}, error)
        raise
    await _finish(event_id, InboundStatus.done, "")
    return InboundStatus.done.value


def _snapshot(row: dict[str, Any]) -> InboundEventRow:
    payload = row["payload"]
    if isinstance(payload, str | bytes):
        import json

        payload = json.loads(payload or "{}")
    return InboundEventRow(
        id=row["id"],
        tenant_id=row["tenant"],
        source=row["source"],
        provider_key=row["provider_key"],
        payload=payload,
        attempts=row["attempts"],
    )


async def _why_not_claimed(event_id: int) -> str:
    row = (
        await scoped_select(InboundEvent, InboundEvent.status)
        .where(InboundEvent.id == event_id)
        .first()
    )
    if row is None:
        return "not_found"
    return "final" if row["status"] in FINAL_STATUSES else "in_progress"


async def _finish(event_id: int, status: InboundStatus, error: str) -> None:
    await _mark(
        event_id,
        {InboundEvent.status: status.value, InboundEvent.processed_at: datetime.now(UTC)},
        error,
    )


async def _mark(event_id: int, values: dict, error: str) -> None:
    # Only while this run holds the row: if the sweeper took it back, its new run decides.
    values = {**values, InboundEvent.last_error: error}
    await claims.update_held(InboundEvent, event_id, InboundStatus.processing.value, values)


async def get_event(event_id: int) -> dict[str, Any] | None:
    """The stored event of the current tenant, as a dict (None for unknown or foreign ids)."""
    return (
        await scoped_select(InboundEvent)
        .where(InboundEvent.id == event_id)
        .output(load_json=True)
        .first()
    )


async def platform_counts(since: datetime) -> dict[str, int]:
    """CROSS-TENANT: inbound events per status received since ``since`` (admin health).

    Callers hold ``cross_tenant()``; the block here keeps the bypass visible on the spot.
    """
    with cross_tenant("platform admin health: inbound events of every tenant"):
        table = unscoped(InboundEvent)
        rows = await (
            table.select(table.status, Count(table.id, alias="n"))
            .where(table.received_at >= since)
            .group_by(table.status)
        )
    return {row["status"]: row["n"] for row in rows}


async def purge_processed(now: datetime | None = None, *, batch_size: int = 1000) -> int:
    """Delete events processed (done or failed) more than ``inbox_retention_days`` ago, in
    every tenant; returns how many went. Rows still waiting are never touched.

    Batches keep each DELETE short, so webhooks inserting meanwhile never wait long.
    """
    days = get_settings().inbox_retention_days
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    gone = 0
    with cross_tenant("inbox retention: processed events of every tenant"):
        table = unscoped(InboundEvent)
        expired = table.status.is_in(list(FINAL_STATUSES)) & (table.processed_at < cutoff)
        while True:
            batch = await table.select(table.id).where(expired).limit(batch_size)
            if not batch:
                return gone
            ids = [row["id"] for row in batch]
            # The status test again: a row is only ever deleted in a final state.
            deleted = await table.delete().where(table.id.is_in(ids) & expired).returning(table.id)
            gone += len(deleted)
            if len(batch) < batch_size:
                return gone
