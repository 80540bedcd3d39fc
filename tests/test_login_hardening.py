"""Logins: attempts counted before argon2 runs (memory and Redis), growing waits instead of
a hard lock, and argon2 kept off the event loop.

The app tests drive it through httpx's ASGI transport on the test's own event loop, so
"the loop stayed free while a password was being checked" is something the test can see.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import redis
from argon2 import PasswordHasher

from loyalchat import security
from loyalchat.settings import Settings
from loyalchat.tenants.tables import StaffUser
from loyalchat.tenants.throttle import (
    AttemptStore,
    LoginThrottle,
    MemoryAttemptStore,
    RedisAttemptStore,
)
from tests.fixtures import PASSWORD, World

SETTINGS = Settings(login_max_failures=3, login_lockout_seconds=100)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], AttemptStore]:
    if request.param == "memory":
        return MemoryAttemptStore
    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()
    return lambda: RedisAttemptStore(url)


async def test_free_attempts_then_waits_that_double_up_to_the_cap(make_store) -> None:
    clock = Clock()
    throttle = LoginThrottle(make_store(), SETTINGS, clock=clock)
    ip = "203.0.113.9"
    for _ in range(3):
        assert (await throttle.admit("victim@shop.test", ip)).allowed
    refused = await throttle.admit("VICTIM@shop.test ", "198.51.100.1")  # per account
    assert not refused.allowed and refused.retry_after == 30
    clock.now += 10
    assert (await throttle.admit("victim@shop.test", ip)).retry_after == 20, "refusals are free"
    assert (await throttle.admit("other@shop.test", "198.51.100.1")).allowed
    waits, wait = [], 20
    for _ in range(4):
        clock.now += wait  # just as the wait ends: one more attempt passes
        assert (await throttle.admit("victim@shop.test", ip)).allowed
        wait = (await throttle.admit("victim@shop.test", ip)).retry_after
        waits.append(wait)
    assert waits == [60, 100, 100, 100]  # 30, 60, 120 -> capped at login_lockout_seconds
    if isinstance(throttle.store, RedisAttemptStore):  # another web process shares it
        other = LoginThrottle(make_store(), SETTINGS, clock=clock)
        assert not (await other.admit("victim@shop.test", ip)).allowed


async def test_success_forgets_the_account_and_gives_the_ip_its_attempt_back(make_store) -> None:
    clock = Clock()
    throttle = LoginThrottle(make_store(), SETTINGS, clock=clock)
    ip = "192.0.2.50"
    for _ in range(3):
        assert (await throttle.admit("owner@shop.test", ip)).allowed
    await throttle.succeeded("owner@shop.test", ip)
    for _ in range(3):
        assert (await throttle.admit("owner@shop.test", ip)).allowed
    # Per address: 4x the per-account limit, over any accounts.
    ip = "192.0.2.60"
    for n in range(throttle.max_ip_failures):
        assert (await throttle.admit(f"user{n}@shop.test", ip)).allowed, n
    assert not (await throttle.admit("fresh@shop.test", ip)).allowed
    assert (await throttle.admit("fresh@shop.test", "192.0.2.61")).allowed
    # A success gives the address its own attempt back, and no more.
    ip = "192.0.2.70"
    for n in range(throttle.max_ip_failures - 1):
        assert (await throttle.admit(f"user{n}@shop.test", ip)).allowed, n
    await throttle.succeeded("user0@shop.test", ip)
    assert (await throttle.admit("late1@shop.test", ip)).allowed
    assert (await throttle.admit("late2@shop.test", ip)).allowed
    assert not (await throttle.admit("late3@shop.test", ip)).allowed


async def test_records_are_forgotten_after_their_wait_and_the_lockout_time() -> None:
    clock = Clock()
    throttle = LoginThrottle(MemoryAttemptStore(), SETTINGS, clock=clock)
    for _ in range(4):
        await throttle.admit("a@shop.test", "192.0.2.1")
    clock.now += 30 + 100 + 1  # the wait, then login_lockout_seconds without an attempt
    for _ in range(3):
        assert (await throttle.admit("a@shop.test", "192.0.2.1")).allowed


def test_redis_records_expire(redis_url: str) -> None:
    async def run() -> int:
        store = RedisAttemptStore(redis_url)
        throttle = LoginThrottle(store, SETTINGS)
        for _ in range(3):
            await throttle.admit("ttl@shop.test", "192.0.2.7")
        return redis.Redis.from_url(redis_url).ttl("loyalchat:throttle:acct:ttl@shop.test")

    redis.Redis.from_url(redis_url).flushdb()
    assert 100 < asyncio.run(run()) <= 131  # the 30 s wait plus login_lockout_seconds


# -- through the app -------------------------------------------------------------------------


@pytest.fixture
async def app_client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    from loyalchat.app import create_app

    app = create_app(run_workers=False)
    if getattr(request, "param", "memory") == "redis":
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        app.state.throttle = LoginThrottle(RedisAttemptStore(url))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.get("/login")  # the CSRF cookie
        yield client


async def post_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    data = {"email": email, "password": password, "_csrf_token": client.cookies["lc_csrf"]}
    return await client.post("/login", data=data)


@pytest.mark.parametrize("app_client", ["memory", "redis"], indirect=True)
async def test_concurrent_guesses_verify_no_more_than_the_limit(
    tenant_a: World, app_client: httpx.AsyncClient
) -> None:
    limit = app_client._transport.app.state.throttle.max_failures  # type: ignore[attr-defined]
    before = security.password_verifications.total
    responses = await asyncio.gather(
        *(post_login(app_client, tenant_a.owner.email, f"guess {n}") for n in range(20))
    )
    verified = security.password_verifications.total - before
    statuses = sorted(response.status_code for response in responses)
    assert verified == limit, f"{verified} passwords checked, limit {limit}"
    assert statuses == [400] * limit + [429] * (20 - limit)
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert "Too many failed attempts" in refused.text


async def test_the_event_loop_keeps_serving_while_a_password_is_checked(
    tenant_a: World, app_client: httpx.AsyncClient
) -> None:
    # A deliberately slow hash (argon2 reads its cost from the hash), so the check is
    # certain to be still running when the other request is served.
    slow = PasswordHasher(time_cost=12).hash(PASSWORD)
    await StaffUser.update({StaffUser.password_hash: slow}).where(StaffUser.id == tenant_a.owner.id)
    login = asyncio.create_task(post_login(app_client, tenant_a.owner.email, PASSWORD))
    # Wait, giving the loop away each time, until the check is seen running. A check that
    # ran on the loop itself would start and finish between two of these looks.
    while security.password_verifications.running == 0 and not login.done():  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    assert not login.done(), "the password check never ran while the event loop was free"
    health = await app_client.get("/health")
    assert health.status_code == 200
    assert security.password_verifications.running > 0 and not login.done()
    assert (await login).status_code == 303


@pytest.mark.parametrize(
    ("configured", "passed"), [("10.0.0.0/8,192.0.2.1", "10.0.0.0/8,192.0.2.1"), ("", None)]
)
def test_serve_believes_forwarded_headers_only_from_configured_proxies(
    monkeypatch: pytest.MonkeyPatch, configured: str, passed: str | None
) -> None:
    """The throttle keys on the client address: behind a proxy it must be the real one,
    and nobody else may claim an address with X-Forwarded-For."""
    import uvicorn
    from click.testing import CliRunner

    from loyalchat.commands.serve import serve_command
    from loyalchat.settings import get_settings

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("LOYALCHAT_FORWARDED_ALLOW_IPS", configured)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(serve_command, [])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert calls[0]["proxy_headers"] is True
    assert calls[0]["forwarded_allow_ips"] == passed
