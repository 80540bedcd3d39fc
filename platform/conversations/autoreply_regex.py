"""Merchants' regular expressions run with a time limit, in a child process.

Python's ``re`` cannot be interrupted from another thread, and a pattern such as
``(a+)+$`` backtracks for ever on ``"aaaa…!"``: run in the worker it would hang the worker.
So patterns run in one long-lived child process per parent process (started with
``spawn``: no fork of a threaded worker); when a search outlives :data:`TIME_LIMIT` the
child is killed (a new one starts for the next search) and the search counts as no match.
A pattern that ran out of time is skipped for :data:`SLOW_FOR` seconds in this process, so
one bad rule does not cost a child per message. (The ``regex`` package's ``timeout`` would
do this in process; it is not a dependency.)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import structlog

log = structlog.get_logger(__name__)

TIME_LIMIT = 0.25  # seconds one search may take
START_LIMIT = 30.0  # seconds a child may take to start (imports on a busy machine)
SLOW_FOR = 600.0  # seconds a pattern that ran out of time is skipped
MAX_TEXT = 1000  # characters of a message a pattern is run on
MAX_SLOW = 1000  # patterns remembered as slow


def _serve(conn: Connection) -> None:
    """The child: compile (cached by ``re``) and search, one request at a time."""
    conn.send(("ready", None))
    while True:
        try:
            pattern, text = conn.recv()
        except EOFError:
            return
        try:
            found = re.search(pattern, text) is not None
            conn.send(("ok", found))
        except Exception as exc:  # a bad pattern: answered, never raised in the child
            conn.send(("error", str(exc)))


class _Child:
    """One child process and its pipe; searches are serialised (one at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child,), daemon=True, name="loyalchat-regex")
        process.start()
        child.close()
        if not parent.poll(START_LIMIT):
            process.kill()
            raise RuntimeError("the regex child process did not start")
        parent.recv()
        self._process, self._conn = process, parent
        return parent

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def search(self, pattern: str, text: str, limit: float) -> bool | None:
        """True/False; None when the search ran out of time (the child is replaced)."""
        with self._lock:
            conn = self._conn
            if conn is None or self._process is None or not self._process.is_alive():
                self._stop()
                conn = self._start()
            conn.send((pattern, text))
            if not conn.poll(limit):
                self._stop()
                return None
            status, value = conn.recv()
            if status == "error":
                raise ValueError(value)
            return bool(value)


_child = _Child()
_slow: dict[str, float] = {}


async def search(pattern: str, text: str, *, limit: float = TIME_LIMIT) -> bool | None:
    """Whether ``pattern`` matches somewhere in ``text`` (its first :data:`MAX_TEXT`
    characters); None when it ran out of time now or recently (no match)."""
    now = time.monotonic()
    if _slow.get(pattern, 0.0) > now:
        return None
    try:
        found = await asyncio.to_thread(_child.search, pattern, text[:MAX_TEXT], limit)
    except ValueError:
        return False  # validated when saved; an unreadable pattern matches nothing
    if found is None:
        if len(_slow) >= MAX_SLOW:  # bounded: forget the oldest marks first
            for old in sorted(_slow, key=_slow.__getitem__)[: MAX_SLOW // 2]:
                del _slow[old]
        _slow[pattern] = now + SLOW_FOR
        log.warning("auto-reply pattern ran out of time", pattern=pattern, limit=limit)
    return found


def forget_slow() -> None:
    """Forget which patterns ran out of time (tests)."""
    _slow.clear()
