"""Tenant API keys: shown once, stored hashed, scoped to one tenant and a role, revocable."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import apikeys
from loyalchat.tenants.service import set_status
from loyalchat.tenants.tables import ApiKey, Role, TenantStatus
from tests.fixtures import World


@pytest.fixture
def app() -> Litestar:
    from loyalchat.app import create_app

    return create_app()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_key_is_stored_hashed_and_never_listed(app: Litestar, tenant_a: World) -> None:
    rows = await ApiKey.select(ApiKey.key_hash, ApiKey.prefix)
    assert all(tenant_a.api_key not in str(row) for row in rows)
    async with AsyncTestClient(app=app) as client:
        listed = await client.get("/api/v1/api-keys", headers=bearer(tenant_a.api_key))
    assert listed.status_code == 200
    assert tenant_a.api_key not in listed.text
    assert [k["name"] for k in listed.json()] == ["alpha-tea key"]


async def test_me_tells_tenant_and_role(app: Litestar, tenant_a: World, tenant_b: World) -> None:
    async with AsyncTestClient(app=app) as client:
        a = (await client.get("/api/v1/me", headers=bearer(tenant_a.api_key))).json()
        b = (await client.get("/api/v1/me", headers=bearer(tenant_b.api_key))).json()
    assert (a["tenant"]["slug"], a["role"]) == ("alpha-tea", "manager")
    assert b["tenant"]["slug"] == "bravo-bakery"


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"Authorization": "Bearer lc_nope_nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
)
async def test_missing_or_wrong_key_is_401_json(app: Litestar, tenant_a: World, header) -> None:
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/api/v1/me", headers=header)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


async def test_tampered_key_with_valid_prefix_is_refused(app: Litestar, tenant_a: World) -> None:
    forged = tenant_a.api_key[:-4] + ("AAAA" if not tenant_a.api_key.endswith("AAAA") else "BBBB")
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/api/v1/me", headers=bearer(forged))
    assert response.status_code == 401


async def test_role_is_enforced(app: Litestar, tenant_a: World) -> None:
    with tenant_context(tenant_a.id, Actor("system")):
        cashier_key = (await apikeys.create_key("till", Role.cashier)).key
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/api/v1/me", headers=bearer(cashier_key))).status_code == 200
        denied = await client.get("/api/v1/api-keys", headers=bearer(cashier_key))
        assert denied.status_code == 403
        # As in the console: a manager mints keys, never stronger than itself.
        stronger = await client.post(
            "/api/v1/api-keys",
            json={"name": "x", "role": "owner"},
            headers=bearer(tenant_a.api_key),
        )
        assert stronger.status_code == 403
        minted = await client.post(
            "/api/v1/api-keys",
            json={"name": "x", "role": "manager"},
            headers=bearer(tenant_a.api_key),
        )
        assert minted.status_code == 201
        denied = await client.post(
            "/api/v1/api-keys", json={"name": "y", "role": "cashier"}, headers=bearer(cashier_key)
        )
        assert denied.status_code == 403


async def test_owner_key_creates_and_revokes(app: Litestar, tenant_a: World) -> None:
    with tenant_context(tenant_a.id, Actor("system")):
        owner_key = (await apikeys.create_key("root", Role.owner)).key
    async with AsyncTestClient(app=app) as client:
        created = await client.post(
            "/api/v1/api-keys", json={"name": "POS", "role": "cashier"}, headers=bearer(owner_key)
        )
        assert created.status_code == 201
        issued = created.json()
        assert issued["key"].startswith("lc_")
        assert (await client.get("/api/v1/me", headers=bearer(issued["key"]))).status_code == 200
        shown = await client.get(f"/api/v1/api-keys/{issued['id']}", headers=bearer(owner_key))
        assert "key" not in shown.json()
        revoked = await client.delete(f"/api/v1/api-keys/{issued['id']}", headers=bearer(owner_key))
        assert revoked.status_code == 204
        assert (await client.get("/api/v1/me", headers=bearer(issued["key"]))).status_code == 401
        bad = await client.post(
            "/api/v1/api-keys", json={"name": "", "role": "cashier"}, headers=bearer(owner_key)
        )
        assert bad.status_code == 400
        unknown_role = await client.post(
            "/api/v1/api-keys", json={"name": "x", "role": "god"}, headers=bearer(owner_key)
        )
        assert unknown_role.status_code == 400


async def test_two_tenants_cannot_touch_each_others_keys(
    app: Litestar, tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_a.id, Actor("system")):
        a_owner = (await apikeys.create_key("a-root", Role.owner)).key
    with tenant_context(tenant_b.id, Actor("system")):
        b_keys = await apikeys.list_keys()
    b_id = b_keys[0]["id"]
    async with AsyncTestClient(app=app) as client:
        assert (
            await client.get(f"/api/v1/api-keys/{b_id}", headers=bearer(a_owner))
        ).status_code == 404
        assert (
            await client.delete(f"/api/v1/api-keys/{b_id}", headers=bearer(a_owner))
        ).status_code == 404
        assert (await client.get("/api/v1/me", headers=bearer(tenant_b.api_key))).status_code == 200
    # The service refuses too, whatever the route does.
    with tenant_context(tenant_a.id, Actor("system")):
        assert await apikeys.revoke_key(b_id) is False
        assert await apikeys.get_key(b_id) is None


async def test_keys_of_a_suspended_tenant_only_read(app: Litestar, tenant_a: World) -> None:
    """Suspended = read-only (tenants.access): reads answer, writes get 403 tenant_suspended."""
    await set_status(tenant_a.id, TenantStatus.suspended, "unpaid")
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/api/v1/me", headers=bearer(tenant_a.api_key))).status_code == 200
        write = await client.post(
            "/api/v1/members", json={"name": "x"}, headers=bearer(tenant_a.api_key)
        )
        assert write.status_code == 403
        assert write.json()["error"]["code"] == "tenant_suspended"


async def test_api_ignores_session_cookies(app: Litestar, tenant_a: World) -> None:
    """/api is CSRF-exempt, so it must never act on a browser's session cookie."""
    from tests.test_isolation import _login

    async with AsyncTestClient(app=app) as client:
        await _login(client, tenant_a.owner.email)
        assert (await client.get("/api/v1/me")).status_code == 401
