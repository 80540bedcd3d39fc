"""The inbox: one row per provider key (database-enforced), one enqueue per new row, and a
processing actor that is tenant-scoped, idempotent and retries through dramatiq.

Every scenario runs on PostgreSQL and once more on SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest
from dramatiq.brokers.stub import StubBroker

from loyalchat.context import NoTenantContext, tenant_context
from loyalchat.inbox import service
from loyalchat.inbox.service import InboundEventRow, process_event, record_inbound
from loyalchat.inbox.tables import InboundEvent
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import service as tenant_service
from tests.test_tasks_support import drain, fresh_stub_broker, queued


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@dataclass
class Ctx:
    a: int
    b: int
    broker: StubBroker
    worker: EmbeddedWorker


HANDLED: list[InboundEventRow] = []


async def _ok(event: InboundEventRow) -> None:
    HANDLED.append(event)


async def _slow(event: InboundEventRow) -> None:
    HANDLED.append(event)
    await asyncio.sleep(0.2)


async def _broken(event: InboundEventRow) -> None:
    HANDLED.append(event)
    raise ValueError(f"cannot parse {event.provider_key}")


@pytest.fixture(autouse=True)
def _handlers():
    HANDLED.clear()
    for source, handler in (("ok", _ok), ("slow", _slow), ("broken", _broken)):
        service.register_inbound_handler(source, handler, replace=True)
    yield
    for source in ("ok", "slow", "broken"):
        service.unregister_inbound_handler(source)


async def _row(event_id: int) -> dict:
    row = await InboundEvent.select().where(InboundEvent.id == event_id).first()
    assert row is not None
    return row


# -- scenarios (each runs on both databases) ------------------------------------------------


async def replay_returns_existing_row(ctx: Ctx) -> None:
    with tenant_context(ctx.a):
        first = await record_inbound("ok", "wamid.1", {"text": "hi"})
        again = await record_inbound("ok", "wamid.1", {"text": "hi (retry)"})
    assert first[1] is True and again == (first[0], False)
    assert queued(ctx.broker) == 1


async def concurrent_deliveries_make_one_row_and_one_message(ctx: Ctx) -> None:
    with tenant_context(ctx.a):
        results = await asyncio.gather(
            *(record_inbound("ok", "wamid.race", {"n": n}) for n in range(20))
        )
    assert len({event_id for event_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert await InboundEvent.count().where(InboundEvent.provider_key == "wamid.race") == 1
    assert queued(ctx.broker) == 1


async def worker_processes_event_once(ctx: Ctx) -> None:
    with tenant_context(ctx.a):
        event_id, _ = await record_inbound("ok", "wamid.2", {"text": "積分"})
    await drain(ctx.worker)
    row = await _row(event_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("done", 1, "")
    assert row["processed_at"] is not None
    assert [(e.id, e.tenant_id, e.payload) for e in HANDLED] == [
        (event_id, ctx.a, {"text": "積分"})
    ]
    # A duplicate message (redelivery, sweeper) is a no-op on a final row.
    from loyalchat.inbox.tasks import process_inbound_event

    with tenant_context(ctx.a):
        process_inbound_event.send(event_id)
    await drain(ctx.worker)
    assert len(HANDLED) == 1 and (await _row(event_id))["attempts"] == 1


async def unknown_source_fails_with_reason(ctx: Ctx) -> None:
    with tenant_context(ctx.a):
        event_id, _ = await record_inbound("nosuch", "k1", {})
    await drain(ctx.worker)
    row = await _row(event_id)
    assert (row["status"], row["last_error"]) == ("failed", "no handler for source nosuch")


async def handler_error_retries_then_fails(ctx: Ctx) -> None:
    with tenant_context(ctx.a):
        event_id, _ = await record_inbound("broken", "k2", {})
        with pytest.raises(ValueError, match="cannot parse k2"):
            await process_event(event_id)
        row = await _row(event_id)
        assert (row["status"], row["attempts"]) == ("received", 1)
        assert row["last_error"] == "ValueError: cannot parse k2"
        for _ in range(service.MAX_ATTEMPTS - 2):
            with pytest.raises(ValueError):
                await process_event(event_id)
        assert await process_event(event_id) == "failed"  # the last attempt does not raise
        assert await process_event(event_id) == "final"
    row = await _row(event_id)
    assert (row["status"], row["attempts"]) == ("failed", service.MAX_ATTEMPTS)
    assert len(HANDLED) == service.MAX_ATTEMPTS


async def dramatiq_retries_until_failed(ctx: Ctx) -> None:
    from loyalchat.inbox.tasks import process_inbound_event

    with tenant_context(ctx.a):
        event_id, _ = await record_inbound("broken", "k5", {})
        ctx.broker.flush_all()  # resend with millisecond backoffs instead of seconds
        process_inbound_event.send_with_options(args=(event_id,), min_backoff=5, max_backoff=10)
    await drain(ctx.worker)  # the last attempt marks the row failed and does not raise
    row = await _row(event_id)
    assert (row["status"], row["attempts"]) == ("failed", service.MAX_ATTEMPTS)
    assert row["last_error"] == "ValueError: cannot parse k5"
    assert len(HANDLED) == service.MAX_ATTEMPTS


async def two_concurrent_runs_handle_once(ctx: Ctx) -> None:
    with tenant_context(ctx.a):
        event_id, _ = await record_inbound("slow", "k3", {})
        outcomes = await asyncio.gather(process_event(event_id), process_event(event_id))
    assert sorted(outcomes) == ["done", "in_progress"]
    assert len(HANDLED) == 1


async def other_tenants_event_is_invisible(ctx: Ctx) -> None:
    with tenant_context(ctx.b):
        b_id, _ = await record_inbound("ok", "same-key", {"who": "b"})
    with tenant_context(ctx.a):
        a_id, created = await record_inbound("ok", "same-key", {"who": "a"})
        assert created and a_id != b_id  # unique per tenant, not global
        assert await process_event(b_id) == "not_found"
        assert await service.get_event(b_id) is None
    await drain(ctx.worker)  # processes a_id and b_id, each under its own tenant
    assert sorted((e.tenant_id, e.payload["who"]) for e in HANDLED) == [(ctx.a, "a"), (ctx.b, "b")]
    # A message naming B's id under A's tenant finds nothing and changes nothing.
    from loyalchat.inbox.tasks import process_inbound_event

    with tenant_context(ctx.a):
        process_inbound_event.send(b_id)
    await drain(ctx.worker)
    assert (await _row(b_id))["attempts"] == 1 and len(HANDLED) == 2


async def no_tenant_is_refused(ctx: Ctx) -> None:
    with pytest.raises(NoTenantContext):
        await record_inbound("ok", "k4", {})
    with pytest.raises(NoTenantContext):
        await process_event(1)


SCENARIOS: list[Callable[[Ctx], Awaitable[None]]] = [
    replay_returns_existing_row,
    concurrent_deliveries_make_one_row_and_one_message,
    worker_processes_event_once,
    unknown_source_fails_with_reason,
    handler_error_retries_then_fails,
    dramatiq_retries_until_failed,
    two_concurrent_runs_handle_once,
    other_tenants_event_is_invisible,
    no_tenant_is_refused,
]


def _ids(scenario: Callable) -> str:
    return scenario.__name__


@pytest.fixture
def paused_worker(stub_broker: StubBroker) -> EmbeddedWorker:
    """A worker that is started lazily by the scenario's drain (keeps queue counts exact)."""
    return EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
async def test_inbox_postgres(scenario, stub_broker, paused_worker) -> None:
    await _run(scenario, stub_broker, paused_worker)


@pytest.mark.sqlite
@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
async def test_inbox_sqlite(scenario, sqlite_db, stub_broker, paused_worker) -> None:
    await _run(scenario, stub_broker, paused_worker)


async def _run(
    scenario: Callable[[Ctx], Awaitable[None]], broker: StubBroker, worker: EmbeddedWorker
) -> None:
    # Plain tenants (no staff accounts: password hashing would dominate the run time).
    a = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
    b = await tenant_service.create_tenant("bravo-bakery", "Bravo Bakery")
    try:
        await scenario(Ctx(a.id, b.id, broker, worker))
    finally:
        await asyncio.to_thread(worker.stop)
