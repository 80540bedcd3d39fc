"""Group commit for the inbox on PostgreSQL: the webhooks of one moment stored in one INSERT.

Under load a web process answers dozens of webhooks at once, and one ``INSERT`` each cost
more than all the rest of a webhook together (a round trip, a commit, the pool's turn:
bench/channels.py). :func:`record` queues the event and waits; a flush takes everything
queued in this event loop by then, stores each tenant's share with ONE statement
(``unnest`` of arrays, so one prepared plan whatever the count), and hands every caller
its own ``(event_id, created)``. While one flush runs, the next arrivals wait for the
following one: an idle process flushes a lone webhook at once, a busy one batches.

The guarantees of the one-row insert are kept: the unique index (tenant, source,
provider_key) makes a replay no row (``ON CONFLICT DO NOTHING``), two copies of one key in
one batch make one row and one ``created``, and a row that cannot be stored fails only its
own caller (a failed batch is retried row by row). Nothing is acknowledged before it is
committed: each caller's answer comes after its row's statement.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piccolo.utils.encoding import dump_json

from loyalchat.context import require_tenant, tenant_context
from loyalchat.inbox.tables import InboundEvent
from loyalchat.scoping import scoped_raw

log = logging.getLogger(__name__)

MAX_BATCH = 500  # rows per statement: a flood is stored in several, never one giant one

INSERT_MANY = (
    "INSERT INTO inbound_event (tenant, source, provider_key, payload, status, attempts, "
    "last_error, received_at, updated_at) SELECT {tenant}, t.source, t.key, t.payload::json, "
    "'received', 0, '', {}, {} FROM unnest({}::text[], {}::text[], {}::text[]) "
    "WITH ORDINALITY AS t(source, key, payload, n) ORDER BY t.n "
    "ON CONFLICT DO NOTHING RETURNING id, source, provider_key"
)
EXISTING = (
    "SELECT id, source, provider_key FROM inbound_event WHERE tenant = {tenant} AND "
    "(source, provider_key) IN (SELECT * FROM unnest({}::text[], {}::text[]))"
)

# Called after each tenant's share is stored with the ids it created (in arrival order),
# inside that tenant's context: the queue message(s) for them (inbox.service).
Announce = Callable[[list[int]], Awaitable[None]]


@dataclass(slots=True)
class _Pending:
    tenant: int
    source: str
    key: str
    payload: str
    done: asyncio.Future = field(repr=False)


class _Batcher:
    """The queue and flusher of one event loop."""

    def __init__(self, announce: Announce) -> None:
        self.announce = announce
        self.queue: list[_Pending] = []
        self.flushing = False
        self.task: asyncio.Task | None = None  # the flush running now (kept: tasks are weak)

    async def record(self, source: str, key: str, payload: Any) -> tuple[int, bool]:
        loop = asyncio.get_running_loop()
        item = _Pending(require_tenant(), source, key, dump_json(payload), loop.create_future())
        self.queue.append(item)
        if not self.flushing:
            self.flushing = True
            # A context of its own: never the first caller's transaction (or anything else).
            self.task = loop.create_task(self._flush_all(), context=contextvars.Context())
        return await item.done

    async def _flush_all(self) -> None:
        try:
            await asyncio.sleep(0)  # let the requests already read join this batch
            while self.queue:
                batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
                by_tenant: dict[int, list[_Pending]] = {}
                for item in batch:
                    by_tenant.setdefault(item.tenant, []).append(item)
                try:
                    await asyncio.gather(*(self._store(t, i) for t, i in by_tenant.items()))
                except Exception as exc:  # never leave a caller waiting for an answer
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)
        finally:
            self.flushing = False
            if self.queue:  # arrived between the last check and now
                self.flushing = True
                self.task = asyncio.get_running_loop().create_task(
                    self._flush_all(), context=contextvars.Context()
                )

    async def _store(self, tenant: int, items: list[_Pending]) -> None:
        with tenant_context(tenant):
            try:
                results = await _insert(items)
            except Exception:
                # One bad row must not fail its neighbours: store them one by one.
                results = []
                for item in items:
                    try:
                        results.append((await _insert([item]))[0])
                    except Exception as exc:
                        results.append(exc)
            created = [r[0] for r in results if isinstance(r, tuple) and r[1]]
            if created:
                try:
                    await self.announce(created)
                except Exception:  # stored: the sweeper queues what could not be queued
                    log.warning(
                        "could not queue inbound %s; the sweeper will", created, exc_info=True
                    )
        for item, result in zip(items, results, strict=True):
            if item.done.done():  # the caller went away (a cut connection)
                continue
            if isinstance(result, BaseException):
                item.done.set_exception(result)
            else:
                item.done.set_result(result)


async def _insert(items: list[_Pending]) -> list[tuple[int, bool]]:
    """Each item's ``(event_id, created)``, in order, for the current tenant."""
    now = datetime.now(UTC)
    sources = [item.source for item in items]
    keys = [item.key for item in items]
    payloads = [item.payload for item in items]
    rows = await scoped_raw(InboundEvent, INSERT_MANY, now, now, sources, keys, payloads)
    made = {(row["source"], row["provider_key"]): row["id"] for row in rows}
    missing = [(s, k) for s, k in zip(sources, keys, strict=True) if (s, k) not in made]
    found: dict[tuple[str, str], int] = {}
    if missing:  # replays: the first delivery's rows
        rows = await scoped_raw(
            InboundEvent, EXISTING, [s for s, _ in missing], [k for _, k in missing]
        )
        found = {(row["source"], row["provider_key"]): row["id"] for row in rows}
    results = []
    first: dict[tuple[str, str], int] = {}
    for pair in zip(sources, keys, strict=True):
        if pair in first:  # a second copy in this batch: the first one made or found it
            results.append((first[pair], False))
        elif pair in made:
            results.append((made[pair], True))
        elif pair in found:
            results.append((found[pair], False))
        else:  # pragma: no cover - the conflict implies the row exists
            raise RuntimeError(f"inbound {pair[0]} {pair[1]!r} conflicted but is not there")
        first[pair] = results[-1][0]
    return results


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher] = (
    weakref.WeakKeyDictionary()
)


async def record(source: str, key: str, payload: Any, announce: Announce) -> tuple[int, bool]:
    """Store an event for the current tenant in this loop's next batch; ``(id, created)``."""
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher(announce)
    return await batcher.record(source, key, payload)
