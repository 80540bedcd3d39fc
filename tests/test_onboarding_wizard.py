"""The application wizard through the real app: every page for every role, the shop's
status, anonymous callers, two shops applying at once, and the details form."""

from __future__ import annotations

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.onboarding import service as applications
from loyalchat.onboarding.tables import Application
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import Role, TenantStatus
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import PASSWORD, World, make_world

PAGES = (
    "/onboarding",
    "/onboarding/details",
    "/onboarding/registration",
    "/onboarding/plan",
    "/onboarding/receipts",
    "/onboarding/channels",
)
DETAILS = {
    "legal_name_zh": "阿爾法茶室有限公司",
    "legal_name_en": "ALPHA TEA LIMITED",
    "display_name_zh": "阿爾法",
    "display_name_en": "Alpha Tea",
    "region": "HK",
    "registration_number": "12345678-000-07-25-A",
    "address": "1 Queen's Road Central",
    "phone": "2123 4567",
    "industry": "restaurant",
    "timezone": "Asia/Hong_Kong",
}


async def applying(slug: str = "alpha-tea") -> World:
    world = await make_world(slug, TenantStatus.applying)
    manager = await accounts.create_staff_user(f"manager@{slug}.test", PASSWORD)
    with tenant_context(world.id, Actor("system")):
        await accounts.grant_role(manager.id, Role.manager)
    return world


async def test_every_page_for_every_role(clean_db: None) -> None:
    world = await applying()
    for email, editable in (
        (world.owner.email, True),
        ("manager@alpha-tea.test", True),
        (world.cashier.email, False),
    ):
        async with open_client() as client:
            await login(client, email)
            for path in PAGES:
                response = await client.get(path)
                assert response.status_code == 200, (email, path, response.text[-500:])
                assert 'data-testid="application-state"' in response.text
                assert 'data-status="applying"' in response.text
                assert ('data-testid="read-only"' in response.text) is not editable, (email, path)
            details = await client.get("/onboarding/details")
            assert ('data-testid="details-submit"' in details.text) is editable


async def test_anonymous_is_sent_to_sign_in(clean_db: None) -> None:
    async with open_client() as client:
        for path in PAGES:
            response = await client.get(path, follow_redirects=False)
            assert response.status_code in (302, 303, 401), (path, response.status_code)
            assert "application-state" not in response.text
        await client.get("/login")
        response = await post_form(client, "/onboarding/details", DETAILS)
        assert response.status_code in (302, 303, 401, 403)


async def test_owner_saves_details_normalised(clean_db: None) -> None:
    world = await applying()
    async with open_client() as client:
        await login(client, world.owner.email)
        saved = await post_form(client, "/onboarding/details", DETAILS)
        again = await client.get("/onboarding/details")
    assert saved.status_code == 303 and saved.headers["location"] == "/onboarding/registration"
    assert 'value="12345678"' in again.text and 'value="+85221234567"' in again.text
    assert 'data-testid="step-1" data-done="yes"' in again.text
    with tenant_context(world.id):
        application = await applications.get_application(world.id)
    assert application.registration_number == "12345678" and application.phone == "+85221234567"
    assert application.step == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"registration_number": "1234567"}, "registration_number", "8 digits"),
        (
            {"region": "CN", "registration_number": "91330100716105852A"},
            "registration_number",
            "last character",
        ),
        ({"phone": "12"}, "phone", "phone number"),
        ({"legal_name_zh": "", "legal_name_en": ""}, "legal_name_zh", "legal name"),
        ({"address": ""}, "address", "Required"),
        ({"industry": "casino"}, "industry", "Choose"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose"),
        ({"legal_name_en": "x" * 201}, "legal_name_en", "At most 200"),
    ],
)
async def test_bad_details_are_explained(
    clean_db: None, changes: dict, field: str, message: str
) -> None:
    world = await applying()
    async with open_client() as client:
        await login(client, world.owner.email)
        response = await post_form(client, "/onboarding/details", {**DETAILS, **changes})
    assert response.status_code == 400
    assert 'data-testid="error-summary"' in response.text
    assert f'id="f-{field}-error"' in response.text and message in response.text
    with tenant_context(world.id):
        assert await applications.get_application(world.id) is None


async def test_nul_character_is_refused_before_anything(clean_db: None) -> None:
    world = await applying()
    async with open_client() as client:
        await login(client, world.owner.email)
        response = await post_form(
            client, "/onboarding/details", {**DETAILS, "legal_name_en": "bad\x00name"}
        )
    assert response.status_code == 400
    with tenant_context(world.id):
        assert await applications.get_application(world.id) is None


async def test_cashier_cannot_change_anything(clean_db: None) -> None:
    world = await applying()
    async with open_client() as client:
        await login(client, world.cashier.email)
        for path, data in (
            ("/onboarding/details", DETAILS),
            ("/onboarding/channels", {"channels": "whatsapp"}),
            ("/onboarding/receipts", {"names": "ALPHA TEA", "pos_system": ""}),
            ("/onboarding/submit", {}),
        ):
            response = await post_form(client, path, data)
            assert response.status_code == 403, (path, response.status_code)
    with tenant_context(world.id):
        assert await applications.get_application(world.id) is None


