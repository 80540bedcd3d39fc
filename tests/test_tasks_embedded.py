"""The embedded worker runs actor coroutines on an event loop that is already running (the
web server's), so they can use the connection pool bound to that loop; and the runtime
API the app lifespan calls starts and stops worker and scheduler."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from dramatiq.brokers.stub import StubBroker
from piccolo.engine.postgres import PostgresEngine

from loyalchat import db
from loyalchat.context import tenant_context
from loyalchat.inbox import service
from loyalchat.inbox.service import InboundEventRow, record_inbound
from loyalchat.inbox.tables import InboundEvent
from loyalchat.settings import Settings
from loyalchat.tasks import runtime
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import service as tenant_service
from tests.test_tasks_support import drain, fresh_stub_broker, wait_for


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


SOURCE = "embedded-test"
RUNS: list[tuple[asyncio.AbstractEventLoop, int, int]] = []


async def _handle(event: InboundEventRow) -> None:
    # Touch the database from inside the actor (through the pool, when one is open).
    count = await InboundEvent.count().where(InboundEvent.tenant == event.tenant_id)
    RUNS.append((asyncio.get_running_loop(), threading.get_ident(), count))


@pytest.fixture(autouse=True)
def _handler():
    RUNS.clear()
    service.register_inbound_handler(SOURCE, _handle, replace=True)
    yield
    service.unregister_inbound_handler(SOURCE)


async def _status(event_id: int) -> str:
    row = await InboundEvent.select(InboundEvent.status).where(InboundEvent.id == event_id).first()
    return row["status"]


async def test_actors_run_on_the_existing_loop_with_its_pool(stub_broker: StubBroker) -> None:
    engine = db.current_engine()
    assert isinstance(engine, PostgresEngine)
    await db.start_pool(engine)  # bound to this loop, like the web server's pool
    worker = EmbeddedWorker(stub_broker, loop=asyncio.get_running_loop(), threads=2)
    try:
        tenant = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
        with tenant_context(tenant.id):
            ids = [(await record_inbound(SOURCE, f"k{n}", {}))[0] for n in range(3)]
        await drain(worker)
    finally:
        await asyncio.to_thread(worker.stop)
        await db.close_pool(engine)
    assert [await _status(event_id) for event_id in ids] == ["done"] * 3
    loop = asyncio.get_running_loop()
    assert [(run_loop, ident) for run_loop, ident, _ in RUNS] == [(loop, threading.get_ident())] * 3
    assert all(count == 3 for _, _, count in RUNS)


async def test_own_loop_thread_when_no_loop_is_given(stub_broker: StubBroker) -> None:
    worker = EmbeddedWorker(stub_broker, threads=1)
    try:
        tenant = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
        with tenant_context(tenant.id):
            event_id, _ = await record_inbound(SOURCE, "own-loop", {})
        await drain(worker)
    finally:
        await asyncio.to_thread(worker.stop)
    assert await _status(event_id) == "done"
    assert RUNS[0][0] is not asyncio.get_running_loop()


async def test_runtime_start_and_stop_on_the_web_loop(stub_broker: StubBroker) -> None:
    settings = Settings(redis_url="")
    runtime.start(settings, embedded=True)
    try:
        assert runtime.broker_kind() == "embedded"
        worker = runtime.embedded_worker()
        assert worker is not None and worker.loop is asyncio.get_running_loop()
        runtime.start(settings, embedded=True)  # idempotent
        assert runtime.embedded_worker() is worker
        tenant = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
        with tenant_context(tenant.id):
            event_id, _ = await record_inbound(SOURCE, "via-runtime", {})

        async def done() -> bool:
            return await _status(event_id) == "done"

        assert await wait_for(done, timeout_s=10)
    finally:
        await runtime.stop()
        await runtime.stop()  # safe twice
    assert runtime.embedded_worker() is None
