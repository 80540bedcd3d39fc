"""Platform admin: a shop's detail page, suspending and reactivating it, and what that does."""

from __future__ import annotations

import json

from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.tenants import accounts
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import AuditLog, TenantStatus
from tests.fakeplugin import FakePlugin
from tests.fixtures import PASSWORD, World, make_world

TOKEN = "EAAG-admin-must-not-see-4321"


def open_client(pm=None) -> AsyncTestClient:
    from loyalchat.app import create_app

    return AsyncTestClient(app=create_app(run_workers=False, plugins=pm))


async def post_form(client: AsyncTestClient, path: str, data: dict | None = None):
    if not client.cookies.get("lc_csrf"):
        await client.get("/login")
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        path, data={**(data or {}), "_csrf_token": token}, follow_redirects=False
    )


async def login(client: AsyncTestClient, email: str) -> None:
    await client.get("/login")
    response = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text


async def status_of(world: World) -> str:
    tenant = await tenant_service.get_tenant(world.id)
    assert tenant is not None
    return tenant.status


async def status_audit(tenant_id: int) -> list[dict]:
    return (
        await AuditLog.select()
        .where((AuditLog.action == "tenant.status") & (AuditLog.tenant == tenant_id))
        .order_by(AuditLog.id)
    )


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def test_suspend_and_reactivate_through_the_admin_ui(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    async with open_client() as client:
        await login(client, admin.email)
        home = await client.get("/admin")
        assert f'action="/admin/tenants/{tenant_a.id}/status"' in home.text
        assert f'href="/admin/tenants/{tenant_a.id}"' in home.text
        response = await post_form(
            client,
            f"/admin/tenants/{tenant_a.id}/status",
            {"status": "suspended", "reason": "  Unpaid   invoice ", "next": "/admin"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/admin"
        home = await client.get("/admin")
        assert "Alpha-Tea is suspended." in home.text
    assert await status_of(tenant_a) == TenantStatus.suspended
    assert await status_of(tenant_b) == TenantStatus.active
    [entry] = await status_audit(tenant_a.id)
    assert entry["actor"] == f"staff:{admin.id}" and entry["actor_label"] == admin.email
    assert json.loads(entry["after"]) == {"status": "suspended", "reason": "Unpaid invoice"}

    # The shop's staff see the banner; its API keys only read (tests/test_tenant_status.py);
    # the other shop is untouched.
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        console = await client.get("/console")
        assert 'data-testid="tenant-status-banner"' in console.text
        assert "This shop is suspended" in console.text
        write = await client.post("/api/v1/members", json={}, headers=bearer(tenant_a.api_key))
        assert write.status_code == 403
        assert (await client.get("/api/v1/me", headers=bearer(tenant_b.api_key))).status_code == 200

    async with open_client() as client:
        await login(client, admin.email)
        response = await post_form(
            client, f"/admin/tenants/{tenant_a.id}/status", {"status": "active"}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/tenants/{tenant_a.id}"
        detail = await client.get(response.headers["location"])
        assert "Alpha-Tea is active again." in detail.text
    assert await status_of(tenant_a) == TenantStatus.active
    statuses = [json.loads(row["after"])["status"] for row in await status_audit(tenant_a.id)]
    assert statuses == ["suspended", "active"]
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        assert "tenant-status-banner" not in (await client.get("/console")).text
        assert (await client.get("/api/v1/me", headers=bearer(tenant_a.api_key))).status_code == 200


async def test_suspending_needs_a_reason(admin: accounts.StaffInfo, tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, admin.email)
        response = await post_form(
            client, f"/admin/tenants/{tenant_a.id}/status", {"status": "suspended", "reason": " "}
        )
    assert response.status_code == 400
    assert f'id="f-reason-{tenant_a.id}-error"' in response.text
    assert "Say why the shop is suspended" in response.text
    assert await status_of(tenant_a) == TenantStatus.active
    assert await status_audit(tenant_a.id) == []


async def test_only_active_suspended_transitions(
    admin: accounts.StaffInfo, tenant_a: World
) -> None:
    pending = await make_world("delta-deli", TenantStatus.pending_review)
    async with open_client() as client:
        await login(client, admin.email)
        cases = [
            (tenant_a.id, {"status": "active"}),  # already active
            (pending.id, {"status": "suspended", "reason": "x"}),  # not active yet
            (pending.id, {"status": "active"}),  # approval is onboarding's job
            (tenant_a.id, {"status": "rejected"}),
        ]
        for tenant_id, data in cases:
            response = await post_form(client, f"/admin/tenants/{tenant_id}/status", data)
            assert response.status_code == 409, (tenant_id, data)
            assert "Only an active shop can be suspended" in response.text
        again = await post_form(client, f"/admin/tenants/{tenant_a.id}/status", {})
        bogus = await post_form(client, f"/admin/tenants/{tenant_a.id}/status", {"status": "x"})
        missing = await post_form(client, "/admin/tenants/9999/status", {"status": "active"})
    assert again.status_code == 400  # no target status
    assert bogus.status_code == 400
    assert missing.status_code == 404
    assert await status_of(tenant_a) == TenantStatus.active
    assert await status_of(pending) == TenantStatus.pending_review
    assert await AuditLog.count().where(AuditLog.action == "tenant.status") == 0


async def test_non_admins_are_refused(tenant_a: World, tenant_b: World) -> None:
    async with open_client() as client:
        anonymous = await client.get(f"/admin/tenants/{tenant_b.id}", follow_redirects=False)
        assert anonymous.status_code in (302, 303)
        await login(client, tenant_a.owner.email)
        assert (await client.get(f"/admin/tenants/{tenant_b.id}")).status_code == 403
        response = await post_form(
            client,
            f"/admin/tenants/{tenant_b.id}/status",
            {"status": "suspended", "reason": "hostile"},
        )
        assert response.status_code == 403
    assert await status_of(tenant_b) == TenantStatus.active


async def test_status_change_needs_the_csrf_token(
    admin: accounts.StaffInfo, tenant_a: World
) -> None:
    async with open_client() as client:
        await login(client, admin.email)
        response = await client.post(
            f"/admin/tenants/{tenant_a.id}/status",
            data={"status": "suspended", "reason": "no token"},
        )
        assert response.status_code == 403
    assert await status_of(tenant_a) == TenantStatus.active


async def test_tenant_detail_shows_staff_plugins_and_audit(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    pm = build_plugin_manager(load_entrypoints=False, plugins={"fake": FakePlugin()})
    with tenant_context(tenant_a.id, Actor("system")):
        await ps.update_settings("fake", {"account_id": "acct-9", "access_token": TOKEN}, pm)
        await ps.enable_plugin("fake", pm)
    async with open_client(pm) as client:  # the page lists what the app's plugins say
        await login(client, admin.email)
        page = await client.get(f"/admin/tenants/{tenant_a.id}")
        missing = await client.get("/admin/tenants/9999")
        zh = await client.get(f"/admin/tenants/{tenant_a.id}", headers={"accept-language": "zh-HK"})
    assert page.status_code == 200
    assert tenant_a.tenant.display_name in page.text and tenant_a.tenant.slug in page.text
    assert tenant_a.owner.email in page.text and tenant_a.cashier.email in page.text
    assert "Owner" in page.text and "Cashier" in page.text
    assert 'data-plugin="fake"' in page.text  # enabled plugins, by title; no settings
    assert "acct-9" not in page.text and TOKEN not in page.text and "4321" not in page.text
    # Its audit log, as sentences; the keys only under Details; sign-ins left out.
    assert "The system turned on Fake" in page.text
    assert "created the API key" in page.text
    assert 'data-action="staff.login"' not in page.text
    assert tenant_b.owner.email not in page.text and tenant_b.tenant.slug not in page.text
    assert f'action="/admin/tenants/{tenant_a.id}/status"' in page.text
    assert missing.status_code == 404
    assert "東主" in zh.text and "已啟用的插件" in zh.text
    assert "建立了 API 金鑰" in zh.text


async def test_health_panel_counts_inbound_events_and_queue(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    from loyalchat.inbox.tables import InboundEvent

    for world, key, status in (
        (tenant_a, "a-1", "done"),
        (tenant_a, "a-2", "failed"),
        (tenant_b, "b-1", "failed"),
        (tenant_b, "b-2", "received"),
    ):
        await InboundEvent.insert(
            InboundEvent(tenant=world.id, source="whatsapp", provider_key=key, status=status)
        )
    async with open_client() as client:
        await login(client, admin.email)
        panel = await client.get("/admin/platform-status")
    assert panel.status_code == 200
    text = " ".join(panel.text.split())
    assert "Inbound events (24 h)</dt><dd>4" in text
    assert "Failed (24 h)</dt><dd>2" in text
    assert "Waiting to be processed</dt><dd>1" in text
    assert "Queue depth</dt><dd>0" in text
    assert "health-error" in panel.text  # failures are flagged, not just counted
