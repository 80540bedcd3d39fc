"""Events arriving together on PostgreSQL: stored by one statement, queued by one message,
and still each stored once, answered truthfully and processed once (inbox.batching)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from dramatiq.brokers.stub import StubBroker

from loyalchat.context import tenant_context
from loyalchat.inbox import service
from loyalchat.inbox.service import InboundEventRow, record_inbound
from loyalchat.inbox.tables import InboundEvent
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import service as tenant_service
from tests.test_tasks_support import drain, fresh_stub_broker, queued, wait_for

HANDLED: list[InboundEventRow] = []


async def _ok(event: InboundEventRow) -> None:
    HANDLED.append(event)


async def _broken(event: InboundEventRow) -> None:
    HANDLED.append(event)
    raise ValueError(f"cannot parse {event.provider_key}")


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@pytest.fixture
def worker(stub_broker: StubBroker) -> Iterator[EmbeddedWorker]:
    worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
    yield worker
    worker.stop()


@pytest.fixture(autouse=True)
def _handlers():
    HANDLED.clear()
    service.register_inbound_handler("ok", _ok, replace=True)
    service.register_inbound_handler("broken", _broken, replace=True)
    yield
    service.unregister_inbound_handler("ok")
    service.unregister_inbound_handler("broken")


async def _statuses(tenant: int) -> dict[str, tuple[str, int]]:
    rows = await InboundEvent.select(
        InboundEvent.provider_key, InboundEvent.status, InboundEvent.attempts
    ).where(InboundEvent.tenant == tenant)
    return {row["provider_key"]: (row["status"], row["attempts"]) for row in rows}


async def test_a_burst_is_stored_once_queued_once_and_processed_once(
    stub_broker: StubBroker, worker: EmbeddedWorker
) -> None:
    shop = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
    with tenant_context(shop.id):
        earlier, created = await record_inbound("ok", "wamid.earlier", {"n": -1})
        assert created
        stub_broker.flush_all()  # its own message is not what this test counts
        keys = [f"wamid.{n}" for n in range(30)] + ["wamid.earlier"] * 3 + ["wamid.twice"] * 2
        results = await asyncio.gather(*(record_inbound("ok", key, {"key": key}) for key in keys))
    by_key: dict[str, list[tuple[int, bool]]] = {}
    for key, result in zip(keys, results, strict=True):
        by_key.setdefault(key, []).append(result)
    # A replay of a stored event is that event, not created; two copies: one created.
    assert by_key["wamid.earlier"] == [(earlier, False)] * 3
    assert sorted(created for _, created in by_key["wamid.twice"]) == [False, True]
    assert len({event_id for event_id, _ in by_key["wamid.twice"]}) == 1
    assert all(by_key[f"wamid.{n}"][0][1] for n in range(30))
    assert await InboundEvent.count().where(InboundEvent.tenant == shop.id) == 32
    assert queued(stub_broker) == 1  # the 31 new events travel in one message
    await drain(worker)
    handled = sorted(event.provider_key for event in HANDLED)
    assert handled == sorted([f"wamid.{n}" for n in range(30)] + ["wamid.twice"])
    assert {event.tenant_id for event in HANDLED} == {shop.id}
    statuses = await _statuses(shop.id)
    assert statuses.pop("wamid.earlier") == ("received", 0)  # its message was dropped above
    assert set(statuses.values()) == {("done", 1)}


async def test_two_tenants_in_one_moment_each_get_their_own_rows(
    stub_broker: StubBroker, worker: EmbeddedWorker
) -> None:
    a = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
    b = await tenant_service.create_tenant("bravo-bakery", "Bravo Bakery")

    async def deliver(tenant: int, key: str) -> tuple[int, bool]:
        with tenant_context(tenant):
            return await record_inbound("ok", key, {"for": tenant})

    pairs = [(a.id, f"k{n}") for n in range(10)] + [(b.id, f"k{n}") for n in range(10)]
    results = await asyncio.gather(*(deliver(tenant, key) for tenant, key in pairs))
    assert all(created for _, created in results)  # the same key in two shops: two events
    assert len({event_id for event_id, _ in results}) == 20
    await drain(worker)
    assert sorted((e.tenant_id, e.provider_key) for e in HANDLED) == sorted(pairs)
    assert all(e.payload == {"for": e.tenant_id} for e in HANDLED)


async def test_a_row_that_cannot_be_stored_fails_alone(
    stub_broker: StubBroker, worker: EmbeddedWorker
) -> None:
    shop = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
    with tenant_context(shop.id):
        results = await asyncio.gather(
            *(record_inbound("ok", f"good-{n}", {}) for n in range(5)),
            record_inbound("ok", "x" * 300, {}),  # longer than the column allows
            return_exceptions=True,
        )
    assert isinstance(results[-1], asyncpg.exceptions.StringDataRightTruncationError)
    assert all(isinstance(r, tuple) and r[1] for r in results[:-1])
    await drain(worker)
    assert sorted(e.provider_key for e in HANDLED) == [f"good-{n}" for n in range(5)]


async def test_a_failing_event_in_a_batch_is_retried_alone(
    stub_broker: StubBroker, worker: EmbeddedWorker
) -> None:
    shop = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")
    with tenant_context(shop.id):
        await asyncio.gather(
            *(record_inbound("ok", f"good-{n}", {}) for n in range(4)),
            record_inbound("broken", "bad", {}),
        )
    assert queued(stub_broker) == 1
    worker.start()

    async def settled() -> bool:
        statuses = await _statuses(shop.id)
        return statuses.get("bad", ("", 0))[1] == 1 and all(
            statuses[f"good-{n}"] == ("done", 1) for n in range(4)
        )

    assert await wait_for(settled)
    status, attempts = (await _statuses(shop.id))["bad"]
    assert (status, attempts) == ("received", 1)  # back in the inbox, not lost, not failed
    # Its retry is its own delayed message: the single-event actor runs it again (and
    # keeps the attempt count on the row); the others are not run twice.

    async def retried() -> bool:
        return (await _statuses(shop.id))["bad"][1] >= 2

    assert await wait_for(retried)
    assert sorted(e.provider_key for e in HANDLED if e.provider_key != "bad") == [
        f"good-{n}" for n in range(4)
    ]


async def test_a_callers_transaction_is_its_own(
    stub_broker: StubBroker, worker: EmbeddedWorker
) -> None:
    """An event recorded inside a transaction commits or rolls back with it, and a batch
    running at the same moment never joins that transaction."""
    from loyalchat import db

    shop = await tenant_service.create_tenant("alpha-tea", "Alpha Tea")

    class Abandoned(Exception):
        pass

    async def inside() -> None:
        with pytest.raises(Abandoned):
            async with db.current_engine().transaction():
                await record_inbound("ok", "in-the-transaction", {})
                await asyncio.sleep(0.05)  # the batch below runs meanwhile
                raise Abandoned

    with tenant_context(shop.id):
        await asyncio.gather(
            inside(), *(record_inbound("ok", f"outside-{n}", {}) for n in range(5))
        )
    statuses = await _statuses(shop.id)
    assert sorted(statuses) == [f"outside-{n}" for n in range(5)]  # rolled back alone
