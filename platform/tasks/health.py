"""Queue figures for the platform-admin health panel: what waits, and what died."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name

from loyalchat.tasks.broker import configured_broker


@dataclass(frozen=True, slots=True)
class QueueFigures:
    waiting: int  # enqueued or delayed, including messages a worker holds but has not acked
    dead: int  # dead-lettered after their retries ran out


def _redis_figures(broker: RedisBroker) -> QueueFigures:
    client = broker.client
    waiting = dead = 0
    for queue in broker.get_declared_queues():
        if queue.endswith(".DQ"):
            continue
        for name in (queue, dq_name(queue)):
            waiting += client.hlen(f"{broker.namespace}:{name}.msgs")
        dead += client.zcard(f"{broker.namespace}:{queue}.XQ")  # a sorted set (dispatch.lua)
    return QueueFigures(waiting, dead)


def _stub_figures(broker: StubBroker) -> QueueFigures:
    waiting = sum(q.qsize() for name, q in broker.queues.items() if not name.endswith(".XQ"))
    dead = sum(len(messages) for messages in broker.dead_letters_by_queue.values())
    return QueueFigures(waiting, dead)


async def queue_figures() -> QueueFigures:
    """Counts from the configured broker (Redis or embedded)."""
    broker = configured_broker()
    if isinstance(broker, RedisBroker):
        return await asyncio.to_thread(_redis_figures, broker)
    return _stub_figures(broker)  # type: ignore[arg-type]
