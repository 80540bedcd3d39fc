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
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from loyalchat.settings import get_settings

DEFAULT_RATE = 80.0
# Sends are paced a little under the configured rate, and a send also needs room in the
# last second's log (:data:`WINDOW_SCRIPT`) at the moment it goes: a slot is reserved
# ahead, and sends whose slots were 1/rate apart still bunched when a busy worker thread
# ran one late (a burst of 1,000 at 80/s had 82 to 86 in some one-second window,
# bench/channels.py). The log holds at most PACE x rate sends a second, leaving the
# provider a margin for the network's own jitter.
PACE = 0.97
WINDOW_MS = 1000
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


# KEYS[1] the account's log (sorted set of send times, ms); ARGV limit, member. Admits
# (logs) a send when fewer than ``limit`` went in the last second (WINDOW_MS); else returns how
# long until the oldest leaves the window, in seconds, as a string.
WINDOW_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2000)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(math.max(0.001, (tonumber(oldest[2]) + 1000 - now) / 1000))
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
        self._logs: dict[str, deque[float]] = {}

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

    def admit(self, key: str, limit: int) -> float:
        """Log a send now if fewer than ``limit`` went in the last second; else the wait."""
        with self._lock:
            now = time.monotonic()
            log = self._logs.setdefault(key, deque())
            while log and log[0] <= now - WINDOW_MS / 1000:
                log.popleft()
            if len(log) < limit:
                log.append(now)
                return 0.0
            return max(0.001, log[0] + WINDOW_MS / 1000 - now)


class RedisLimiter:
    """Buckets in Redis, shared by every process using the same server."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(TAKE_SCRIPT)
        self._window = self._client.register_script(WINDOW_SCRIPT)

    def take(self, key: str, rate: float, capacity: float = 1.0) -> float:
        # Keep an idle bucket an hour, and a backlog's bucket until it has drained.
        ttl_ms = 3_600_000
        wait = float(self._script(keys=[KEY_PREFIX + key], args=[rate, capacity, ttl_ms]))
        if wait * 1000 > ttl_ms / 2:
            self._client.pexpire(KEY_PREFIX + key, int(wait * 2000))
        return wait

    def admit(self, key: str, limit: int) -> float:
        """Log a send now if fewer than ``limit`` went in the last second; else the wait."""
        member = uuid.uuid4().hex
        return float(self._window(keys=[KEY_PREFIX + "log:" + key], args=[limit, member]))

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
    """Take a token for ``key`` and sleep until its slot; returns the seconds waited.

    ``rate`` is the account's configured rate; slots are :data:`PACE` of it apart."""
    bucket = limiter(redis_url)
    paced = rate * PACE
    if isinstance(bucket, RedisLimiter):
        wait = await asyncio.to_thread(bucket.take, key, paced)
    else:
        wait = bucket.take(key, paced)
    if wait > 0:
        await asyncio.sleep(wait)
    limit = max(1, int(paced))  # sends in any one second, checked as this one goes
    while True:
        if isinstance(bucket, RedisLimiter):
            later = await asyncio.to_thread(bucket.admit, key, limit)
        else:
            later = bucket.admit(key, limit)
        if later <= 0:
            return wait
        wait += later
        await asyncio.sleep(later)
