"""Login throttling per account and per client IP.

Counters live in Redis when it is configured (shared by every web process) and in memory
otherwise. A lock-out lasts ``login_lockout_seconds`` from the last failure.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from loyalchat.settings import Settings, get_settings


class Counter(Protocol):
    async def incr(self, key: str, ttl: int) -> int: ...
    async def get(self, key: str) -> int: ...
    async def clear(self, key: str) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._data: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    async def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            count, _ = self._live(key)
            self._data[key] = (count + 1, time.monotonic() + ttl)
            return count + 1

    async def get(self, key: str) -> int:
        with self._lock:
            return self._live(key)[0]

    async def clear(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def _live(self, key: str) -> tuple[int, float]:
        count, expires = self._data.get(key, (0, 0.0))
        if expires and expires < time.monotonic():
            self._data.pop(key, None)
            return 0, 0.0
        return count, expires


class RedisCounter:
    def __init__(self, url: str, namespace: str = "loyalchat:throttle") -> None:
        import redis.asyncio as aioredis

        self._url = url
        self._client_factory = aioredis.Redis.from_url
        self._ns = namespace

    async def incr(self, key: str, ttl: int) -> int:
        async with self._client_factory(self._url) as client:
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr(f"{self._ns}:{key}")
                pipe.expire(f"{self._ns}:{key}", ttl)
                count, _ = await pipe.execute()
        return int(count)

    async def get(self, key: str) -> int:
        async with self._client_factory(self._url) as client:
            value = await client.get(f"{self._ns}:{key}")
        return int(value or 0)

    async def clear(self, key: str) -> None:
        async with self._client_factory(self._url) as client:
            await client.delete(f"{self._ns}:{key}")


class LoginThrottle:
    """Refuses logins after N failures for an account, or 4N from one IP."""

    def __init__(self, counter: Counter, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.counter = counter
        self.max_failures = settings.login_max_failures
        self.max_ip_failures = settings.login_max_failures * 4
        self.ttl = settings.login_lockout_seconds

    @staticmethod
    def _keys(email: str, ip: str) -> tuple[str, str]:
        return f"acct:{email.strip().lower()}", f"ip:{ip}"

    async def is_locked(self, email: str, ip: str) -> bool:
        account, address = self._keys(email, ip)
        return (
            await self.counter.get(account) >= self.max_failures
            or await self.counter.get(address) >= self.max_ip_failures
        )

    async def failed(self, email: str, ip: str) -> None:
        account, address = self._keys(email, ip)
        await self.counter.incr(account, self.ttl)
        await self.counter.incr(address, self.ttl)

    async def succeeded(self, email: str, ip: str) -> None:
        await self.counter.clear(self._keys(email, ip)[0])


def make_throttle(settings: Settings | None = None) -> LoginThrottle:
    settings = settings or get_settings()
    counter: Counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
    return LoginThrottle(counter, settings)
