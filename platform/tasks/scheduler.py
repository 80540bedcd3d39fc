"""A small periodic-job runner: sends registered actors every N seconds.

Jobs come from :func:`loyalchat.tasks.registry.register_periodic` (the sweeper registers
itself). Time is cut into wall-clock slots of ``interval_seconds``; a job fires once per
slot. With Redis, a ``SET NX EX`` lock per (job, slot) makes sure that any number of
``loyalchat scheduler`` processes send each job once per slot. Embedded, the serve process
runs the loop as a background task on its event loop (:func:`start_embedded_scheduler`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterable

from loyalchat.tasks import registry

LOCK_PREFIX = "loyalchat:scheduler"
DEFAULT_TICK_SECONDS = 1.0

log = logging.getLogger(__name__)


class Scheduler:
    """Decides which jobs are due and sends them; one instance per scheduler process."""

    def __init__(
        self,
        jobs: Iterable[registry.PeriodicJob] | None = None,
        *,
        redis_client: object | None = None,
        lock_prefix: str = LOCK_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.jobs = list(jobs) if jobs is not None else registry.periodic_jobs()
        self.redis = redis_client
        self.lock_prefix = lock_prefix
        self.clock = clock
        self._last_slot: dict[str, int] = {}
        self._owner = f"{socket.gethostname()}:{os.getpid()}"

    def tick(self, now: float | None = None) -> list[str]:
        """Send every job whose slot changed since the last tick; returns the names sent."""
        now = self.clock() if now is None else now
        sent: list[str] = []
        for job in self.jobs:
            slot = math.floor(now / job.interval_seconds)
            if self._last_slot.get(job.name) == slot:
                continue
            self._last_slot[job.name] = slot
            if not self._acquire(job, slot):
                continue
            job.actor.send_with_options(args=job.args, kwargs=job.kwargs)
            sent.append(job.name)
        return sent

    def _acquire(self, job: registry.PeriodicJob, slot: int) -> bool:
        if self.redis is None:
            return True
        key = f"{self.lock_prefix}:{job.name}:{slot}"
        # Keep the key past the slot's end so a late tick of another scheduler still loses.
        ttl = max(1, math.ceil(job.interval_seconds * 2))
        return bool(self.redis.set(key, self._owner, nx=True, ex=ttl))  # type: ignore[attr-defined]


def redis_client_for(redis_url: str) -> object | None:
    """A Redis client for the scheduler lock, or None when embedded (one process, no lock)."""
    if not redis_url:
        return None
    import redis

    return redis.Redis.from_url(redis_url)


async def run_scheduler(
    stop_event: asyncio.Event,
    *,
    scheduler: Scheduler | None = None,
    tick_seconds: float = DEFAULT_TICK_SECONDS,
) -> None:
    """Tick until ``stop_event`` is set. Errors (Redis down...) are logged, never fatal."""
    if scheduler is None:
        from loyalchat.settings import get_settings

        scheduler = Scheduler(redis_client=redis_client_for(get_settings().redis_url))
    while not stop_event.is_set():
        try:
            # Sending may block on the network (Redis): keep it off the event loop.
            sent = await asyncio.to_thread(scheduler.tick)
            if sent:
                log.debug("scheduler sent %s", ", ".join(sent))
        except Exception:
            log.exception("scheduler tick failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=tick_seconds)


_embedded: tuple[asyncio.Event, asyncio.Task[None]] | None = None


def start_embedded_scheduler(
    scheduler: Scheduler | None = None, *, tick_seconds: float = DEFAULT_TICK_SECONDS
) -> asyncio.Task[None]:
    """Run the scheduler as a task on the running loop (``loyalchat serve``). Idempotent."""
    global _embedded
    if _embedded is not None and not _embedded[1].done():
        return _embedded[1]
    stop_event = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        run_scheduler(stop_event, scheduler=scheduler, tick_seconds=tick_seconds),
        name="loyalchat-scheduler",
    )
    _embedded = (stop_event, task)
    return task


async def stop_embedded_scheduler() -> None:
    """Stop the task :func:`start_embedded_scheduler` started, waiting for its last tick."""
    global _embedded
    if _embedded is None:
        return
    stop_event, task = _embedded
    _embedded = None
    stop_event.set()
    await task
