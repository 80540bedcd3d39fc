"""/console/billing: who may see and pay, choosing a plan, the transfer slip (hostile uploads
refused, nothing stored), the usage banner; two tenants, every role, anonymous and a
suspended shop; never a server error."""

from __future__ import annotations

from loyalchat.billing import service as billing
from loyalchat.billing.tables import Payment
from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.tenants import accounts
from loyalchat.tenants.tables import Role, TenantStatus
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import PASSWORD, World, make_world
from tests.onboarding_helpers import (
    jpeg_photo,
    pdf_with_javascript,
    plain_pdf,
    png_bomb,
    renamed_executable,
)

ADMIN = Actor("staff", 99, "admin@platform.test")


async def a_plan(code: str = "basic", **limits: int | None) -> billing.PlanInfo:
    return await billing.create_plan(
        billing.PlanInput(code=code, name=code.title(), monthly_price="199", limits=limits)
    )


async def manager_of(world: World) -> str:
    email = f"manager@{world.tenant.slug}.test"
    user = await accounts.create_staff_user(email, PASSWORD)
    with tenant_context(world.id, Actor("system")):
        await accounts.grant_role(user.id, Role.manager)
    return email


async def pending_payment(world: World) -> billing.PaymentInfo:
    await billing.choose_plan(world.id, "basic", "manual")
    return (await billing.list_payments(world.id))[0]


async def upload(
    client, payment_id: int, data: bytes, name: str = "slip.png", ref: str = "FPS 123"
):
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        f"/console/billing/payments/{payment_id}/slip",
        data={"reference": ref, "_csrf_token": token},
        files={"slip": (name, data, "image/png")},
        follow_redirects=False,
    )


async def slip_of(payment_id: int) -> str:
    with cross_tenant("test"):
        row = await Payment.select(Payment.slip_key).where(Payment.id == payment_id).first()
    return row["slip_key"]


async def test_owner_chooses_a_plan_and_sends_the_slip(tenant_a: World, tenant_b: World) -> None:
    await a_plan()
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/billing")
        assert page.status_code == 200 and 'data-testid="plan-basic"' in page.text
        assert (
            await post_form(client, "/console/billing/choose", {"plan": "basic"})
        ).status_code == 400
        bad = await post_form(
            client, "/console/billing/choose", {"plan": "nope", "provider": "manual"}
        )
        assert bad.status_code == 400
        chosen = await post_form(
            client, "/console/billing/choose", {"plan": "basic", "provider": "manual"}
        )
        assert chosen.status_code == 303
        page = await client.get("/console/billing")
        assert 'data-testid="payment-reference"' in page.text
    payment = (await billing.list_payments(tenant_a.id))[0]
    assert await billing.list_payments(tenant_b.id) == []
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        for data, name in (
            (b"", "empty.png"),
            (renamed_executable(), "slip.png"),
            (pdf_with_javascript(), "slip.pdf"),
            (png_bomb(), "bomb.png"),
            (b"%PDF-" + b"0" * (10 * 1024 * 1024 + 10), "huge.pdf"),
        ):
            refused = await upload(client, payment.id, data, name)
            assert refused.status_code in (400, 413), (name, refused.status_code)
        missing_ref = await upload(client, payment.id, jpeg_photo(), ref="  ")
        assert missing_ref.status_code == 400
    assert await slip_of(payment.id) == ""
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        sent = await upload(client, payment.id, plain_pdf(), "slip.pdf")
        assert sent.status_code == 303, sent.text[:500]
        view = await client.get(f"/console/billing/payments/{payment.id}/slip")
        assert view.status_code == 200 and view.headers["content-type"] == "image/png"
    stored = await billing.get_payment(tenant_a.id, payment.id)
    assert stored.slip_key and stored.reference == "FPS 123"
    assert stored.slip_content_type == "application/pdf"
    # Tenant B's owner reaches none of it.
    async with open_client() as client:
        await login(client, tenant_b.owner.email)
        assert (await client.get(f"/console/billing/payments/{payment.id}/slip")).status_code == 404
        other = await upload(client, payment.id, jpeg_photo())
        assert other.status_code == 404
        page = await client.get("/console/billing")
        assert payment.provider_ref not in page.text


async def test_who_may_see_and_pay(tenant_a: World) -> None:
    await a_plan()
    manager = await manager_of(tenant_a)
    async with open_client() as client:
        assert (await client.get("/console/billing", follow_redirects=False)).status_code in (
            302,
            303,
            401,
        )
        await login(client, tenant_a.cashier.email)
        assert (await client.get("/console/billing")).status_code == 403
        assert (await client.get("/console/billing/banner")).status_code == 200
        refused = await post_form(
            client, "/console/billing/choose", {"plan": "basic", "provider": "manual"}
        )
        assert refused.status_code == 403
    async with open_client() as client:
        await login(client, manager)
        page = await client.get("/console/billing")
        assert page.status_code == 200 and "choose-button" not in page.text
        refused = await post_form(
            client, "/console/billing/choose", {"plan": "basic", "provider": "manual"}
        )
        assert refused.status_code == 403
        assert (await post_form(client, "/console/billing/portal")).status_code == 403
    assert await billing.list_payments(tenant_a.id) == []


async def test_a_suspended_or_applying_shop_can_pay(clean_db: None) -> None:
    await a_plan()
    suspended = await make_world("sleepy-shop", TenantStatus.suspended)
    applying = await make_world("new-shop", TenantStatus.applying)
    for world in (suspended, applying):
        async with open_client() as client:
            await login(client, world.owner.email)
            assert (await client.get("/console/billing")).status_code == 200
            chosen = await post_form(
                client, "/console/billing/choose", {"plan": "basic", "provider": "manual"}
            )
            assert chosen.status_code == 303
            # No portal for a manual payer: a message, not an error.
            portal = await post_form(client, "/console/billing/portal")
            assert portal.status_code == 303
        assert len(await billing.list_payments(world.id)) == 1


async def test_the_usage_banner(tenant_a: World, tenant_b: World) -> None:
    await a_plan(staff_seats=2)
    payment = await pending_payment(tenant_a)
    await billing.confirm_manual_payment(payment.id, actor=ADMIN)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        banner = await client.get("/console/billing/banner")
        assert 'data-testid="usage-banner"' in banner.text and "staff_seats" in banner.text
        page = await client.get("/console/billing")
        assert 'data-testid="usage-staff_seats" data-level="reached"' in page.text
        home = await client.get("/console")
        assert "/console/billing/banner" in home.text
    async with open_client() as client:
        await login(client, tenant_b.owner.email)
        assert (
            'data-testid="usage-banner"' not in (await client.get("/console/billing/banner")).text
        )
