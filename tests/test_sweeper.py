"""The sweeper re-sends rows stuck in a non-final status, with the row's tenant, once per
period, and leaves final and fresh rows alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dramatiq.brokers.stub import StubBroker

from loyalchat.context import tenant_context
from loyalchat.inbox import service
from loyalchat.inbox.service import InboundEventRow, record_inbound
from loyalchat.inbox.tables import InboundEvent
from loyalchat.tasks import registry
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import service as tenant_service
from tests.test_tasks_support import drain, fresh_stub_broker, queued


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


SOURCE = "sweep-test"


async def sweep_once() -> dict[str, int]:
    # Actor modules are imported only once a broker exists (the stub_broker fixture).
    from loyalchat.tasks.sweeper import sweep_once as sweep

    return await sweep()


HANDLED: list[tuple[int, int]] = []


async def _handle(event: InboundEventRow) -> None:
    HANDLED.append((event.id, event.tenant_id))


@pytest.fixture(autouse=True)
def _handler():
    HANDLED.clear()
    service.register_inbound_handler(SOURCE, _handle, replace=True)
    yield
    service.unregister_inbound_handler(SOURCE)


async def _event(tenant_id: int, key: str, *, status: str, age_s: float) -> int:
    with tenant_context(tenant_id):
        event_id, _ = await record_inbound(SOURCE, key, {})
    await InboundEvent.update(
        {
            InboundEvent.status: status,
            InboundEvent.updated_at: datetime.now(UTC) - timedelta(seconds=age_s),
        },
        use_auto_update=False,
    ).where(InboundEvent.id == event_id)
    return event_id


async def _world(broker: StubBroker) -> dict[str, tuple[int, int]]:
    a = (await tenant_service.create_tenant("alpha-tea", "Alpha Tea")).id
    b = (await tenant_service.create_tenant("bravo-bakery", "Bravo Bakery")).id
    rows = {
        "stuck_received": (await _event(a, "k1", status="received", age_s=3600), a),
        "stuck_processing": (await _event(b, "k2", status="processing", age_s=3600), b),
        "fresh_received": (await _event(a, "k3", status="received", age_s=5), a),
        "old_done": (await _event(a, "k4", status="done", age_s=3600), a),
        "old_failed": (await _event(b, "k5", status="failed", age_s=3600), b),
    }
    broker.flush_all()  # forget the messages record_inbound sent: they are "lost"
    return rows


def _sent(broker: StubBroker) -> list[tuple[str, tuple, int | None]]:
    out = []
    while not broker.queues["default"].empty():
        message = json.loads(broker.queues["default"].get_nowait())
        broker.queues["default"].task_done()
        out.append((message["actor_name"], tuple(message["args"]), message["options"]["tenant_id"]))
    return sorted(out)


def test_inbox_registers_itself(stub_broker: StubBroker) -> None:
    spec = {s.key: s for s in registry.sweepables()}["inbound_event"]
    assert spec.actor.actor_name == "process_inbound_event"
    assert set(spec.stuck_statuses) == {"received", "processing"}


async def test_sweep_resends_only_stuck_rows_with_their_tenant(stub_broker: StubBroker) -> None:
    rows = await _world(stub_broker)
    assert (await sweep_once())["inbound_event"] == 2
    expected = sorted(
        ("process_inbound_event", (rows[name][0],), rows[name][1])
        for name in ("stuck_received", "stuck_processing")
    )
    assert _sent(stub_broker) == expected
    # The claim touched them: the next sweep (a minute later) leaves them alone.
    assert (await sweep_once())["inbound_event"] == 0
    stuck = await InboundEvent.select(InboundEvent.status).where(
        InboundEvent.id == rows["stuck_processing"][0]
    )
    assert stuck == [{"status": "received"}]  # a dead run's row is handed back


async def test_concurrent_sweepers_send_each_row_once(stub_broker: StubBroker) -> None:
    await _world(stub_broker)
    results = await asyncio.gather(*(sweep_once() for _ in range(4)))
    assert sum(r["inbound_event"] for r in results) == 2
    assert queued(stub_broker) == 2


async def test_sweep_actor_gets_stuck_rows_processed(stub_broker: StubBroker) -> None:
    rows = await _world(stub_broker)
    from loyalchat.tasks.sweeper import sweep_stuck

    sweep_stuck.send()
    worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
    try:
        await drain(worker)  # starts it now that the world is in place
    finally:
        await asyncio.to_thread(worker.stop)
    assert sorted(HANDLED) == sorted([rows["stuck_received"], rows["stuck_processing"]])
    statuses = dict(
        (r["id"], r["status"])
        for r in await InboundEvent.select(InboundEvent.id, InboundEvent.status)
    )
    assert statuses[rows["stuck_received"][0]] == statuses[rows["stuck_processing"][0]] == "done"
    assert statuses[rows["fresh_received"][0]] == "received"
    assert statuses[rows["old_failed"][0]] == "failed"
