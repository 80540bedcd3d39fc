"""The HTML console through the real app: sign-in, CSRF, languages, tenants, API keys, admin."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import accounts, apikeys, audit
from loyalchat.tenants.tables import Role, TenantStatus
from tests.fixtures import PASSWORD, World, make_world

KEY_RE = re.compile(r"lc_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


def open_client() -> AsyncTestClient:
    """A client for a fresh app. The app (and its database pool) runs on the client's own
    event loop, so tests touch the database only before or after the ``async with`` block."""
    from loyalchat.app import create_app

    return AsyncTestClient(app=create_app(run_workers=False))


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient]:
    """For tests whose database work is all done by fixtures (list this fixture last)."""
    async with open_client() as test_client:
        yield test_client


def csrf(client: AsyncTestClient) -> str:
    return client.cookies.get("lc_csrf", "")


async def post_form(client: AsyncTestClient, path: str, data: dict | None = None, **kwargs):
    """POST a form the way a browser does: with the CSRF token from the page's cookie."""
    if not csrf(client):
        await client.get("/login")
    return await client.post(
        path, data={**(data or {}), "_csrf_token": csrf(client)}, follow_redirects=False, **kwargs
    )


async def login(client: AsyncTestClient, email: str, password: str = PASSWORD, next_url: str = ""):
    await client.get("/login")
    data = {"email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return await post_form(client, "/login", data)


# -- signing in -----------------------------------------------------------------------------


async def test_login_success_lands_on_console_with_tenant_name(tenant_a: World) -> None:
    async with open_client() as client:
        await client.get("/login")
        before = client.cookies.get("lc_session")
        response = await login(client, tenant_a.owner.email)
        assert response.status_code == 303
        assert response.headers["location"] == "/console"
        assert client.cookies.get("lc_session") not in (None, before), "session id must rotate"
        home = await client.get("/console")
    assert home.status_code == 200
    assert tenant_a.tenant.display_name in home.text
    assert 'hx-headers=\'{"x-csrftoken": "' in home.text
    assert "/static/vendor/htmx/htmx.min.js" in home.text
    with tenant_context(tenant_a.id):
        actions = [entry["action"] for entry in await audit.recent()]
    assert "staff.login" in actions


async def test_login_with_wrong_password_shows_error(
    tenant_a: World, client: AsyncTestClient
) -> None:
    response = await login(client, tenant_a.owner.email, "wrong password")
    assert response.status_code == 400
    assert "Wrong e-mail address or password." in response.text
    assert (await client.get("/console", follow_redirects=False)).status_code in (302, 303)


async def test_login_form_errors_are_shown_next_to_fields(client: AsyncTestClient) -> None:
    response = await login(client, "", "")
    assert response.status_code == 400
    assert 'id="f-email-error"' in response.text
    assert 'id="f-password-error"' in response.text


async def test_login_is_throttled_after_repeated_failures(
    tenant_a: World, client: AsyncTestClient
) -> None:
    limit = client.app.state.throttle.max_failures
    for _ in range(limit):
        assert (await login(client, tenant_a.owner.email, "nope")).status_code == 400
    locked = await login(client, tenant_a.owner.email)  # even the right password
    assert locked.status_code == 429
    assert "Too many failed attempts. Try again later" in locked.text
    assert (await client.get("/console", follow_redirects=False)).status_code in (302, 303)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
async def test_login_refuses_open_redirects(
    tenant_a: World, target: str, client: AsyncTestClient
) -> None:
    response = await login(client, tenant_a.owner.email, next_url=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


async def test_login_follows_same_site_next(tenant_a: World, client: AsyncTestClient) -> None:
    response = await login(client, tenant_a.owner.email, next_url="/console/audit?page=2")
    assert response.headers["location"] == "/console/audit?page=2"


async def test_platform_admin_without_a_shop_lands_on_admin(
    admin: accounts.StaffInfo, client: AsyncTestClient
) -> None:
    response = await login(client, admin.email)
    assert response.headers["location"] == "/admin"


async def test_bare_address_leads_to_login_or_home(
    tenant_a: World, admin: accounts.StaffInfo, client: AsyncTestClient
) -> None:
    assert (await client.get("/", follow_redirects=False)).headers["location"] == "/login"
    await login(client, tenant_a.owner.email)
    assert (await client.get("/", follow_redirects=False)).headers["location"] == "/console"


async def test_logout_ends_the_session(tenant_a: World, client: AsyncTestClient) -> None:
    await login(client, tenant_a.owner.email)
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    assert (await client.get("/console", follow_redirects=False)).status_code in (302, 303)
    assert "You have signed out." in (await client.get("/login")).text


# -- CSRF -------------------------------------------------------------------------------------


async def test_post_without_csrf_token_is_forbidden(tenant_a: World) -> None:
    async with open_client() as client:
        await client.get("/login")
        response = await client.post(
            "/login", data={"email": tenant_a.owner.email, "password": PASSWORD}
        )
        assert response.status_code == 403
        await login(client, tenant_a.owner.email)
        response = await client.post("/console/api-keys", data={"name": "x", "role": "cashier"})
        assert response.status_code == 403
    with tenant_context(tenant_a.id):
        assert [key["name"] for key in await apikeys.list_keys()] == ["alpha-tea key"]


# -- languages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang", "text"),
    [
        (None, "en", "Sign in to your shop"),
        ("en-US,en;q=0.9", "en", "Sign in to your shop"),
        ("zh-HK,zh;q=0.9,en;q=0.8", "zh-Hant", "登入你的商店"),
        ("zh-TW", "zh-Hant", "登入你的商店"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "登录你的店铺"),
        ("zh-SG", "zh-Hans", "登录你的店铺"),
        ("fr-FR,zh-Hant-HK;q=0.5", "zh-Hant", "登入你的商店"),
    ],
)
async def test_language_is_negotiated_from_accept_language(
    header: str | None, lang: str, text: str, client: AsyncTestClient
) -> None:
    headers = {"accept-language": header} if header else {}
    response = await client.get("/login", headers=headers)
    assert f'<html lang="{lang}">' in response.text
    assert text in response.text


async def test_language_cookie_overrides_the_browser(client: AsyncTestClient) -> None:
    response = await client.get("/lang/zh-Hans?next=/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    page = await client.get("/login", headers={"accept-language": "zh-HK"})
    assert '<html lang="zh-Hans">' in page.text
    assert "登录你的店铺" in page.text


async def test_language_switch_refuses_unknown_codes_and_foreign_next(
    client: AsyncTestClient,
) -> None:
    assert (await client.get("/lang/de", follow_redirects=False)).status_code == 404
    response = await client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/console"


async def test_signed_in_users_preference_wins_and_is_saved(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        await client.get("/lang/zh-Hant?next=/console", follow_redirects=False)
    assert (await accounts.get_user(tenant_a.owner.id)).locale == "zh-Hant"

    async with open_client() as other:
        other.cookies.set("lc_lang", "en")
        await login(other, tenant_a.owner.email)
        page = await other.get("/console", headers={"accept-language": "zh-CN"})
    assert '<html lang="zh-Hant">' in page.text
    assert "主頁" in page.text


# -- tenant switcher --------------------------------------------------------------------------


async def test_tenant_switcher_moves_between_own_shops_only(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_b.id, Actor("system")):
        await accounts.grant_role(tenant_a.owner.id, Role.manager)
    outsider = await make_world("charlie-cafe")
    async with open_client() as client:
        await _switch_shops(client, tenant_a, tenant_b, outsider)


async def _switch_shops(
    client: AsyncTestClient, tenant_a: World, tenant_b: World, outsider: World
) -> None:
    await login(client, tenant_a.owner.email)

    home = await client.get("/console")
    assert 'action="/console/switch"' in home.text
    assert f'value="{tenant_b.id}"' in home.text
    assert outsider.tenant.display_name not in home.text

    switched = await post_form(client, "/console/switch", {"tenant_id": str(tenant_b.id)})
    assert switched.status_code == 303
    home = await client.get("/console")
    assert re.search(
        rf'data-testid="tenant-name">{re.escape(tenant_b.tenant.display_name)}<', home.text
    )

    foreign = await post_form(client, "/console/switch", {"tenant_id": str(outsider.id)})
    assert foreign.status_code == 404
    assert (await post_form(client, "/console/switch", {"tenant_id": "x"})).status_code == 404
    home = await client.get("/console")
    assert f'data-testid="tenant-name">{tenant_b.tenant.display_name}<' in home.text


async def test_console_shows_status_banner_for_inactive_shop() -> None:
    world = await make_world("delta-deli", TenantStatus.pending_review)
    async with open_client() as client:
        await login(client, world.owner.email)
        home = await client.get("/console")
    assert 'data-testid="tenant-status-banner"' in home.text
    assert "Your application is being reviewed." in home.text


async def test_console_home_for_active_shop_has_no_banner(
    tenant_a: World, client: AsyncTestClient
) -> None:
    await login(client, tenant_a.cashier.email)
    home = await client.get("/console")
    assert home.status_code == 200
    assert "tenant-status-banner" not in home.text
    assert "Nothing here yet" in home.text
    assert "/console/api-keys" not in home.text  # a cashier is not offered what they can't use


# -- API keys ---------------------------------------------------------------------------------


async def test_api_key_is_shown_once_and_works(tenant_a: World, client: AsyncTestClient) -> None:
    await login(client, tenant_a.owner.email)
    created = await post_form(client, "/console/api-keys", {"name": "Shop POS", "role": "manager"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    keys = KEY_RE.findall(created.text)
    assert len(set(keys)) == 1
    key = keys[0]

    listing = await client.get("/console/api-keys")
    assert "Shop POS" in listing.text
    assert key.split("_")[1] in listing.text  # the prefix identifies it
    assert key not in listing.text
    assert not KEY_RE.search(listing.text)

    me = await client.get("/api/v1/me", headers={"authorization": f"Bearer {key}"})
    assert me.status_code == 200


async def test_api_key_form_validates_next_to_fields(
    tenant_a: World, client: AsyncTestClient
) -> None:
    await login(client, tenant_a.owner.email)
    response = await post_form(client, "/console/api-keys", {"name": " ", "role": "emperor"})
    assert response.status_code == 400
    assert 'id="f-name-error"' in response.text
    assert 'id="f-role-error"' in response.text


async def test_manager_cannot_create_owner_keys(tenant_a: World) -> None:
    manager = await accounts.create_staff_user("manager@alpha-tea.test", PASSWORD)
    with tenant_context(tenant_a.id, Actor("system")):
        await accounts.grant_role(manager.id, Role.manager)
    async with open_client() as client:
        await login(client, manager.email)
        response = await post_form(client, "/console/api-keys", {"name": "x", "role": "owner"})
    assert response.status_code == 400


async def test_revoking_another_tenants_key_is_not_found(tenant_a: World, tenant_b: World) -> None:
    with tenant_context(tenant_b.id):
        b_key_id = (await apikeys.list_keys())[0]["id"]
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, f"/console/api-keys/{b_key_id}/revoke")
        assert response.status_code == 404
        still = await client.get(
            "/api/v1/me", headers={"authorization": f"Bearer {tenant_b.api_key}"}
        )
    assert still.status_code == 200


async def test_revoking_own_key_stops_it(tenant_a: World) -> None:
    with tenant_context(tenant_a.id):
        key_id = (await apikeys.list_keys())[0]["id"]
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, f"/console/api-keys/{key_id}/revoke")
        assert response.status_code == 303
        listing = await client.get("/console/api-keys")
        assert "The key was revoked." in listing.text
        gone = await client.get(
            "/api/v1/me", headers={"authorization": f"Bearer {tenant_a.api_key}"}
        )
    assert gone.status_code == 401


async def test_cashier_may_not_manage_api_keys_or_read_audit(
    tenant_a: World, client: AsyncTestClient
) -> None:
    await login(client, tenant_a.cashier.email)
    assert (await client.get("/console/api-keys")).status_code == 403
    assert (await post_form(client, "/console/api-keys", {"name": "x"})).status_code == 403
    assert (await client.get("/console/audit")).status_code == 403
    page = await client.get("/console/audit", headers={"accept-language": "zh-HK"})
    assert "沒有權限" in page.text and "需要經理或以上角色" in page.text


async def test_audit_page_lists_own_tenant_only(
    tenant_a: World, tenant_b: World, client: AsyncTestClient
) -> None:
    await login(client, tenant_a.owner.email)
    page = await client.get("/console/audit")
    signins = await client.get("/console/audit?kind=signin")
    assert page.status_code == signins.status_code == 200
    assert "created the API key alpha-tea key" in page.text
    assert "signed in" not in page.text  # sign-ins have their own view
    assert "Owner signed in" in signins.text
    assert "bravo-bakery" not in page.text + signins.text


# -- platform admin ---------------------------------------------------------------------------


async def test_admin_page_is_for_platform_admins_only(
    tenant_a: World, client: AsyncTestClient
) -> None:
    assert (await client.get("/admin", follow_redirects=False)).status_code in (302, 303)
    await login(client, tenant_a.owner.email)
    assert (await client.get("/admin")).status_code == 403


async def test_admin_page_shows_tenants_by_status(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    await make_world("echo-eats", TenantStatus.suspended)
    async with open_client() as client:
        await login(client, admin.email)
        page = await client.get("/admin")
        panel = await client.get("/admin/platform-status", headers={"hx-request": "true"})
    assert page.status_code == 200
    for slug in ("alpha-tea", "bravo-bakery", "echo-eats"):
        assert slug in page.text
    assert "<svg" in page.text and 'class="chart"' in page.text
    assert re.search(r'stat-active">\s*<span class="stat-value">2<', page.text)
    assert re.search(r'stat-suspended">\s*<span class="stat-value">1<', page.text)
    assert "Platform health" in page.text
    assert panel.status_code == 200
    assert 'id="health-panel"' in panel.text
