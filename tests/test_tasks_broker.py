"""The broker is built from settings, actors never bind to a default broker, and the tenant
travels from the enqueuing context into the actor's run (StubBroker + in-process worker)."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from loyalchat.context import current_tenant_id, tenant_context
from loyalchat.settings import Settings
from loyalchat.tasks import (
    BrokerNotConfigured,
    actor,
    configured_broker,
    import_actors,
    reset_broker,
    setup_broker,
)
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tasks.middleware import TENANT_OPTION, AsyncIOBridge, TenantMiddleware
from tests.test_tasks_support import drain, fresh_stub_broker


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@pytest.fixture
def stub_worker(stub_broker: StubBroker) -> Iterator[EmbeddedWorker]:
    """A running embedded worker with its own loop thread."""
    worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


SEEN: list[tuple[str, int | None]] = []


@functools.cache
def probes() -> tuple[dramatiq.Actor, dramatiq.Actor]:
    """Test actors, declared once (after a broker exists) and re-bound on every reset."""

    @actor(actor_name="test_tenant_probe", max_retries=0)
    async def tenant_probe(label: str) -> None:
        SEEN.append((label, current_tenant_id()))

    @actor(actor_name="test_failing_probe", max_retries=0)
    async def failing_probe(label: str) -> None:
        SEEN.append((label, current_tenant_id()))
        raise RuntimeError(f"boom {label}")

    return tenant_probe, failing_probe


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    SEEN.clear()


def test_actor_module_import_without_broker_is_refused() -> None:
    """A fresh interpreter: importing an actor module before setup fails loudly."""
    code = textwrap.dedent(
        """
        import dramatiq.broker
        try:
            import loyalchat.inbox.tasks
        except Exception as exc:
            print(type(exc).__name__)
        print(dramatiq.broker.global_broker)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert out.stdout.split() == ["BrokerNotConfigured", "None"], out.stderr


def test_actor_decorator_refuses_without_setup() -> None:
    reset_broker()
    with pytest.raises(BrokerNotConfigured):

        @actor
        async def orphan() -> None:  # pragma: no cover - never declared
            return None

    assert dramatiq.broker.global_broker is None
    # dramatiq's own decorator is what the guard protects against: it would bind here.
    setup_broker()


def test_setup_picks_broker_from_settings(redis_url: str) -> None:
    reset_broker()
    stub = setup_broker(Settings(redis_url=""))
    assert isinstance(stub, StubBroker)
    assert setup_broker(Settings(redis_url=redis_url)) is stub  # idempotent until reset
    reset_broker()
    redis_broker = setup_broker(Settings(redis_url=redis_url))
    try:
        assert isinstance(redis_broker, RedisBroker)
        assert redis_broker.namespace == "loyalchat"
        kinds = [type(m) for m in redis_broker.middleware]
        assert TenantMiddleware in kinds and AsyncIOBridge in kinds
        assert AsyncIO not in kinds  # our bridge replaces dramatiq's loop thread
    finally:
        reset_broker()
        setup_broker(Settings(redis_url=""))


def test_every_actor_is_bound_to_our_broker(stub_broker: StubBroker) -> None:
    names = import_actors()
    assert {"process_inbound_event", "sweep_stuck"} <= set(names)
    probes()
    assert dramatiq.get_broker() is stub_broker is configured_broker()
    for name in stub_broker.get_declared_actors():
        assert stub_broker.get_actor(name).broker is stub_broker


async def test_tenant_travels_from_enqueue_to_actor(
    stub_broker: StubBroker,
    stub_worker: EmbeddedWorker,
) -> None:
    tenant_probe, _ = probes()
    with tenant_context(101):
        message = tenant_probe.send("a")
    with tenant_context(202):
        tenant_probe.send("b")
        tenant_probe.send_with_options(args=("explicit",), **{TENANT_OPTION: 303})
    tenant_probe.send("none")
    assert message.options[TENANT_OPTION] == 101
    await drain(stub_worker)
    assert sorted(SEEN) == [("a", 101), ("b", 202), ("explicit", 303), ("none", None)]
    assert current_tenant_id() is None


async def test_tenant_is_reset_after_a_failure(stub_broker: StubBroker) -> None:
    tenant_probe, failing_probe = probes()
    worker = EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50)  # one thread: reuse
    worker.start()
    try:
        with tenant_context(7):
            failing_probe.send("fails")
        with pytest.raises(RuntimeError, match="boom fails"):
            await drain(worker)
        stub_broker.dead_letters_by_queue.clear()
        tenant_probe.send("after")
        await drain(worker)
    finally:
        worker.stop()
    assert SEEN == [("fails", 7), ("after", None)]
