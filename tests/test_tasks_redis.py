"""The tenant travels through a real RedisBroker (redis db 15), to an in-process worker and
to a separate ``dramatiq loyalchat.tasks.bootstrap`` worker process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from loyalchat.context import tenant_context
from loyalchat.inbox import service
from loyalchat.inbox.service import InboundEventRow, record_inbound
from loyalchat.inbox.tables import InboundEvent
from loyalchat.tasks import reset_broker
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tasks.middleware import TENANT_OPTION
from loyalchat.tenants import service as tenant_service
from tests.test_tasks_support import PROC_KEY_PREFIX, PROC_SOURCE, use_broker, wait_for

REPO = Path(__file__).resolve().parents[1]
SOURCE = "redis-test"
HANDLED: list[tuple[int, int]] = []


async def _handle(event: InboundEventRow) -> None:
    HANDLED.append((event.id, event.tenant_id))


def _flush(client: redis.Redis) -> None:
    for pattern in ("loyalchat:*", f"{PROC_KEY_PREFIX}*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


@pytest.fixture
def redis_broker(redis_url: str) -> Iterator[object]:
    """Our broker on redis db 15, with our namespace flushed before and after."""
    client = redis.Redis.from_url(redis_url)
    _flush(client)
    HANDLED.clear()
    service.register_inbound_handler(SOURCE, _handle, replace=True)
    broker = use_broker(redis_url)
    try:
        yield broker
    finally:
        service.unregister_inbound_handler(SOURCE)
        reset_broker()
        _flush(client)
        client.close()
        use_broker("")


async def _status(event_id: int) -> str:
    row = await InboundEvent.select(InboundEvent.status).where(InboundEvent.id == event_id).first()
    return row["status"]


async def test_tenant_travels_through_redis_to_an_in_process_worker(redis_broker) -> None:
    a = (await tenant_service.create_tenant("alpha-tea", "Alpha Tea")).id
    b = (await tenant_service.create_tenant("bravo-bakery", "Bravo Bakery")).id
    with tenant_context(a):
        a_id, _ = await record_inbound(SOURCE, "k1", {})
    with tenant_context(b):
        b_id, _ = await record_inbound(SOURCE, "k1", {})
    worker = EmbeddedWorker(redis_broker, threads=2)  # type: ignore[arg-type]
    worker.start()
    try:

        async def both_done() -> bool:
            return [await _status(a_id), await _status(b_id)] == ["done", "done"]

        assert await wait_for(both_done, timeout_s=10)
    finally:
        await asyncio.to_thread(worker.stop)
    assert sorted(HANDLED) == sorted([(a_id, a), (b_id, b)])


async def test_message_in_redis_carries_the_tenant(redis_broker, redis_url: str) -> None:
    a = (await tenant_service.create_tenant("alpha-tea", "Alpha Tea")).id
    with tenant_context(a):
        await record_inbound(SOURCE, "k2", {})
    client = redis.Redis.from_url(redis_url)
    messages = client.hvals("loyalchat:default.msgs")
    client.close()
    assert len(messages) == 1
    assert f'"{TENANT_OPTION}":{a}'.encode() in messages[0].replace(b" ", b"")


def _start_worker_process(redis_url: str, pg_url: str, log_path: Path) -> subprocess.Popen:
    """``dramatiq`` on our bootstrap, plus the test module with the PROC_SOURCE handler."""
    env = {
        **os.environ,
        "LOYALCHAT_REDIS_URL": redis_url,
        "LOYALCHAT_DATABASE_URL": pg_url,
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "dramatiq", "loyalchat.tasks.bootstrap"]
    command += ["tests.test_tasks_support", "-p", "1", "-t", "1"]
    with log_path.open("wb") as log:
        # A file, not a pipe: a full pipe would block the worker's logging.
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


async def test_separate_worker_process_processes_the_event(
    redis_broker, redis_url, pg_url, tmp_path
) -> None:
    tenant = (await tenant_service.create_tenant("alpha-tea", "Alpha Tea")).id
    log_path = tmp_path / "worker.log"
    process = _start_worker_process(redis_url, pg_url, log_path)
    try:
        with tenant_context(tenant):
            event_id, created = await record_inbound(PROC_SOURCE, "wamid.proc", {"n": 1})
        assert created

        async def done() -> bool:
            return await _status(event_id) == "done" or process.poll() is not None

        assert await wait_for(done, timeout_s=25, every_s=0.1)
        assert process.poll() is None, log_path.read_text()
        client = redis.Redis.from_url(redis_url)
        handled_by = client.get(f"{PROC_KEY_PREFIX}{event_id}")
        client.close()
        assert handled_by is not None and int(handled_by) != os.getpid()
        row = await InboundEvent.select().where(InboundEvent.id == event_id).first()
        assert (row["status"], row["attempts"], row["tenant"]) == ("done", 1, tenant)
    finally:
        _terminate(process)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # the dramatiq main process forwards it to its workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
