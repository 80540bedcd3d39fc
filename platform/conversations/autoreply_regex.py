"""Merchants' regular expressions run with a time limit, in a child process.

Python's ``re`` cannot be interrupted from another thread, and a pattern such as
``(a+)+$`` backtracks for ever on ``"aaaa…!"``: run in the worker it would hang the worker.
So patterns run in one long-lived child process per parent process (a fresh interpreter
running a few lines of the standard library: no fork of a threaded worker, no import of
the app); when a search outlives :data:`TIME_LIMIT` the child is killed (a new one starts
for the next search) and the search counts as no match.
A pattern that ran out of time is skipped for :data:`SLOW_FOR` seconds in this process, so
one bad rule does not cost a child per message. (The ``regex`` package's ``timeout`` would
do this in process; it is not a dependency.)
"""

from __future__ import annotations

import asyncio
import json
import select
import subprocess
import sys
import threading
import time
from typing import Any

import structlog

log = structlog.get_logger(__name__)

TIME_LIMIT = 0.25  # seconds one search may take
START_LIMIT = 10.0  # seconds a child may take to start (a busy machine)
SLOW_FOR = 600.0  # seconds a pattern that ran out of time is skipped
MAX_TEXT = 1000  # characters of a message a pattern is run on
MAX_SLOW = 1000  # patterns remembered as slow


# The child: a few lines of the standard library only, so it starts fast and is never
# the app (no import of loyalchat or of the parent's __main__, however the parent was
# started). One JSON request a line in, one JSON answer a line out.
_CHILD = """
import json, re, sys
for line in sys.stdin:
    pattern, text = json.loads(line)
    try:
        answer = ["ok", re.search(pattern, text) is not None]
    except Exception as exc:
        answer = ["error", str(exc)]
    sys.stdout.write(json.dumps(answer) + "\\n")
    sys.stdout.flush()
"""


class _Child:
    """One child process and its pipes; searches are serialised (one at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        # -I: isolated (no user site, no PYTHON* variables); -S: no site-packages at all.
        return subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-I", "-S", "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait(5)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    def _ask(self, process: subprocess.Popen[bytes], request: list[str], wait: float) -> Any:
        """One request and its answer; None when none came within ``wait`` seconds."""
        if process.stdin is None or process.stdout is None:  # pragma: no cover
            raise _Gone
        try:
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
        except OSError:
            raise _Gone from None
        ready, _, _ = select.select([process.stdout], [], [], wait)
        if not ready:
            return None
        line = process.stdout.readline()
        if not line:
            raise _Gone
        return json.loads(line)

    def search(self, pattern: str, text: str, limit: float) -> bool | None:
        """True/False; None when the search ran out of time (the child is replaced)."""
        with self._lock:
            try:
                process = self._process
                if process is None or process.poll() is not None:
                    self._stop()
                    process = self._process = self._start()
                    # The interpreter's start is not the pattern's time: wait for it first.
                    if self._ask(process, ["", ""], START_LIMIT) is None:
                        raise _Gone
                answer = self._ask(process, [pattern, text], limit)
            except _Gone:
                self._stop()
                raise
            if answer is None:
                self._stop()
                return None
            status, value = answer
            if status == "error":
                raise ValueError(value)
            return bool(value)


class _Gone(Exception):
    """The child process did not start or went away."""


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
    except _Gone:
        log.warning("the auto-reply regex process is not available", pattern=pattern)
        return None
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
