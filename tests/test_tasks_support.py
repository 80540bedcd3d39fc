"""Shared fixtures and helpers for the task-layer tests (this module holds no tests).

Imported by the task, inbox, sweeper and scheduler tests, and by the separate
``dramatiq`` worker process of ``test_tasks_redis.py``, which loads it for the
``proc-test`` inbound handler below.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator

from loyalchat.inbox.service import InboundEventRow, register_inbound_handler
from loyalchat.settings import Settings
from loyalchat.tasks import import_actors, reset_broker, setup_broker
from loyalchat.tasks.embedded import EmbeddedWorker

PROC_SOURCE = "proc-test"
PROC_KEY_PREFIX = "loyalchat-test:handled:"


async def _record_pid(event: InboundEventRow) -> None:
    """Handler for PROC_SOURCE: note in Redis which process handled the event."""
    import redis

    client = redis.Redis.from_url(os.environ["LOYALCHAT_REDIS_URL"])
    client.set(f"{PROC_KEY_PREFIX}{event.id}", str(os.getpid()), ex=300)
    client.close()


register_inbound_handler(PROC_SOURCE, _record_pid, replace=True)


def use_broker(redis_url: str = "", **settings: object) -> object:
    """A fresh broker for ``redis_url`` (empty: stub) with every core actor declared."""
    reset_broker()
    broker = setup_broker(Settings(redis_url=redis_url, **settings))  # type: ignore[arg-type]
    import_actors()
    return broker


def fresh_stub_broker() -> Iterator[object]:
    """Body of each test module's ``stub_broker`` fixture: the in-process broker, emptied,
    for one test, reset afterwards. (Fixtures are defined per module, not imported.)"""
    broker = use_broker("")
    broker.flush_all()  # type: ignore[attr-defined]
    try:
        yield broker
    finally:
        reset_broker()


async def drain(worker: EmbeddedWorker, *, fail_fast: bool = True) -> None:
    """Start the worker if needed and wait (off this loop) until everything queued is done."""
    if not worker.running:
        worker.start()
    await asyncio.to_thread(worker.join, 20.0, fail_fast=fail_fast)


def queued(broker: object, queue_name: str = "default") -> int:
    """Messages waiting on a stub broker queue."""
    return broker.queues[queue_name].qsize()  # type: ignore[attr-defined]


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0, every_s: float = 0.05
) -> bool:
    """Poll ``check`` until it is true or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(every_s)
    return await check()
