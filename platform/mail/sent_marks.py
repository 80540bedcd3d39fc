"""Which mails went out already: a queue that redelivers a job never sends its mail twice.

A queue job may run more than once: the queue redelivers it when the worker that held it
died (after the SMTP server had the mail, perhaps), and a retry follows a failure. Before
it sends, a run takes its mail's mark with one atomic "set if absent" (keyed by the mail's
Message-ID); after the server said 250 it turns the mark into "sent". A run that finds
"sent" does nothing; one that finds another run's "sending" tries again later. The marks
live where the queue does: in Redis with a Redis broker (every worker sees them), in this
process with the embedded one (its queue is in this process too).

Left: a worker killed between the server's 250 and the "sent" mark; its mark lapses after
``SENDING_SECONDS`` and the mail may go out twice (the narrowest window SMTP allows).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Literal, Protocol

# Longer than one run can take (the actor's time limit), so a live run keeps its mark.
SENDING_SECONDS = 5 * 60
# Longer than the queue keeps retrying a mail (see loyalchat.mail.tasks).
SENT_SECONDS = 14 * 24 * 3600
PREFIX = "loyalchat:mail:sent:"

Claim = Literal["mine", "sent", "busy"]

# Delete the key only while it still holds this run's token.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def mark_key(message_id: str) -> str:
    return PREFIX + hashlib.sha256(message_id.strip().encode()).hexdigest()[:40]


class SentMarks(Protocol):
    def claim(self, message_id: str, token: str) -> Claim:
        """``mine``: this run sends; ``sent``: done before; ``busy``: another run is at it."""
        ...

    def sent(self, message_id: str) -> None: ...

    def release(self, message_id: str, token: str) -> None:
        """Give up this run's claim (the send failed) so a later run may take it."""
        ...


class RedisSentMarks:
    def __init__(self, client: object) -> None:
        self.client = client

    def claim(self, message_id: str, token: str) -> Claim:
        key = mark_key(message_id)
        for _ in range(3):  # a mark may lapse between the two commands: look again
            if self.client.set(key, token, nx=True, ex=SENDING_SECONDS):  # type: ignore[attr-defined]
                return "mine"
            held = self.client.get(key)  # type: ignore[attr-defined]
            if held is not None:
                return "sent" if held == b"sent" else "busy"
        return "busy"

    def sent(self, message_id: str) -> None:
        self.client.set(mark_key(message_id), "sent", ex=SENT_SECONDS)  # type: ignore[attr-defined]

    def release(self, message_id: str, token: str) -> None:
        self.client.eval(_RELEASE, 1, mark_key(message_id), token)  # type: ignore[attr-defined]


class MemorySentMarks:
    """The embedded queue's marks (its messages live and die with this process)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._marks: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def _live(self, key: str) -> str | None:
        found = self._marks.get(key)
        if found is None:
            return None
        if found[1] <= self._clock():
            del self._marks[key]
            return None
        return found[0]

    def claim(self, message_id: str, token: str) -> Claim:
        key = mark_key(message_id)
        with self._lock:
            held = self._live(key)
            if held is None:
                self._marks[key] = (token, self._clock() + SENDING_SECONDS)
                return "mine"
            return "sent" if held == "sent" else "busy"

    def sent(self, message_id: str) -> None:
        with self._lock:
            now = self._clock()
            self._marks = {k: v for k, v in self._marks.items() if v[1] > now}  # forget old
            self._marks[mark_key(message_id)] = ("sent", now + SENT_SECONDS)

    def release(self, message_id: str, token: str) -> None:
        key = mark_key(message_id)
        with self._lock:
            if self._live(key) == token:
                del self._marks[key]


def new_token() -> str:
    return secrets.token_hex(16)
