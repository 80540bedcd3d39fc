"""Login throttling per account and per client IP, decided before the password is checked.

Every attempt is admitted or refused atomically *before* argon2 runs, so concurrent
guesses cannot slip past the limit while earlier ones are still being verified. The
first ``login_max_failures`` attempts for an account (4x that from one IP) pass; after
that each admitted attempt makes the next one wait, 30 seconds doubling up to
``login_lockout_seconds``. Refused attempts do not lengthen the wait, so someone
hammering a victim's address cannot keep its owner out for longer than that; they only
get the same one try per wait. A successful login forgets the account's attempts (and
gives its IP the attempt back). Records are forgotten ``login_lockout_seconds`` after
their wait ends. State lives in Redis when configured (shared by every web process), in
memory otherwise.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from loyalchat.settings import Settings, get_settings

FIRST_DELAY_SECONDS = 30
IP_FACTOR = 4  # one address may try for this many accounts' worth of attempts


@dataclass(frozen=True, slots=True)
class Rule:
    """How many attempts pass freely, then how the wait grows, for one key."""

    key: str
    free: int
    first_delay: float
    max_delay: float
    memory: float  # seconds a record is kept after its wait ends

    def delay_after(self, attempts: int) -> float:
        if attempts < self.free:
            return 0.0
        return min(self.max_delay, self.first_delay * 2.0 ** min(attempts - self.free, 32))


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    retry_after: int = 0  # whole seconds until an attempt may pass, when refused


class AttemptStore(Protocol):
    async def admit(self, rules: Sequence[Rule], now: float) -> float:
        """Atomically: 0 and one attempt counted on every key, or the wait in seconds."""
        ...

    async def forget(self, key: str) -> None: ...

    async def give_back(self, key: str) -> None:
        """Uncount one admitted attempt (the wait already set stays)."""
        ...


class MemoryAttemptStore:
    """One process's attempts; the lock makes check-and-count one step."""

    def __init__(self) -> None:
        self._records: dict[str, tuple[int, float, float]] = {}  # attempts, until, expires
        self._lock = threading.Lock()

    async def admit(self, rules: Sequence[Rule], now: float) -> float:
        with self._lock:
            records = {rule.key: self._live(rule.key, now) for rule in rules}
            wait = max(until - now for _, until, _ in records.values())
            if wait > 0:
                return wait
            for rule in rules:
                attempts = records[rule.key][0] + 1
                until = now + rule.delay_after(attempts)
                self._records[rule.key] = (attempts, until, until + rule.memory)
            return 0.0

    async def forget(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    async def give_back(self, key: str) -> None:
        with self._lock:
            if key in self._records:
                attempts, until, expires = self._records[key]
                self._records[key] = (max(0, attempts - 1), until, expires)

    def _live(self, key: str, now: float) -> tuple[int, float, float]:
        record = self._records.get(key, (0, 0.0, 0.0))
        if record[2] and record[2] <= now:
            self._records.pop(key, None)
            return 0, 0.0, 0.0
        return record


# KEYS: one hash per rule; ARGV: now, then free, first delay, max delay, memory per key.
_ADMIT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local blocked = tonumber(redis.call('HGET', key, 'until') or '0')
  if blocked - now > wait then wait = blocked - now end
end
-- Under a millisecond is rounding (the time is kept to six decimals), not a wait.
if wait > 0.001 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local at = 2 + (i - 1) * 4
  local free, first = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local cap, memory = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local attempts = redis.call('HINCRBY', key, 'n', 1)
  local delay = 0
  if attempts >= free then
    delay = math.min(cap, first * 2 ^ math.min(attempts - free, 32))
  end
  if delay > 0 then
    -- tostring() keeps 14 digits, too few for epoch seconds with a fraction
    redis.call('HSET', key, 'until', string.format('%.6f', now + delay))
  end
  redis.call('EXPIRE', key, math.ceil(delay + memory))
end
return '0'
"""
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('HGET', KEYS[1], 'n')) > 0 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
end
return 0
"""


class RedisAttemptStore:
    """Attempts shared by every web process: one Lua script checks and counts."""

    def __init__(self, url: str, namespace: str = "loyalchat:throttle") -> None:
        import redis.asyncio as aioredis

        self._url = url
        self._client_factory = aioredis.Redis.from_url
        self._ns = namespace

    async def admit(self, rules: Sequence[Rule], now: float) -> float:
        keys = [f"{self._ns}:{rule.key}" for rule in rules]
        args: list[float | int] = [now]
        for rule in rules:
            args += [rule.free, rule.first_delay, rule.max_delay, rule.memory]
        async with self._client_factory(self._url) as client:
            wait = await client.eval(_ADMIT, len(keys), *keys, *args)
        return float(wait)

    async def forget(self, key: str) -> None:
        async with self._client_factory(self._url) as client:
            await client.delete(f"{self._ns}:{key}")

    async def give_back(self, key: str) -> None:
        async with self._client_factory(self._url) as client:
            await client.eval(_GIVE_BACK, 1, f"{self._ns}:{key}")


class LoginThrottle:
    """Admits a login attempt (before any password check) or says how long to wait."""

    def __init__(
        self,
        store: AttemptStore,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        settings = settings or get_settings()
        self.store = store
        self.clock = clock
        self.max_failures = settings.login_max_failures
        self.max_ip_failures = settings.login_max_failures * IP_FACTOR
        self.max_delay = float(settings.login_lockout_seconds)
        self.first_delay = min(float(FIRST_DELAY_SECONDS), self.max_delay)

    def _rules(self, email: str, ip: str) -> tuple[Rule, Rule]:
        grow = (self.first_delay, self.max_delay, self.max_delay)
        return (
            Rule(f"acct:{email.strip().lower()}", self.max_failures, *grow),
            Rule(f"ip:{ip}", self.max_ip_failures, *grow),
        )

    async def admit(self, email: str, ip: str) -> Admission:
        """Count this attempt and let it through, or refuse it without counting."""
        wait = await self.store.admit(self._rules(email, ip), self.clock())
        if wait > 0:  # rounded to the millisecond first, as the Redis script keeps it
            return Admission(False, max(1, math.ceil(round(wait, 3))))
        return Admission(True)

    async def succeeded(self, email: str, ip: str) -> None:
        account, address = self._rules(email, ip)
        await self.store.forget(account.key)
        # Only given back, not reset: one valid account must not clear an address's record.
        await self.store.give_back(address.key)


def make_throttle(settings: Settings | None = None) -> LoginThrottle:
    settings = settings or get_settings()
    store: AttemptStore = (
        RedisAttemptStore(settings.redis_url) if settings.redis_url else MemoryAttemptStore()
    )
    return LoginThrottle(store, settings)
