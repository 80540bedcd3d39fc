"""The task layer inside the web process: what the Litestar lifespan calls.

    async def lifespan(app):
        await db.start_pool(settings=settings)
        runtime.start(settings, embedded=settings.embedded_queue)  # on the web loop
        try:
            yield
        finally:
            await runtime.stop()  # before the pool closes: actors may still be using it
            await db.close_pool()

``start`` always sets up the broker and imports the actors (web handlers enqueue). With
``embedded`` it also runs an :class:`~loyalchat.tasks.embedded.EmbeddedWorker` whose actors
run on the web server's event loop (and so share its connection pool), and the periodic
scheduler as a task on that loop. With Redis and ``embedded=False`` the web process only
enqueues; ``loyalchat worker`` and ``loyalchat scheduler`` do the rest.
"""

from __future__ import annotations

import asyncio
import logging

from loyalchat.settings import Settings, get_settings
from loyalchat.tasks.broker import broker_kind as _broker_kind
from loyalchat.tasks.broker import import_actors, setup_broker
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tasks.scheduler import (
    Scheduler,
    redis_client_for,
    start_embedded_scheduler,
    stop_embedded_scheduler,
)

log = logging.getLogger(__name__)

_worker: EmbeddedWorker | None = None


def start(settings: Settings | None = None, *, embedded: bool | None = None) -> None:
    """Set up the broker and actors; with ``embedded``, start worker and scheduler.

    Call it from a coroutine running on the web server's loop. ``embedded`` defaults to
    ``settings.embedded_queue`` (no Redis configured).
    """
    global _worker
    settings = settings or get_settings()
    setup_broker(settings)
    import_actors()
    if embedded is None:
        embedded = settings.embedded_queue
    if not embedded or _worker is not None:
        return
    loop = asyncio.get_running_loop()
    worker = EmbeddedWorker(loop=loop, threads=settings.worker_threads)
    worker.start()
    _worker = worker
    start_embedded_scheduler(Scheduler(redis_client=redis_client_for(settings.redis_url)))
    log.info("embedded worker started (%d threads)", worker.threads)


async def stop() -> None:
    """Stop the scheduler task and the embedded worker (if started). Safe to call twice."""
    global _worker
    await stop_embedded_scheduler()
    worker, _worker = _worker, None
    if worker is not None:
        # Off the loop: stopping waits for in-flight actors, which need this loop to finish.
        await asyncio.to_thread(worker.stop)


def embedded_worker() -> EmbeddedWorker | None:
    """The running embedded worker, if any (health checks, tests)."""
    return _worker


def broker_kind() -> str:
    """``"redis"`` or ``"embedded"``."""
    return _broker_kind()
