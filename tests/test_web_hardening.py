"""CSRF exemptions anchored to the start of the path; wallet tokens kept out of error logs.

A small probe plugin adds routes whose paths may contain any text (``{rest:path}``), so
the real app's CSRF middleware and exception handlers are exercised end to end.
"""

from __future__ import annotations

import pytest
from litestar import get, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from loyalchat.context import NoTenantContext
from loyalchat.hookimpl import hookimpl
from tests.fixtures import World

WALLET_TOKEN = "eyJ0aWQiOjF9.secret-wallet-token"


@post("/probe/{rest:path}", status_code=200)
async def probe_post(rest: FromPath[str]) -> str:
    return "reached"


@post("/hooks/probe", status_code=200)
async def probe_hook() -> str:
    return "reached"


@get("/w/{token:str}/probe-crash")
async def probe_crash(token: FromPath[str]) -> str:
    raise RuntimeError("a bug on a wallet page")


@get("/w/{token:str}/probe-no-tenant")
async def probe_no_tenant(token: FromPath[str]) -> str:
    raise NoTenantContext("member table touched without a tenant")


class ProbePlugin:
    @hookimpl
    def register_routes(self) -> list:
        return [probe_post, probe_hook, probe_crash, probe_no_tenant]


def probe_client() -> AsyncTestClient:
    from loyalchat.app import create_app
    from loyalchat.pluginmanager import build_plugin_manager

    pm = build_plugin_manager(load_entrypoints=True, plugins={"probe": ProbePlugin()})
    return AsyncTestClient(app=create_app(run_workers=False, plugins=pm))


@pytest.mark.parametrize(
    "path",
    [
        "/probe/x/api/v1/members",
        "/probe/hooks/whatsapp",
        "/probe/x/health",
        "/probe/ready",
        "/probe/schema/openapi.json",
        "/probe/login%3F/health",
    ],
)
async def test_csrf_exemptions_do_not_match_inside_a_path(path: str) -> None:
    async with probe_client() as client:
        await client.get("/login")  # a CSRF cookie, as a browser would hold
        refused = await client.post(path, data={"x": "1"})
        accepted = await client.post(
            path, data={"x": "1"}, headers={"x-csrftoken": client.cookies.get("lc_csrf", "")}
        )
    assert refused.status_code == 403, refused.text
    assert accepted.status_code == 200 and accepted.text == "reached"


async def test_machine_routes_stay_exempt_from_csrf(tenant_a: World) -> None:
    async with probe_client() as client:
        hook = await client.post("/hooks/probe", content=b"{}")
        api = await client.post(
            "/api/v1/members",
            json={"name": "Chan"},
            headers={"authorization": f"Bearer {tenant_a.api_key}"},
        )
    assert hook.status_code == 200
    assert api.status_code == 201, api.text


@pytest.mark.parametrize(
    ("path", "event", "status"),
    [
        (f"/w/{WALLET_TOKEN}/probe-crash", "unhandled_error", 500),
        (f"/w/{WALLET_TOKEN}/probe-no-tenant", "no_tenant_context", 404),
    ],
)
async def test_error_logs_mask_wallet_tokens(path: str, event: str, status: int) -> None:
    async with probe_client() as client:
        with capture_logs() as logs:
            response = await client.get(path)
    assert response.status_code == status
    entries = [entry for entry in logs if entry["event"] == event]
    assert entries, logs
    assert all("secret-wallet-token" not in repr(entry) for entry in logs)
    assert entries[0]["path"].startswith("/w/…/probe-")
