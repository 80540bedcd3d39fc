"""A small shared cache of strings that expire: Redis when the deployment has it
(``LOYALCHAT_REDIS_URL``), else this process's memory.

For answers of an outside service that cost a call, or a quota, to ask for again: a WeChat
permanent QR code's URL (an account has 100,000 of them), the media id of an image
uploaded to WhatsApp. A cache is never the truth: a Redis that cannot be reached is a miss
(logged) and the caller asks the service, and a caller that finds a value the service no
longer honours drops it (:func:`drop`) and asks again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from loyalchat.settings import get_settings

__all__ = ["drop", "forget_memory", "get", "put"]

PREFIX = "loyalchat:cache:"
MEMORY_ENTRIES = 10_000  # a process keeps at most this many (the oldest go first)
_TIMEOUT = 2.0  # seconds: a slow Redis is a miss, not a stuck send
# Compare-and-delete: a value another caller stored since is kept.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

log = logging.getLogger(__name__)
_memory: dict[str, tuple[str, float]] = {}  # key -> (value, monotonic deadline)


def _client(url: str) -> Any:
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT)


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.RedisError, OSError)


async def get(key: str) -> str | None:
    """The value stored under ``key`` and not yet expired, else None."""
    url = get_settings().redis_url
    if not url:
        value, until = _memory.get(key, ("", 0.0))
        if value and time.monotonic() < until:
            return value
        _memory.pop(key, None)
        return None
    try:
        async with _client(url) as client:
            found = await client.get(PREFIX + key)
    except _redis_errors() as exc:
        log.warning("cache: Redis %s reading %s; asking the service", type(exc).__name__, key)
        return None
    return found.decode() if found else None


async def put(key: str, value: str, seconds: float) -> None:
    """Keep ``value`` under ``key`` for ``seconds`` (nothing kept when Redis fails)."""
    url = get_settings().redis_url
    if not url:
        if len(_memory) >= MEMORY_ENTRIES:
            now = time.monotonic()
            for old in [k for k, (_v, until) in _memory.items() if until <= now]:
                del _memory[old]
            while len(_memory) >= MEMORY_ENTRIES:
                del _memory[next(iter(_memory))]  # the oldest stored
        _memory.pop(key, None)
        _memory[key] = (value, time.monotonic() + seconds)
        return
    try:
        async with _client(url) as client:
            await client.set(PREFIX + key, value, px=max(1, int(seconds * 1000)))
    except _redis_errors() as exc:
        log.warning("cache: Redis %s storing %s", type(exc).__name__, key)


async def drop(key: str, value: str) -> None:
    """Forget ``key`` if it still holds ``value`` (the one the service refused)."""
    url = get_settings().redis_url
    if not url:
        if _memory.get(key, ("",))[0] == value:
            del _memory[key]
        return
    try:
        async with _client(url) as client:
            await client.eval(_DELETE_IF, 1, PREFIX + key, value)
    except _redis_errors() as exc:
        log.warning("cache: Redis %s dropping %s", type(exc).__name__, key)


def forget_memory() -> None:
    """Empty this process's cache (tests that start a new fake service)."""
    _memory.clear()
