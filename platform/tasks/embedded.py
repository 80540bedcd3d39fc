"""The embedded worker: a Dramatiq ``Worker`` inside the current process.

Used by ``loyalchat serve`` when no Redis is configured (through
:mod:`loyalchat.tasks.runtime`), by tests, and by CLI commands that need actors to run.

Two ways to run actor coroutines:

* ``EmbeddedWorker(loop=web_loop)``: on an event loop that is already running (the web
  server's), so actors share its asyncpg pool. Start it from that loop; stop it from a
  different thread (``await asyncio.to_thread(worker.stop)``), because stopping waits for
  actors that need the loop to make progress.
* ``EmbeddedWorker()``: on a loop thread of its own. Then actors must not use a pool
  opened on another loop: leave the pool closed (every query opens a connection), or
  pass ``manage_pool=True`` so the worker opens and closes the pool on its own loop.

Messages still queued in the in-process broker are lost when the process exits; the rows
they point at stay in a non-final status and the sweeper re-sends them.
"""

from __future__ import annotations

import asyncio
import time
import weakref

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker

from loyalchat.tasks.broker import configured_broker
from loyalchat.tasks.middleware import WORKER_LOOP_ATTR, WORKER_POOL_ATTR

# after_process_boot starts per-broker helper threads (the TimeLimit watchdog): once only.
_booted: weakref.WeakSet[dramatiq.Broker] = weakref.WeakSet()


def _boot_process(broker: dramatiq.Broker) -> None:
    if broker not in _booted:
        _booted.add(broker)
        broker.emit_after("process_boot")


class EmbeddedWorker:
    """An in-process Dramatiq worker; see the module docstring for the loop rules."""

    def __init__(
        self,
        broker: dramatiq.Broker | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        threads: int | None = None,
        worker_timeout_ms: int = 100,
        manage_pool: bool = False,
        queues: set[str] | None = None,
    ) -> None:
        if loop is not None and manage_pool:
            raise ValueError("with an external loop the pool belongs to that loop's owner")
        from loyalchat.settings import get_settings

        self.broker = broker or configured_broker()
        self.loop = loop
        self.threads = threads or get_settings().worker_threads
        self.worker_timeout_ms = worker_timeout_ms
        self.manage_pool = manage_pool
        self.queues = queues
        self.worker: Worker | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self) -> None:
        """Boot the worker threads (and the loop thread when no loop was given)."""
        if self.worker is not None:
            return
        _boot_process(self.broker)
        worker = Worker(
            self.broker,
            queues=self.queues,
            worker_threads=self.threads,
            worker_timeout=self.worker_timeout_ms,
        )
        setattr(worker, WORKER_LOOP_ATTR, self.loop)
        setattr(worker, WORKER_POOL_ATTR, self.manage_pool)
        worker.start()
        self.worker = worker

    def join(self, timeout_s: float = 30.0, *, fail_fast: bool = True) -> None:
        """Wait until every queue is drained and no message is in flight (stub broker only).

        With ``fail_fast`` an actor's exception is re-raised here (``StubBroker.join``).
        Never call it on the external loop's thread.
        """
        if not isinstance(self.broker, StubBroker):
            raise TypeError("join() needs the in-process stub broker")
        deadline = time.monotonic() + timeout_s
        for queue_name in self.broker.get_declared_queues():
            remaining = max(0.001, deadline - time.monotonic())
            self.broker.join(queue_name, timeout=int(remaining * 1000), fail_fast=fail_fast)
        if self.worker is not None:
            self.worker.join()

    def stop(self, timeout_ms: int = 30_000) -> None:
        """Finish in-flight messages and stop every thread. Not from the external loop's thread."""
        worker, self.worker = self.worker, None
        if worker is None:
            return
        try:
            worker.stop(timeout=timeout_ms)
        finally:
            # dramatiq leaves the worker's consumer-spawning middleware on the broker;
            # drop it so a later queue declaration does not wake a stopped worker.
            self.broker.middleware[:] = [
                m for m in self.broker.middleware if getattr(m, "worker", None) is not worker
            ]
