"""Pace sends per channel account: a token bucket shared through Redis, or in memory.

Each :func:`take` reserves the next slot and says how long to wait for it: the bucket
refills at ``rate`` tokens a second up to ``capacity`` and may go negative, so callers who
wait their turn are spaced exactly ``1/rate`` apart, however many workers share the
account. With the default capacity of one token, no window of any length ever sees more
than ``rate`` sends a second (plus the one in hand), which is what a provider's limit
(WhatsApp: 80 a second per number, error 130429 beyond) asks for.

With ``settings.redis_url`` the bucket lives in Redis (one Lua script: refill by the time
elapsed on Redis's own clock, take one, return the wait), so every worker process shares
it; otherwise a bucket per process in memory (the embedded, one-process mode).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

from loyalchat.settings import get_settings

DEFAULT_RATE = 80.0
MIN_RATE, MAX_RATE = 0.01, 10_000.0
KEY_PREFIX = "loyalchat:sendrate:"

# KEYS[1] bucket; ARGV rate (tokens/s), capacity, ttl (ms). Returns the wait in seconds,
# as a string (Redis turns Lua numbers into integers).
TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(stored[1])
local at = tonumber(stored[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if tokens >= 0 then
  return '0'
end
return tostring(-tokens / rate)
"""


def rate_of(config: dict[str, Any] | Any) -> float:
    """The account's sends per second from its config (``rate_per_second``), default 80."""
    raw = config.get("rate_per_second", "") if hasattr(config, "get") else ""
    try:
        rate = float(str(raw).strip() or DEFAULT_RATE)
    except ValueError:
        return DEFAULT_RATE
    if rate != rate or rate <= 0:  # NaN, zero, negative
        return DEFAULT_RATE
    return min(max(rate, MIN_RATE), MAX_RATE)


@dataclass
class _Bucket:
    tokens: float
    at: float


class MemoryLimiter:
    """Buckets in this process (thread-safe; ``time.monotonic`` clock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, rate: float, capacity: float = 1.0) -> float:
        with self._lock:
            now = time.monotonic()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, now)
            refill = max(0.0, now - bucket.at) * rate
            bucket.tokens = min(capacity, bucket.tokens + refill) - 1
            bucket.at = now
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / rate


class RedisLimiter:
    """Buckets in Redis, shared by every process using the same server."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(TAKE_SCRIPT)

    def take(self, key: str, rate: float, capacity: float = 1.0) -> float:
        # Keep an idle bucket an hour, and a backlog's bucket until it has drained.
        ttl_ms = 3_600_000
        wait = float(self._script(keys=[KEY_PREFIX + key], args=[rate, capacity, ttl_ms]))
        if wait * 1000 > ttl_ms / 2:
            self._client.pexpire(KEY_PREFIX + key, int(wait * 2000))
        return wait

    def close(self) -> None:
        self._client.close()


_limiters: dict[str, MemoryLimiter | RedisLimiter] = {}
_lock = threading.Lock()


def limiter(redis_url: str | None = None) -> MemoryLimiter | RedisLimiter:
    """The limiter for ``redis_url`` (default: the settings'; empty: in memory)."""
    url = get_settings().redis_url if redis_url is None else redis_url
    with _lock:
        found = _limiters.get(url)
        if found is None:
            found = _limiters[url] = RedisLimiter(url) if url else MemoryLimiter()
        return found


async def wait_turn(key: str, rate: float, *, redis_url: str | None = None) -> float:
    """Take a token for ``key`` and sleep until its slot; returns the seconds waited."""
    bucket = limiter(redis_url)
    if isinstance(bucket, RedisLimiter):
        wait = await asyncio.to_thread(bucket.take, key, rate)
    else:
        wait = bucket.take(key, rate)
    if wait > 0:
        await asyncio.sleep(wait)
    return wait
