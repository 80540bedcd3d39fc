"""loyalchat.cache: values that expire, in Redis or in memory; an unreachable Redis is a
miss (the caller asks the outside service), never a failed send."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from loyalchat import cache
from loyalchat.settings import get_settings


@pytest.fixture
def redis_set(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield redis_url
    get_settings.cache_clear()


@pytest.fixture
def in_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", "")
    get_settings.cache_clear()
    cache.forget_memory()
    yield
    cache.forget_memory()
    get_settings.cache_clear()


async def test_memory_keeps_values_until_they_expire_and_drops_only_the_refused_one(
    in_memory: None,
) -> None:
    await cache.put("a", "1", 60)
    await cache.put("gone", "x", -1)  # already expired
    assert await cache.get("a") == "1" and await cache.get("gone") is None
    await cache.drop("a", "another value")  # someone stored a newer one: kept
    assert await cache.get("a") == "1"
    await cache.drop("a", "1")
    assert await cache.get("a") is None


async def test_memory_holds_a_bounded_number_of_entries(
    in_memory: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MEMORY_ENTRIES", 3)
    for n in range(5):
        await cache.put(f"k{n}", str(n), 60)
    assert [await cache.get(f"k{n}") for n in range(5)] == [None, None, "2", "3", "4"]


async def test_redis_shares_values_with_their_lifetime(redis_set: str) -> None:
    import redis

    await cache.put("test:shared", "v1", 120)
    assert await cache.get("test:shared") == "v1"
    client = redis.Redis.from_url(redis_set)
    try:
        assert 110 < client.ttl(cache.PREFIX + "test:shared") <= 120
        await cache.drop("test:shared", "v0")
        assert await cache.get("test:shared") == "v1"
        await cache.drop("test:shared", "v1")
        assert client.get(cache.PREFIX + "test:shared") is None
    finally:
        client.delete(cache.PREFIX + "test:shared")
        client.close()


async def test_an_unreachable_redis_is_a_miss_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    get_settings.cache_clear()
    try:
        await cache.put("k", "v", 60)
        assert await cache.get("k") is None
        await cache.drop("k", "v")
    finally:
        get_settings.cache_clear()
