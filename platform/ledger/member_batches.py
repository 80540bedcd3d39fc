"""One member's concurrent writes share one transaction: one row lock, one commit.

A member's points are changed under the member's row lock, held until the commit. When
many requests write to the same member at once (a member redeeming from two phones, a
cashier double-tapping, a script crediting one account), each transaction waits for the
one before it to commit, and the commits, not the work, set the pace. So within a
process, a write for a member that already has a transaction under way joins a queue,
and one runner task does the queued writes one after another in a single transaction,
taking the lock once and committing once for all of them.

Each write is still all or nothing. When one fails (a refusal, a unique violation, a
deadlock), the runner rolls the transaction back, hands that write its error, and does
the writes that had succeeded before it again in a fresh transaction, so nothing of a
failed write is committed and nothing of a good one is lost. A write's result reaches
its caller only once its transaction has committed. A caller that goes away before its
write ran is skipped. At most ``MAX_PER_TRANSACTION`` writes share a transaction, so the
lock is never held for long.

PostgreSQL only, and only outside a caller's transaction (SQLite serializes writers
anyway): :func:`run` falls back to a transaction of its own on SQLite, and to a savepoint
inside a caller's transaction, so the write is all or nothing there too.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loyalchat import db
from loyalchat.context import require_tenant

T = TypeVar("T")

MAX_PER_TRANSACTION = 32

# Per event loop: (engine, tenant id, member id) -> the queue its runner is working on.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, _Queue]] = (
    weakref.WeakKeyDictionary()
)
_runners: set[asyncio.Task] = set()  # strong references until each runner ends


@dataclass
class _Write:
    work: Callable[[], Awaitable[Any]]
    context: contextvars.Context
    result: asyncio.Future


@dataclass
class _Queue:
    writes: deque[_Write] = field(default_factory=deque)


class _Failed(Exception):
    """Raised inside the transaction to roll it back when one write failed."""

    def __init__(self, write: _Write, error: BaseException) -> None:
        self.write, self.error = write, error


async def run(member_id: int, work: Callable[[], Awaitable[T]]) -> T:
    """``await work()`` in a write transaction that holds the member's writes, and return
    its result once committed. ``work`` runs in the caller's context (tenant, actor) and
    must do all its writes through the current transaction."""
    engine = db.current_engine()
    outer = engine.current_transaction.get()
    if outer is not None:
        return await _in_savepoint(outer, work)
    if db.database_is_sqlite():
        async with db.write_transaction():
            return await work()
    loop = asyncio.get_running_loop()
    queues = _queues.setdefault(loop, {})
    key = (engine, require_tenant(), member_id)
    write = _Write(work, contextvars.copy_context(), loop.create_future())
    queue = queues.get(key)
    if queue is None:
        queue = queues[key] = _Queue()
        runner = loop.create_task(_drain(queues, key, queue, engine))
        _runners.add(runner)
        runner.add_done_callback(_runners.discard)
    queue.writes.append(write)
    return await write.result


async def _in_savepoint(transaction: Any, work: Callable[[], Awaitable[T]]) -> T:
    """``work()`` inside the caller's transaction, still all or nothing: a savepoint is
    rolled back when it fails, so a refused write leaves nothing behind for the caller's
    commit (nor a grant row a retry would take for an earlier, committed request)."""
    savepoint = await transaction.savepoint()
    try:
        result = await work()
    except BaseException:
        await savepoint.rollback_to()
        raise
    await savepoint.release()
    return result


async def _drain(queues: dict[tuple, _Queue], key: tuple, queue: _Queue, engine: Any) -> None:
    """Do the queue's writes, up to MAX_PER_TRANSACTION a transaction, until it is empty."""
    try:
        while queue.writes:
            done: list[tuple[_Write, Any]] = []
            running: _Write | None = None
            try:
                async with db.write_transaction(engine) as transaction:
                    while queue.writes and len(done) < MAX_PER_TRANSACTION:
                        write = queue.writes.popleft()
                        if write.result.done():  # its caller has gone: never ran
                            continue
                        running = write
                        ok, value = await _run_write(write, engine, transaction)
                        running = None
                        if not ok:
                            raise _Failed(write, value)
                        done.append((write, value))
                    if not queue.writes:
                        # Writes arriving from now on start a queue of their own, which
                        # waits for this commit on the member's row lock.
                        del queues[key]
            except _Failed as failed:
                _settle(failed.write, error=failed.error)
                # Rolled back with it: the writes before it are done again.
                queue.writes.extendleft(write for write, _ in reversed(done))
            except BaseException as exc:  # the commit (or the connection) failed
                for write in [write for write, _ in done] + ([running] if running else []):
                    _settle(write, error=exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                for write, value in done:
                    _settle(write, value=value)
    finally:
        if queues.get(key) is queue:
            del queues[key]
        for write in queue.writes:  # only when the runner itself was cancelled
            _settle(write, error=asyncio.CancelledError())


async def _run_write(write: _Write, engine: Any, transaction: Any) -> tuple[bool, Any]:
    """Run one write in its caller's context, inside ``transaction``."""

    async def in_transaction() -> tuple[bool, Any]:
        engine.current_transaction.set(transaction)
        try:
            return True, await write.work()
        except Exception as exc:
            return False, exc

    return await asyncio.get_running_loop().create_task(in_transaction(), context=write.context)


def _settle(write: _Write, *, value: Any = None, error: BaseException | None = None) -> None:
    if write.result.done():
        return
    if error is not None:
        write.result.set_exception(error)
    else:
        write.result.set_result(value)
