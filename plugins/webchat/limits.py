"""How fast one device, and one client address, may post to a shop's web chat.

The page is public: anyone can open it, get a device token and script posts. Without a
limit a script floods the bot (every message is a bot turn) and the shop's inbox. Each
post (a message, or a photo upload) takes a token from two buckets, the device's and the
client address's, both per shop; a bucket refills at ``rate`` tokens a second up to
``burst``. A post is admitted only when EVERY bucket has a whole token, and a refused
post takes nothing: a visitor who waits is served again, however long a script hammered.

Unlike the send pacing of :mod:`loyalchat.conversations.ratelimit` (whose bucket goes
negative: a send always gets a slot, later), a post here is refused at once (429 with
Retry-After) and nothing of it is stored. State lives in Redis when configured (one Lua
script checks and takes on every key atomically, on Redis's own clock), so every web
process shares it; in memory otherwise (the embedded, one-process mode).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from loyalchat.settings import get_settings

log = structlog.get_logger(__name__)

KEY_PREFIX = "loyalchat:webchat:limit:"


@dataclass(frozen=True, slots=True)
class Bucket:
    """``burst`` posts at once, then ``rate`` a second."""

    name: str
    per: str  # "device" or "address": whose bucket it is
    rate: float
    burst: float


# A person types at most about a message a second, ten quickly in a row at most (taps on
# buttons included). Many phones share a shop's Wi-Fi, so an address gets five times that.
# A photo is a camera shot or a pick from the album (and a refused one, too large, is
# tried again): five at once, then one per 5 s; an address, twenty, then one per 2 s.
MESSAGE_DEVICE = Bucket("message", "device", rate=1.0, burst=10)
MESSAGE_ADDRESS = Bucket("message", "address", rate=5.0, burst=50)
PHOTO_DEVICE = Bucket("photo", "device", rate=0.2, burst=5)
PHOTO_ADDRESS = Bucket("photo", "address", rate=0.5, burst=20)
MESSAGE = (MESSAGE_DEVICE, MESSAGE_ADDRESS)
PHOTO = (PHOTO_DEVICE, PHOTO_ADDRESS)
# Every bucket above is full again after this long idle: forgetting it then changes nothing.
FULL_AFTER = max(b.burst / b.rate for b in (*MESSAGE, *PHOTO)) + 1
MAX_MEMORY_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until a post may pass, when refused


def _keys(
    tenant_id: int, device_id: str, address: str, buckets: Sequence[Bucket]
) -> list[tuple[str, Bucket]]:
    # The address is kept per shop too: a flood at one shop's page costs no other shop.
    owner = {"device": f"d:{device_id}", "address": f"a:{address}"}
    return [(f"{KEY_PREFIX}{tenant_id}:{b.name}:{owner[b.per]}", b) for b in buckets]


# KEYS: one hash per bucket; ARGV: rate, burst per key. Returns '0' when a token was taken
# from every bucket, else the seconds until each has one (nothing taken), as a string.
TAKE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[i * 2 - 1]), tonumber(ARGV[i * 2])
  local stored = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(stored[1]), tonumber(stored[2])
  if tokens == nil or at == nil then tokens, at = burst, now end
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 and (1 - tokens) / rate > wait then wait = (1 - tokens) / rate end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tokens', tostring(levels[i] - 1), 'at', tostring(now))
  redis.call('PEXPIRE', key, ARGV[#ARGV])
end
return '0'
"""


class MemoryPostLimiter:
    """This process's buckets (thread-safe; ``time.monotonic`` clock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> tokens, at

    def take(self, keys: Sequence[tuple[str, Bucket]]) -> float:
        with self._lock:
            now = time.monotonic()
            if len(self._buckets) > MAX_MEMORY_KEYS:  # many devices: forget the full ones
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < FULL_AFTER}
                if len(self._buckets) > MAX_MEMORY_KEYS:  # never grow without bound
                    self._buckets.clear()
            levels = []
            wait = 0.0
            for key, bucket in keys:
                tokens, at = self._buckets.get(key, (bucket.burst, now))
                tokens = min(bucket.burst, tokens + max(0.0, now - at) * bucket.rate)
                levels.append(tokens)
                if tokens < 1:
                    wait = max(wait, (1 - tokens) / bucket.rate)
            if wait > 0:
                return wait
            for (key, _), tokens in zip(keys, levels, strict=True):
                self._buckets[key] = (tokens - 1, now)
            return 0.0

    def forget(self) -> None:
        with self._lock:
            self._buckets.clear()


class RedisPostLimiter:
    """Buckets in Redis, shared by every web process using the same server."""

    def __init__(self, url: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._script = self._client.register_script(TAKE_SCRIPT)

    def take(self, keys: Sequence[tuple[str, Bucket]]) -> float:
        args: list[Any] = []
        for _, bucket in keys:
            args += [bucket.rate, bucket.burst]
        # Dropped once idle long enough to be full again: a missing bucket reads as full.
        args.append(int((max(b.burst / b.rate for _, b in keys) + 1) * 1000))
        return float(self._script(keys=[key for key, _ in keys], args=args))

    def forget(self) -> None:
        for key in self._client.scan_iter(match=KEY_PREFIX + "*", count=1000):
            self._client.delete(key)


_limiters: dict[str, MemoryPostLimiter | RedisPostLimiter] = {}
_lock = threading.Lock()


def limiter(redis_url: str | None = None) -> MemoryPostLimiter | RedisPostLimiter:
    """The limiter for ``redis_url`` (default: the settings'; empty: in memory)."""
    url = get_settings().redis_url if redis_url is None else redis_url
    with _lock:
        found = _limiters.get(url)
        if found is None:
            found = _limiters[url] = RedisPostLimiter(url) if url else MemoryPostLimiter()
        return found


async def admit(
    tenant_id: int,
    device_id: str,
    address: str,
    buckets: Sequence[Bucket],
    *,
    redis_url: str | None = None,
) -> Verdict:
    """Take a token from each of ``buckets`` for this device and address, or refuse."""
    chosen = limiter(redis_url)
    keys = _keys(tenant_id, device_id, address[:64] or "unknown", buckets)
    try:
        if isinstance(chosen, RedisPostLimiter):
            wait = await asyncio.to_thread(chosen.take, keys)
        else:
            wait = chosen.take(keys)
    except Exception:  # Redis away: the chat keeps working, unlimited, and says so
        log.warning("webchat_limit_unavailable", exc_info=True)
        return Verdict(True)
    if wait > 0:
        return Verdict(False, max(1, math.ceil(round(wait, 3))))
    return Verdict(True)