@pytest.mark.parametrize(
    "status", [TenantStatus.pending_review, TenantStatus.active, TenantStatus.suspended]
)
async def test_closed_application_reads_but_refuses_changes(
    clean_db: None, status: TenantStatus
) -> None:
    world = await applying()
    with tenant_context(world.id):
        await applications.update_application(world.id, {"legal_name_en": "ALPHA TEA LIMITED"})
    await tenants.set_status(world.id, status, "test")
    async with open_client() as client:
        await login(client, world.owner.email)
        for path in PAGES:
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text[-300:])
            assert f'data-status="{status.value}"' in response.text
            assert 'data-testid="submit-button"' not in response.text
        for path, data in (
            ("/onboarding/details", DETAILS),
            ("/onboarding/channels", {}),
            ("/onboarding/submit", {}),
        ):
            response = await post_form(client, path, data)
            assert response.status_code == 409, (path, response.status_code)
    with tenant_context(world.id):
        application = await applications.get_application(world.id)
    assert application.registration_number == ""
    assert (await tenants.get_tenant(world.id)).status == status.value


async def test_channels_from_the_installed_kinds(clean_db: None) -> None:
    world = await applying()
    async with open_client() as client:
        await login(client, world.owner.email)
        page = await client.get("/onboarding/channels")
        bad = await post_form(client, "/onboarding/channels", {"channels": "carrier-pigeon"})
        good = await post_form(client, "/onboarding/channels", {"channels": ["whatsapp", "wechat"]})
        again = await client.get("/onboarding/channels")
    assert (
        'data-testid="channel-whatsapp"' in page.text
        and 'data-testid="channel-wechat"' in page.text
    )
    assert bad.status_code == 400
    assert good.status_code == 303
    assert 'value="whatsapp" checked' in again.text and 'value="wechat" checked' in again.text
    with tenant_context(world.id):
        assert (await applications.get_application(world.id)).channels == ["whatsapp", "wechat"]


async def test_plan_step_shows_the_payment_state(clean_db: None) -> None:
    world = await applying()
    async with open_client() as client:
        await login(client, world.owner.email)
        page = await client.get("/onboarding/plan")
    assert page.status_code == 200
    assert 'data-testid="payment-state"' in page.text
    state = page.text.split('data-testid="payment-state" data-state="')[1].split('"')[0]
    assert state in ("none", "pending", "paid", "past_due", "cancelled", "unavailable")
    if state != "unavailable":
        assert 'href="/console/billing"' in page.text


async def test_two_shops_applying_never_see_each_other(clean_db: None) -> None:
    a = await applying("alpha-tea")
    b = await applying("bravo-bakery")
    with tenant_context(a.id):
        await applications.update_application(
            a.id, {"legal_name_en": "ALPHA SECRET LIMITED", "address": "Alpha Street"}
        )
        document = await applications.add_document(
            a.id, "business_registration", media_key="a" * 64, preview_key="b" * 64
        )
    async with open_client() as client:
        await login(client, b.owner.email)
        for path in PAGES:
            response = await client.get(path)
            assert "ALPHA SECRET" not in response.text and "Alpha Street" not in response.text
        for key in (document.media_key, document.preview_key, "not-a-key"):
            response = await client.get(f"/onboarding/media/{key}")
            assert response.status_code == 404
        saved = await post_form(client, "/onboarding/details", DETAILS)
        assert saved.status_code == 303
    rows = await Application.select(Application.tenant, Application.legal_name_en).order_by(
        Application.tenant
    )
    assert [(r["tenant"], r["legal_name_en"]) for r in rows] == [
        (a.id, "ALPHA SECRET LIMITED"),
        (b.id, "ALPHA TEA LIMITED"),
    ]


async def test_staff_of_no_shop_and_platform_admin(clean_db: None, admin) -> None:
    loner = await accounts.create_staff_user("loner@nowhere.test", PASSWORD)
    for email in (loner.email, admin.email):
        async with open_client() as client:
            await login(client, email)
            response = await client.get("/onboarding", follow_redirects=False)
        assert response.status_code == 403


def wizard_posts() -> list[str]:
    """Every POST route of the wizard, from the app's own route table."""
    from litestar.routes import HTTPRoute

    from loyalchat.app import create_app

    app = create_app(run_workers=False)
    return sorted(
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and route.path.startswith("/onboarding")
        and "POST" in route.methods
        and not route.path.startswith("/onboarding/checklist")  # an open shop's (own test)
    )


async def test_every_wizard_post_for_every_caller(clean_db: None) -> None:
    """Cashier: 403; anonymous: sent to sign in; applying owner: anything but 401/403/5xx;
    the owner of a shop pending review, active or suspended: 409. Nothing changes."""
    posts = wizard_posts()
    assert {
        "/onboarding/details",
        "/onboarding/registration",
        "/onboarding/receipts",
        "/onboarding/receipts/samples",
        "/onboarding/channels",
        "/onboarding/submit",
    } <= set(posts)
    world = await applying()
    closed = {
        status: await make_world(f"shop-{status.value.replace('_', '-')}", status)
        for status in (TenantStatus.pending_review, TenantStatus.active, TenantStatus.suspended)
    }
    async with open_client() as client:
        await login(client, world.cashier.email)
        for path in posts:
            assert (await post_form(client, path, {})).status_code == 403, path
    async with open_client() as client:
        await client.get("/login")
        for path in posts:
            assert (await post_form(client, path, {})).status_code in (302, 303, 401), path
    async with open_client() as client:
        await login(client, world.owner.email)
        for path in posts:
            status = (await post_form(client, path, {})).status_code
            assert status not in (401, 403) and status < 500, (path, status)
    for status, shop in closed.items():
        async with open_client() as client:
            await login(client, shop.owner.email)
            for path in posts:
                response = await post_form(client, path, {})
                assert response.status_code == 409, (status, path, response.status_code)
        assert (await tenants.get_tenant(shop.id)).status == status.value
    assert await Application.count().where(Application.tenant != world.id) == 0
