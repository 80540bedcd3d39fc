"""Send pacing per channel account: a burst of N at rate R takes about N/R seconds, never
less, and no one-second window holds more than R sends (plus the token in hand); in
memory, and in Redis shared by several threads (as by several worker processes)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import redis

from loyalchat.conversations import ratelimit
from loyalchat.conversations.ratelimit import MemoryLimiter, RedisLimiter, rate_of, wait_turn

RATE = 40.0
BURST = 60  # 1.5 s at 40/s


def _check_pacing(stamps: list[float], rate: float) -> None:
    stamps = sorted(stamps)
    elapsed = stamps[-1] - stamps[0]
    expected = (len(stamps) - 1) / rate
    assert elapsed >= expected * 0.98, (elapsed, expected)  # never faster (clock jitter)
    # And not much slower: paced at 97% of the rate, with room for a busy machine.
    assert elapsed <= expected * 1.6 + 0.3, (elapsed, expected)
    # No window of one second holds more than rate + 1 sends.
    for i, start in enumerate(stamps):
        inside = sum(1 for t in stamps[i:] if t - start < 1.0)
        assert inside <= rate + 1, (inside, rate)


async def test_a_burst_in_memory_is_paced_at_the_rate() -> None:
    key = f"test:{uuid.uuid4()}"
    stamps: list[float] = []

    async def send() -> None:
        await wait_turn(key, RATE, redis_url="")
        stamps.append(time.monotonic())

    await asyncio.gather(*(send() for _ in range(BURST)))
    _check_pacing(stamps, RATE)


def test_memory_buckets_are_per_account() -> None:
    bucket = MemoryLimiter()
    assert bucket.take("a", 1.0) == 0.0
    assert bucket.take("b", 1.0) == 0.0  # another account is not slowed by the first
    # About a second to wait (less the time the two calls above took on a busy machine).
    assert 0.5 < bucket.take("a", 1.0) <= 1.0


def test_a_burst_through_redis_is_paced_across_threads(redis_url: str) -> None:
    key = f"test:{uuid.uuid4()}"
    stamps: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        limiter = RedisLimiter(redis_url)  # its own connection, as another process has
        try:
            for _ in range(n):
                wait = limiter.take(key, RATE)
                time.sleep(wait)
                with lock:
                    stamps.append(time.monotonic())
        finally:
            limiter.close()

    threads = [threading.Thread(target=worker, args=(BURST // 3,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(stamps) == BURST
    _check_pacing(stamps, RATE)
    client = redis.Redis.from_url(redis_url)
    try:
        assert 0 < client.pttl(ratelimit.KEY_PREFIX + key) <= 3_600_000
        client.delete(ratelimit.KEY_PREFIX + key)
    finally:
        client.close()


async def test_wait_turn_uses_redis_when_given(redis_url: str) -> None:
    key = f"test:{uuid.uuid4()}"
    started = time.monotonic()
    waits = [await wait_turn(key, 20.0, redis_url=redis_url) for _ in range(5)]
    assert waits[0] == 0.0 and all(w > 0 for w in waits[1:])
    assert time.monotonic() - started >= 4 / 20.0 * 0.98


@pytest.mark.parametrize(
    ("raw", "rate"),
    [("", 80.0), ("20", 20.0), ("0.5", 0.5), ("abc", 80.0), ("-3", 80.0), ("0", 80.0),
     ("nan", 80.0), ("1e9", 10_000.0), ("inf", 10_000.0)],
)  # fmt: skip
def test_rate_from_config(raw: str, rate: float) -> None:
    assert rate_of({"rate_per_second": raw}) == rate


def test_the_send_log_admits_at_most_limit_a_second(redis_url: str) -> None:
    """The log checked as each send goes: ``limit`` sends, then a wait until the oldest is
    a second old; in memory and in Redis alike."""
    key = f"test:{uuid.uuid4()}"
    redis_limiter = RedisLimiter(redis_url)
    try:
        for limiter in (MemoryLimiter(), redis_limiter):
            assert [limiter.admit(key, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
            wait = limiter.admit(key, 3)
            assert 0.5 < wait <= 1.0  # about a second, less the calls' own time

    finally:
        redis.Redis.from_url(redis_url).delete(ratelimit.KEY_PREFIX + "log:" + key)
        redis_limiter.close()


async def test_wait_turn_paces_under_the_configured_rate() -> None:
    """Slots are PACE of the rate apart: 11 sends at 20/s take 10 / (20 x PACE) seconds."""
    key = f"test:{uuid.uuid4()}"
    started = time.monotonic()
    for _ in range(11):
        await wait_turn(key, 20.0, redis_url="")
    assert time.monotonic() - started >= 10 / (20.0 * ratelimit.PACE) * 0.98
