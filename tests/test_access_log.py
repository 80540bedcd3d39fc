"""The access log: one line per request with the status actually sent, whichever layer
answered (a middleware's 400/403, the router's 404/405, a handler), the resolved tenant,
and a path with wallet tokens masked and control characters escaped."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from structlog.testing import capture_logs

from loyalchat.settings import Settings
from loyalchat.tenants.tables import Role
from tests.api_support import bearer, key_with_role
from tests.fixtures import World


def logged_client() -> AsyncTestClient:
    from loyalchat.app import create_app

    # The tests' settings log at WARNING; the access log writes at INFO.
    return AsyncTestClient(app=create_app(Settings(log_level="INFO"), run_workers=False))


def access_lines(logs: list[dict]) -> list[dict]:
    return [entry for entry in logs if entry["event"] == "request"]


async def test_a_middlewares_refusal_is_logged_with_its_own_status(tenant_a: World) -> None:
    cashier = await key_with_role(tenant_a, Role.cashier)
    async with logged_client() as client:
        with capture_logs() as logs:
            nul = await client.get("/api/v1/members/M%00001", headers=bearer(tenant_a.api_key))
            role = await client.post(
                "/api/v1/api-keys",
                json={"name": "Back office", "role": "owner"},
                headers=bearer(cashier, **{"Idempotency-Key": "k-1"}),
            )
            csrf = await client.post("/console/members", data={"name": "x"})
    assert (nul.status_code, role.status_code, csrf.status_code) == (400, 403, 403)
    lines = access_lines(logs)
    assert [line["status"] for line in lines] == [400, 403, 403], lines
    assert lines[1]["tenant_id"] == tenant_a.id


async def test_the_tenant_is_logged_once_resolved(tenant_a: World) -> None:
    async with logged_client() as client:
        with capture_logs() as logs:
            response = await client.get("/api/v1/me", headers=bearer(tenant_a.api_key))
    assert response.status_code == 200
    [line] = access_lines(logs)
    assert (line["status"], line["tenant_id"], line["path"]) == (200, tenant_a.id, "/api/v1/me")


async def test_router_404_and_405_are_logged() -> None:
    async with logged_client() as client:
        with capture_logs() as logs:
            missing = await client.get("/no/such/page")
            method = await client.delete("/health")
    assert (missing.status_code, method.status_code) == (404, 405)
    lines = access_lines(logs)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/no/such/page", 404),
        ("/health", 405),
    ]


async def test_control_characters_in_the_path_are_escaped_in_the_log() -> None:
    async with logged_client() as client:
        with capture_logs() as logs:
            await client.get("/w/secret.token/x%00y%0Az")
    [line] = access_lines(logs)
    assert line["path"] == "/w/…/x\\x00y\\x0az"
    assert line["status"] == 404  # no such wallet page


def test_loggable_path_escapes_control_characters_and_masks_wallet_tokens() -> None:
    from loyalchat.log import loggable_path

    assert loggable_path("/console/a\x00b\nc\x7f") == "/console/a\\x00b\\x0ac\\x7f"
    assert loggable_path("/w/tok\x00en/history") == "/w/…/history"


def test_outgoing_requests_leave_their_query_out_of_the_log(caplog) -> None:
    """WeChat's API takes the access token in the query: httpx's request lines (INFO) must
    not reach the log at the INFO level the app runs at."""
    import logging

    import httpx

    from loyalchat.log import configure_logging

    configure_logging(Settings(log_level="INFO"))
    try:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, text="ok"))
        with caplog.at_level(logging.INFO), httpx.Client(transport=transport) as client:
            client.get("https://api.weixin.qq.com/cgi-bin/menu/get?access_token=SECRET-TOKEN")
        assert "SECRET-TOKEN" not in caplog.text
    finally:
        configure_logging(Settings(log_level="WARNING"))


async def test_webhooks_answered_before_the_router_are_logged(tenant_a: World) -> None:
    async with logged_client() as client:
        with capture_logs() as logs:
            unknown = await client.post("/hooks/whatsapp/no-such-shop", content=b"{}")
            platform = await client.post("/hooks/whatsapp", content=b"{}")
    assert (unknown.status_code, platform.status_code) == (404, 404)
    lines = access_lines(logs)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/hooks/whatsapp/no-such-shop", 404),
        ("/hooks/whatsapp", 404),
    ]
