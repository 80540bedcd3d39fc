"""/admin/plans and /admin/payments: platform admins only; hostile plan forms (huge,
negative, NaN amounts) answered with the form, never a server error; manual payments
confirmed once, with the slip viewable and every decision audited."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from loyalchat.billing import service as billing
from loyalchat.context import cross_tenant
from loyalchat.media import store
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import AuditLog, TenantStatus
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World

PLAN = {
    "code": "basic",
    "name": "Basic",
    "monthly_price": "199.00",
    "currency": "HKD",
    "limit_members": "500",
    "limit_receipts_per_month": "1000",
    "trial_days": "14",
    "stripe_price_id": "price_123",
    "active": "1",
}


async def test_plans_admin_only_and_hostile_forms(
    admin: accounts.StaffInfo, tenant_a: World
) -> None:
    async with open_client() as client:
        assert (await client.get("/admin/plans", follow_redirects=False)).status_code in (
            302,
            303,
            401,
        )
        await login(client, tenant_a.owner.email)
        assert (await client.get("/admin/plans")).status_code == 403
        assert (await post_form(client, "/admin/plans", PLAN)).status_code == 403
    assert await billing.list_plans(active_only=False) == []
    async with open_client() as client:
        await login(client, admin.email)
        assert (await client.get("/admin/plans")).status_code == 200
        for field, value in (
            ("monthly_price", "NaN"),
            ("monthly_price", "-5"),
            ("monthly_price", "1e400"),
            ("monthly_price", "99999999999999999999"),
            ("monthly_price", "Infinity"),
            ("monthly_price", "1.005"),
            ("limit_members", "-1"),
            ("limit_members", "99999999999999"),
            ("limit_members", "ten"),
            ("trial_days", "100000"),
            ("currency", "EUR"),
            ("code", "Bad Code!"),
            ("name", "a\x00b"),
            ("stripe_price_id", "price_<script>"),
        ):
            refused = await post_form(client, "/admin/plans", {**PLAN, field: value})
            assert refused.status_code == 400, (field, value, refused.status_code)
        created = await post_form(client, "/admin/plans", PLAN)
        assert created.status_code == 303
        assert (await post_form(client, "/admin/plans", PLAN)).status_code == 409
        plan = (await billing.list_plans())[0]
        edit = await client.get(f"/admin/plans/{plan.id}")
        assert edit.status_code == 200 and "price_123" in edit.text
        assert (await client.get("/admin/plans/999999")).status_code == 404
        changed = await post_form(
            client,
            f"/admin/plans/{plan.id}",
            {**PLAN, "monthly_price": "249.5", "limit_members": ""},
        )
        assert changed.status_code == 303
        bad = await post_form(client, f"/admin/plans/{plan.id}", {**PLAN, "monthly_price": "NaN"})
        assert bad.status_code == 400
    plan = (await billing.list_plans())[0]
    assert plan.monthly_price == Decimal("249.50") and plan.limits["members"] is None
    assert plan.trial_days == 14 and plan.stripe_price_id == "price_123"
    with cross_tenant("test"):
        assert await AuditLog.count().where(AuditLog.action.like("plan.%")) == 2


async def test_manual_payments_confirmed_once(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    await billing.create_plan(billing.PlanInput(code="basic", name="Basic", monthly_price="199"))
    await billing.choose_plan(tenant_a.id, "basic", "manual")
    await billing.choose_plan(tenant_b.id, "basic", "manual")
    pay_a = (await billing.list_payments(tenant_a.id))[0]
    pay_b = (await billing.list_payments(tenant_b.id))[0]
    from loyalchat.context import tenant_context
    from tests.onboarding_helpers import jpeg_photo

    with tenant_context(tenant_a.id):
        key = await store.save(jpeg_photo(), kind="payment_slip")
    await billing.attach_slip(
        tenant_a.id,
        pay_a.id,
        reference="FPS-9",
        slip_key=key,
        preview_key=key,
        content_type="image/jpeg",
        filename="slip.jpg",
    )
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        assert (await client.get("/admin/payments")).status_code == 403
        assert (await post_form(client, f"/admin/payments/{pay_a.id}/confirm")).status_code == 403
        assert (await client.get(f"/admin/payments/{pay_a.id}/slip")).status_code == 403
    assert await billing.payment_state(tenant_a.id) == "pending"
    async with open_client() as client:
        await login(client, admin.email)
        page = await client.get("/admin/payments")
        assert page.status_code == 200
        assert (
            f"manual-payment-{pay_a.id}" in page.text and f"manual-payment-{pay_b.id}" in page.text
        )
        assert "FPS-9" in page.text
        slip = await client.get(f"/admin/payments/{pay_a.id}/slip")
        assert slip.status_code == 200 and slip.headers["content-type"] == "image/png"
        original = await client.get(f"/admin/payments/{pay_a.id}/slip?original=true")
        assert original.headers["content-disposition"].startswith("attachment")
        assert (await client.get(f"/admin/payments/{pay_b.id}/slip")).status_code == 404
        assert (
            await client.get(f"/admin/payments/{pay_a.id}/slip?original=xyz")
        ).status_code == 400
        # A double click: one confirmation, the other a 409.
        token = client.cookies.get("lc_csrf", "")
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/admin/payments/{pay_a.id}/confirm",
                    data={"_csrf_token": token},
                    follow_redirects=False,
                )
                for _ in range(2)
            )
        )
        assert sorted(r.status_code for r in answers) == [303, 409]
        rejected = await post_form(client, f"/admin/payments/{pay_b.id}/reject", {"reason": "none"})
        assert rejected.status_code == 303
        assert (await post_form(client, "/admin/payments/999999/confirm")).status_code == 404
    assert await billing.payment_state(tenant_a.id) == "paid"
    assert await billing.payment_state(tenant_b.id) == "pending"
    assert (await billing.list_payments(tenant_b.id))[0].status == "failed"
    with cross_tenant("test"):
        confirms = await AuditLog.select().where(AuditLog.action == "payment.confirm")
        rejects = await AuditLog.select().where(AuditLog.action == "payment.reject")
    assert [(r["tenant"], r["actor_label"]) for r in confirms] == [(tenant_a.id, admin.email)]
    assert [r["tenant"] for r in rejects] == [tenant_b.id]
    assert (await tenants.get_tenant(tenant_a.id)).status == TenantStatus.active.value
    async with open_client() as client:  # the shop's audit log shows the decisions
        await login(client, tenant_a.owner.email)
        log = await client.get("/console/audit")
        assert log.status_code == 200 and admin.email in log.text
        billing_page = await client.get("/console/billing")
        assert 'data-state="paid"' in billing_page.text
