"""Dramatiq middleware: the tenant travels with each message; async actors run on the right loop.

``TenantMiddleware`` follows ``dramatiq/middleware/current_message.py``: the current tenant
id is copied into ``message.options["tenant_id"]`` on enqueue and set as the tenant
context variable while the actor runs.

``AsyncIOBridge`` replaces dramatiq's ``AsyncIO`` middleware. Piccolo's asyncpg pool is
bound to the event loop that created it, so an async actor must run on that loop:

* a worker started with an existing loop (the embedded worker inside ``loyalchat serve``)
  runs every actor coroutine on that loop, through ``asyncio.run_coroutine_threadsafe``;
* any other worker gets its own loop thread (dramatiq's behaviour), and with
  ``manage_pool=True`` (``loyalchat worker`` processes) the connection pool is opened on
  that loop at worker boot and closed at worker shutdown.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from typing import Any

from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.middleware import Middleware

from loyalchat.context import current_tenant_id, reset_tenant, set_tenant

TENANT_OPTION = "tenant_id"

# Attribute names a caller sets on a ``dramatiq.Worker`` before ``start()``.
WORKER_LOOP_ATTR = "loyalchat_event_loop"
WORKER_POOL_ATTR = "loyalchat_manage_pool"

log = logging.getLogger(__name__)


class TenantMiddleware(Middleware):
    """Carry the tenant id from the enqueuing context to the actor's run."""

    def __init__(self) -> None:
        # Tokens per worker thread: before/after hooks of one message run on one thread.
        self._local = threading.local()

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        # An explicit tenant_id (the sweeper sends rows of many tenants) wins.
        if TENANT_OPTION not in message.options:
            tenant_id = current_tenant_id()
            if tenant_id is not None:
                message.options[TENANT_OPTION] = tenant_id

    def before_process_message(self, broker: Any, message: Any) -> None:
        tenant_id = message.options.get(TENANT_OPTION)
        # Always set, even to None, so a thread never inherits a previous message's tenant.
        self._local.token = set_tenant(int(tenant_id) if tenant_id is not None else None)

    def after_process_message(
        self, broker: Any, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        token = getattr(self._local, "token", None)
        if token is not None:
            self._local.token = None
            reset_tenant(token)

    after_skip_message = after_process_message


class ExternalLoopThread(EventLoopThread):
    """dramatiq's ``EventLoopThread`` interface over a loop someone else runs.

    Never started or stopped here: the loop belongs to the web server. ``run_coroutine``
    (inherited) submits with ``run_coroutine_threadsafe`` and waits on the worker thread;
    never call an actor synchronously from the loop's own thread (it would deadlock).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, logger: Any) -> None:
        threading.Thread.__init__(self, name="loyalchat-external-loop", daemon=True)
        self.interrupt_check_ival = 0.1
        self.logger = logger
        self.loop = loop

    def start(self, *, timeout: float | None = None) -> None:
        if not self.loop.is_running():
            raise RuntimeError("the external event loop is not running")

    def stop(self) -> None:
        return None


class QuickPolling(Middleware):
    """Idle consumers look for new messages every ``poll_ms`` instead of dramatiq's 1 s.

    An idle Redis consumer backs off up to the worker's timeout between fetches, and a
    photo crosses three queues before its reply (chat message, receipt, reply): at 1 s
    a lone receipt waited about 1.5 s on polling alone. Set before the consumers exist.
    """

    def __init__(self, poll_ms: int = 100) -> None:
        self.poll_ms = poll_ms

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        worker.worker_timeout = min(worker.worker_timeout, self.poll_ms)


class WarmUp(Middleware):
    """Runs the registered warm-ups (``registry.register_warm_up``) of the queues this
    worker consumes, each on a daemon thread, once the worker has booted: the first photo
    after a start does not wait for the OCR models to load (about 2 s)."""

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        from loyalchat.tasks.registry import warm_ups

        wanted = getattr(worker, "consumer_whitelist", None)
        for queue_name, prepare in warm_ups():
            if wanted and queue_name not in wanted:
                continue
            # In the booting thread's context: the plugin manager a test or command set.
            context = contextvars.copy_context()
            threading.Thread(target=context.run, args=(_warm, prepare), daemon=True).start()


def _warm(prepare: Any) -> None:
    name = f"{getattr(prepare, '__module__', '?')}.{getattr(prepare, '__qualname__', prepare)}"
    started = time.perf_counter()
    try:
        prepare()
    except Exception:
        log.warning("warm-up %s failed; its work loads on first use", name, exc_info=True)
        return
    log.info("warm-up %s done in %.1f s", name, time.perf_counter() - started)


class AsyncIOBridge(Middleware):
    """Run async actors on the worker's chosen loop (see the module docstring)."""

    def __init__(self, *, manage_pool: bool = False) -> None:
        self.manage_pool = manage_pool
        self._owned: EventLoopThread | None = None
        self._pool_started = False

    def before_worker_boot(self, broker: Any, worker: Any) -> None:
        loop = getattr(worker, WORKER_LOOP_ATTR, None)
        if loop is not None:
            thread: EventLoopThread = ExternalLoopThread(loop, log)
            thread.start()
        else:
            thread = EventLoopThread(log)
            # Daemon: dramatiq's "kill" path (a second SIGTERM) exits via sys.exit() without
            # stopping the worker; a non-daemon loop thread would keep the process alive.
            thread.daemon = True
            thread.start(timeout=5.0)
            self._owned = thread
        set_event_loop_thread(thread)
        if getattr(worker, WORKER_POOL_ATTR, self.manage_pool):
            from loyalchat import db

            thread.run_coroutine(db.start_pool())
            self._pool_started = True

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        # emit_after runs middleware in reverse: every other middleware is done by now.
        thread = get_event_loop_thread()
        if thread is not None and self._pool_started:
            from loyalchat import db

            self._pool_started = False
            thread.run_coroutine(db.close_pool())
        if self._owned is not None:
            self._owned.stop()
            self._owned = None
        set_event_loop_thread(None)
