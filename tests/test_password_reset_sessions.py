"""A new password ends the person's other sessions: two browsers (two HTTP clients, with
their own cookies), on one web process with in-memory sessions or on two web processes
sharing Redis. The session that set the password is signed out too (a fresh login)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis
from litestar.testing import AsyncTestClient

from loyalchat.settings import get_settings
from loyalchat.tenants import accounts
from tests.console_helpers import login, post_form
from tests.fakes.smtp import clear_outbox, last_link
from tests.fixtures import PASSWORD, World
from tests.test_tasks_support import fresh_stub_broker

NEW = "a brand new passphrase"


@pytest.fixture(autouse=True)
def _outbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    clear_outbox()
    yield
    clear_outbox()


@pytest.fixture(autouse=True)
def _stub_broker() -> Iterator[object]:
    # The apps below find a broker set up: with redis_url in their settings they would
    # otherwise make a Redis one for the whole test process.
    yield from fresh_stub_broker()


@asynccontextmanager
async def browsers(
    backend: str, redis_url: str, count: int, *, fresh: bool = True
) -> AsyncIterator[list[AsyncTestClient]]:
    """``count`` clients: on one app (memory sessions) or each on an app of its own (Redis
    sessions: separate web processes; ``fresh``: none stored before)."""
    from loyalchat.app import create_app

    settings = get_settings()
    if backend == "redis" and fresh:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter("loyalchat:sessions*"):
            client.delete(key)
        client.close()
    if backend == "redis":
        settings = settings.model_copy(update={"redis_url": redis_url})
        apps = [create_app(settings, run_workers=False) for _ in range(count)]
    else:
        apps = [create_app(settings, run_workers=False)] * count
    clients = [AsyncTestClient(app=app) for app in apps]
    opened: list[AsyncTestClient] = []
    try:
        for client_ in clients:
            opened.append(await client_.__aenter__())
        yield opened
    finally:
        for client_ in reversed(opened):
            await client_.__aexit__(None, None, None)


async def _reset_with_the_mailed_link(client: AsyncTestClient, email: str) -> Any:
    asked = await post_form(client, "/password/forgot", {"email": email})
    assert asked.status_code == 200
    link = last_link(email, "/password/reset?token=")
    token = link.split("token=")[1]
    assert (await client.get(link)).status_code == 200
    return await post_form(
        client, "/password/reset", {"token": token, "password": NEW, "password_confirm": NEW}
    )


async def _console(client: AsyncTestClient) -> Any:
    return await client.get("/console", follow_redirects=False)


def _sent_to_login(response: Any) -> bool:
    return response.status_code in (302, 303) and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_reset_signs_the_person_out_of_their_other_sessions(
    backend: str, tenant_a: World, redis_url: str
) -> None:
    async with browsers(backend, redis_url, 3) as (laptop, phone, colleague):
        await login(laptop, tenant_a.owner.email)
        await login(colleague, tenant_a.cashier.email)
        assert (await _console(laptop)).status_code == 200
        # The owner forgot the password on the phone (not signed in there) and sets a new one.
        done = await _reset_with_the_mailed_link(phone, tenant_a.owner.email)
        assert done.status_code == 303 and done.headers["location"] == "/login"
        # The laptop's session, opened with the old password, is over.
        assert _sent_to_login(await _console(laptop))
        assert _sent_to_login(await laptop.get("/console/members", follow_redirects=False))
        # Another person's session is not.
        assert (await _console(colleague)).status_code == 200
        # The phone signs in with the new password; the laptop needs it too.
        signed_in = await post_form(
            phone, "/login", {"email": tenant_a.owner.email, "password": NEW}
        )
        assert signed_in.status_code == 303
        assert (await _console(phone)).status_code == 200
        old = await post_form(
            laptop, "/login", {"email": tenant_a.owner.email, "password": PASSWORD}
        )
        assert old.status_code == 400
        assert _sent_to_login(await _console(laptop))
        again = await post_form(laptop, "/login", {"email": tenant_a.owner.email, "password": NEW})
        assert again.status_code == 303
        assert (await _console(laptop)).status_code == 200
        # Both new sessions live side by side.
        assert (await _console(phone)).status_code == 200


async def test_the_session_that_sets_the_password_signs_in_afresh(
    tenant_a: World, redis_url: str
) -> None:
    async with browsers("memory", redis_url, 1) as (laptop,):
        await login(laptop, tenant_a.owner.email)
        before = laptop.cookies.get("lc_session")
        done = await _reset_with_the_mailed_link(laptop, tenant_a.owner.email)
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert laptop.cookies.get("lc_session") != before  # a new session id
        page = await laptop.get("/login")
        assert "flash-success" in page.text  # "Your password was changed..."
        assert _sent_to_login(await _console(laptop))
        await post_form(laptop, "/login", {"email": tenant_a.owner.email, "password": NEW})
        assert (await _console(laptop)).status_code == 200


async def test_a_password_set_from_the_command_line_ends_sessions_too(
    tenant_a: World, redis_url: str
) -> None:
    """``loyalchat createadmin`` (accounts.set_password) on an account signed in somewhere."""
    async with browsers("redis", redis_url, 1) as (laptop,):
        await login(laptop, tenant_a.owner.email)
        assert (await _console(laptop)).status_code == 200
    await accounts.set_password(tenant_a.owner.id, NEW)
    async with browsers("redis", redis_url, 1, fresh=False) as (same_laptop,):
        # The same cookie, presented to a web process started afterwards.
        same_laptop.cookies = laptop.cookies
        assert _sent_to_login(await _console(same_laptop))
