"""Pace sends per channel account (and per recipient where the channel says so).

Two rules, both shared through Redis (or in memory, in the embedded one-process mode):

* **A token bucket** (:data:`TAKE_SCRIPT`) spaces sends: each :meth:`take` reserves the
  next slot and says how long to wait for it. It refills at ``rate`` tokens a second up to
  ``capacity`` and may go negative, so callers who wait their turn are spaced ``1/rate``
  apart however many workers share the account. The account's bucket runs at
  :data:`PACE` of the configured rate, which keeps the average a little under it.
* **A window log** (:data:`ADMIT_SCRIPT`, :data:`RELEASE_SCRIPT`) makes "never above the
  rate" hold at the provider, whatever a busy worker thread or the network does: a send
  occupies a place in the account's log from its admission until one second after its
  HTTP call *ended* (a send in flight occupies one), and a send is admitted only while
  fewer than ``rate`` places are occupied. Of any ``rate + 1`` sends, the last one starts
  at least a second after an earlier one's call ended; the provider receives each request
  between its start and its end, so it never sees more than ``rate`` in any one-second
  window (WhatsApp: 80 a second per number, error 130429 beyond).

The price of the log: each send holds its place for ``1 + latency`` seconds (latency: from
admission to the end of the call, as the worker sees it), so throughput is at worst
``rate / (1 + latency)``: 79.6/s at 80/s with 5 ms calls, the bucket's 77.6/s binding
first. Chosen because "never above" must hold strictly; a log of start times let requests
delayed between admission and the wire bunch at the provider (81 in one second at 80/s).
``bench/channels.py --only pacing``, 1,000 sends at 80/s: 77.4 and 77.7/s, at most 80 in
any second (load average 3.5 on 2 cores); 75.8/s at load 7.5, where latency grows.

Callers use :func:`paced` around the provider call, so the place is released when the call
ends, even by an exception::

    async with paced(f"whatsapp:{tenant}", rate):
        await adapter.send(message, config)

A send whose worker dies in the call keeps its place :data:`IN_FLIGHT_MS` (the send
actor's time limit), then the log forgets it. The scripts read Redis's ``TIME`` (a release
less the time since the call ended, a duration measured by the worker): one clock for
admissions and releases, whatever the workers' clocks say.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from loyalchat.settings import get_settings

log = logging.getLogger(__name__)

DEFAULT_RATE = 80.0
# The bucket spaces sends at 97% of the configured rate: the average stays under it, and
# the window log (at the full rate) rarely has to hold a send back.
PACE = 0.97
WINDOW_MS = 1000
# How long a send in flight keeps its place when nobody releases it (a killed worker):
# the send actor's time limit (conversations/tasks.py), so a live call never loses its place.
IN_FLIGHT_MS = 120_000
MIN_RATE, MAX_RATE = 0.01, 10_000.0
KEY_PREFIX = "loyalchat:sendrate:"

# KEYS[1] bucket; ARGV rate (tokens/s), capacity, ttl (ms), max wait (s; negative: any).
# Returns the wait in seconds as a string (Redis turns Lua numbers into integers). A wait
# over the max takes nothing: the caller comes back later instead of holding a slot.
TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[4])
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
local wait = 0
if tokens < 0 then
  wait = -tokens / rate
end
if max_wait >= 0 and wait > max_wait then
  return tostring(wait)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tostring(wait)
"""

# KEYS[1] the account's log: a sorted set of member -> the time (ms) its place is free
# again less a second (in flight: now + ARGV[3]). ARGV limit, member, in-flight ms.
# Admits (adds) the send when fewer than ``limit`` places are held; else returns how long
# until the first place can free, in seconds, as a string: a second after the oldest ended
# call, or a second from now when every call is still in flight.
ADMIT_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 2000)
  return '0'
end
local ended = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
if #ended == 0 then
  return '1'
