"""Server-side sessions: rotated at login, Redis-backed when configured, logout ends them."""

from __future__ import annotations

import pytest
import redis
from litestar.testing import AsyncTestClient

from loyalchat.settings import Settings
from tests.fixtures import PASSWORD, World
from tests.test_isolation import _login


def _settings(**overrides) -> Settings:
    from loyalchat.settings import get_settings

    return get_settings().model_copy(update=overrides)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_login_rotates_session_and_logout_ends_it(
    backend: str, tenant_a: World, redis_url: str
) -> None:
    from loyalchat.app import create_app

    settings = _settings(redis_url=redis_url if backend == "redis" else "")
    if backend == "redis":
        redis.Redis.from_url(redis_url).flushdb()
    app = create_app(settings, run_workers=False)
    async with AsyncTestClient(app=app) as client:
        client.cookies.set("lc_session", "attacker-chosen-id", domain="testserver.local")
        await _login(client, tenant_a.owner.email)
        session_id = client.cookies.get("lc_session")
        assert session_id and session_id != "attacker-chosen-id"
        home = await client.get("/console")
        assert home.status_code == 200 and "Alpha-Tea" in home.text
        if backend == "redis":
            keys = redis.Redis.from_url(redis_url).keys("loyalchat*sessions*")
            assert any(session_id.encode() in key for key in keys)
        csrf = {"x-csrftoken": client.cookies.get("lc_csrf", "")}
        out = await client.post("/logout", headers=csrf, follow_redirects=False)
        assert out.status_code in (302, 303)
        after = await client.get("/console", follow_redirects=False)
        assert after.status_code in (302, 303) and "/login" in after.headers["location"]


async def test_session_cookie_flags(tenant_a: World) -> None:
    from loyalchat.app import create_app

    app = create_app(_settings(public_base_url="https://shop.example"), run_workers=False)
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        await client.get("/login")
        response = await client.post(
            "/login",
            data={"email": tenant_a.owner.email, "password": PASSWORD},
            headers={"x-csrftoken": client.cookies.get("lc_csrf", "")},
            follow_redirects=False,
        )
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("lc_session="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "secure" in lowered and "samesite=lax" in lowered
