"""Send pacing per channel account: a burst of N at rate R takes about N/R seconds, never
less, and no one-second window holds more than R sends (plus the token in hand); in
memory, and in Redis shared by several threads (as by several worker processes). A
provider whose answers take a random time never receives more than R in any second of its
own clock."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import redis

from loyalchat.conversations import ratelimit
from loyalchat.conversations.ratelimit import MemoryLimiter, RedisLimiter, paced, rate_of

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
        async with paced(key, RATE, redis_url=""):
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


async def test_paced_uses_redis_when_given(redis_url: str) -> None:
    key = f"test:{uuid.uuid4()}"
    started = time.monotonic()
    for _ in range(5):
        async with paced(key, 20.0, redis_url=redis_url):
            pass
    assert time.monotonic() - started >= 4 / 20.0 * 0.98
    client = redis.Redis.from_url(redis_url)
    try:  # the bucket and the log are there, for other processes to share
        names = (ratelimit.KEY_PREFIX + key, ratelimit.KEY_PREFIX + "log:" + key)
        assert client.hget(names[0], "tokens") is not None
        assert client.zcard(names[1]) == 5
        client.delete(*names)
    finally:
        client.close()


@pytest.mark.parametrize(
    ("raw", "rate"),
    [("", 80.0), ("20", 20.0), ("0.5", 0.5), ("abc", 80.0), ("-3", 80.0), ("0", 80.0),
     ("nan", 80.0), ("1e9", 10_000.0), ("inf", 10_000.0)],
)  # fmt: skip
def test_rate_from_config(raw: str, rate: float) -> None:
    assert rate_of({"rate_per_second": raw}) == rate


def test_a_place_is_held_until_a_second_after_the_call_ended(redis_url: str) -> None:
    """``limit`` sends are admitted, then none while they are in flight, however long;
    once one call ends, its place frees a second later; in memory and in Redis alike."""
    key = f"test:{uuid.uuid4()}"
    redis_limiter = RedisLimiter(redis_url)
    try:
        for limiter in (MemoryLimiter(), redis_limiter):
            assert [limiter.admit(key, 3, m) for m in ("a", "b", "c")] == [0.0, 0.0, 0.0]
            time.sleep(1.1)  # in flight longer than a second: still held
            assert limiter.admit(key, 3, "d") > 0
            limiter.release(key, "a", time.monotonic())
            wait = limiter.admit(key, 3, "d")
            assert 0.5 < wait <= 1.0  # about a second after "a" ended, less the calls' time
            time.sleep(wait + 0.01)
            assert limiter.admit(key, 3, "d") == 0.0
            assert limiter.admit(key, 3, "e") > 0  # b and c are still in flight
    finally:
        redis.Redis.from_url(redis_url).delete(ratelimit.KEY_PREFIX + "log:" + key)
        redis_limiter.close()


async def test_paced_spaces_sends_under_the_configured_rate() -> None:
    """Slots are PACE of the rate apart: 11 sends at 20/s take 10 / (20 x PACE) seconds."""
    key = f"test:{uuid.uuid4()}"
    started = time.monotonic()
    for _ in range(11):
        async with paced(key, 20.0, redis_url=""):
            pass
    assert time.monotonic() - started >= 10 / (20.0 * ratelimit.PACE) * 0.98


class _SlowProvider(BaseHTTPRequestHandler):
    """Notes when each request arrived, then answers after 0-80 ms (the first ten after
    300 ms: a provider warming up)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.arrived.append(time.monotonic())  # type: ignore[attr-defined]
            early = len(self.server.arrived) <= 10  # type: ignore[attr-defined]
        time.sleep(0.3 if early else random.uniform(0, 0.08))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def slow_provider() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowProvider)
    server.daemon_threads = True
    server.arrived = []  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("where", ["memory", "redis"])
async def test_a_slow_jittery_provider_never_receives_more_than_the_rate_in_a_second(
    slow_provider: ThreadingHTTPServer, redis_url: str, where: str
) -> None:
    """100 sends at 20/s by 20 concurrent senders (as worker threads are), some held up
    between their turn and the request (a busy worker thread: 0-300 ms), each answered
    after a random time: in no second of the provider's own clock more than 20."""
    key = f"test:{uuid.uuid4()}"
    url = f"http://127.0.0.1:{slow_provider.server_address[1]}/send"
    rate, sends = 20.0, 100
    queue = list(range(sends))

    async def sender(client: httpx.AsyncClient) -> None:
        while queue:
            queue.pop()
            async with paced(key, rate, redis_url=redis_url if where == "redis" else ""):
                await asyncio.sleep(random.choice((0, 0, 0, random.uniform(0, 0.3))))
                assert (await client.post(url, content=b"hi")).status_code == 200

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(*(sender(client) for _ in range(20)))
    finally:
        redis.Redis.from_url(redis_url).delete(
            ratelimit.KEY_PREFIX + key, ratelimit.KEY_PREFIX + "log:" + key
        )
    arrived = sorted(slow_provider.arrived)  # type: ignore[attr-defined]
    assert len(arrived) == sends
    most = max(sum(1 for t in arrived[i:] if t - start < 1.0) for i, start in enumerate(arrived))
    assert most <= rate, most