end
return tostring(math.max(0.001, (tonumber(ended[2]) + 1000 - now) / 1000))
"""

# KEYS[1] the log; ARGV member, ms since the call ended (measured by the caller: a
# duration, so no other clock comes in). The place is held one more second from then.
RELEASE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
redis.call('ZADD', KEYS[1], 'XX', now - tonumber(ARGV[2]), ARGV[1])
return 1
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
    """Buckets and logs in this process (thread-safe; ``time.monotonic`` clock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._logs: dict[str, dict[str, float]] = {}  # key -> member -> free at less 1 s

    def take(self, key: str, rate: float, capacity: float = 1.0, max_wait: float = -1) -> float:
        with self._lock:
            now = time.monotonic()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, now)
            tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.at) * rate) - 1
            wait = 0.0 if tokens >= 0 else -tokens / rate
            if 0 <= max_wait < wait:
                return wait
            bucket.tokens, bucket.at = tokens, now
            return wait

    def admit(self, key: str, limit: int, member: str) -> float:
        """Hold a place for ``member`` if fewer than ``limit`` are held; else the wait."""
        with self._lock:
            now = time.monotonic()
            held = self._logs.setdefault(key, {})
            for gone in [m for m, at in held.items() if at <= now - WINDOW_MS / 1000]:
                del held[gone]
            if len(held) < limit:
                held[member] = now + IN_FLIGHT_MS / 1000
                return 0.0
            ended = [at for at in held.values() if at <= now]
            return max(0.001, min(ended) + WINDOW_MS / 1000 - now) if ended else 1.0

    def release(self, key: str, member: str, ended: float) -> None:
        """``member``'s call ended at ``ended`` (``time.monotonic()``): free a second later."""
        with self._lock:
            held = self._logs.get(key)
            if held is not None and member in held:
                held[member] = ended


class RedisLimiter:
    """Buckets and logs in Redis, shared by every process using the same server."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(TAKE_SCRIPT)
        self._admit = self._client.register_script(ADMIT_SCRIPT)
        self._release = self._client.register_script(RELEASE_SCRIPT)

    def take(self, key: str, rate: float, capacity: float = 1.0, max_wait: float = -1) -> float:
        # Keep an idle bucket an hour, and a backlog's bucket until it has drained.
        ttl_ms = 3_600_000
        args = [rate, capacity, ttl_ms, max_wait]
        wait = float(self._script(keys=[KEY_PREFIX + key], args=args))
        if wait * 1000 > ttl_ms / 2 and not 0 <= max_wait < wait:
            self._client.pexpire(KEY_PREFIX + key, int(wait * 2000))
        return wait

    def admit(self, key: str, limit: int, member: str) -> float:
        """Hold a place for ``member`` if fewer than ``limit`` are held; else the wait."""
        args = [limit, member, IN_FLIGHT_MS]
        return float(self._admit(keys=[KEY_PREFIX + "log:" + key], args=args))

    def release(self, key: str, member: str, ended: float) -> None:
        """``member``'s call ended at ``ended`` (``time.monotonic()``): free a second later.
        Redis's clock less the time since then: a little late (by the trip to Redis), so
        never early."""
        ago_ms = max(0.0, (time.monotonic() - ended) * 1000)
        self._release(keys=[KEY_PREFIX + "log:" + key], args=[member, ago_ms])

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


def forget() -> None:
    """Drop this process's in-memory buckets and logs (tests: tenant ids start again)."""
    with _lock:
        _limiters.pop("", None)


async def _call(bucket: MemoryLimiter | RedisLimiter, method: str, *args: Any) -> Any:
    """A limiter call: Redis's in a thread (the event loop keeps running), memory's inline."""
    function = getattr(bucket, method)
    if isinstance(bucket, RedisLimiter):
        return await asyncio.to_thread(function, *args)
    return function(*args)


@asynccontextmanager
async def paced(key: str, rate: float, *, redis_url: str | None = None) -> AsyncIterator[float]:
    """Wait for ``key``'s turn at ``rate`` a second, then hold a place in its window log
    until the block ends (the provider call inside it); yields the seconds waited.

    The bucket spaces slots :data:`PACE` of ``rate`` apart; the log admits at most
    ``rate`` sends whose calls are in flight or ended less than a second ago."""
    bucket = limiter(redis_url)
    waited = await _call(bucket, "take", key, rate * PACE)
    if waited > 0:
        await asyncio.sleep(waited)
    limit = max(1, int(rate))
    member = uuid.uuid4().hex
    while (later := await _call(bucket, "admit", key, limit, member)) > 0:
        waited += later
        await asyncio.sleep(later)
    try:
        yield waited
    finally:
        ended = time.monotonic()  # before the trip to release it: the place frees sooner
        try:
            await _call(bucket, "release", key, member, ended)
        except Exception:  # the send happened: never turn it into a failure
            log.warning("could not release send place %s of %s", member, key, exc_info=True)


async def take_turn(
    key: str, rate: float, capacity: float, *, max_wait: float, redis_url: str | None = None
) -> float:
    """Take a token of a bucket refilling at ``rate`` a second up to ``capacity`` (it may go
    negative) and return the wait for it, to be slept by the caller; a wait over
    ``max_wait`` takes nothing (the caller tries again after that wait, not holding a
    worker meanwhile)."""
    return float(await _call(limiter(redis_url), "take", key, rate, capacity, max_wait))
