"""The platform admin's payment figures: payments failed in the last 30 days and shops in
their grace period, on the admin home and as lists on /admin/payments?status=...; every
shop counted, only platform admins see them; on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalchat.billing import service as billing
from loyalchat.billing.tables import Payment
from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.extensions.payments import PaymentStatus, PaymentUpdate
from loyalchat.scoping import scoped_update
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus
from tests.console_helpers import login, open_client
from tests.fixtures import World, make_world

ADMIN = Actor("staff", 99, "admin@platform.test")


async def paid_then_refused(tenant_id: int) -> int:
    """The shop paid its first month; its next transfer was not received: the failed
    payment's id (the shop is now in its grace period)."""
    await billing.choose_plan(tenant_id, "basic", "manual")
    first = await billing.pending_payment(tenant_id)
    assert first and await billing.confirm_manual_payment(first.id, actor=ADMIN)
    await billing.choose_plan(tenant_id, "basic", "manual")
    second = await billing.pending_payment(tenant_id)
    assert second and await billing.reject_manual_payment(second.id, actor=ADMIN, reason="none")
    return second.id


async def three_shops(a: World, b: World, c: World) -> dict[str, int]:
    """a: a transfer refused today (in grace). b: a transfer refused 40 days ago, since
    suspended (neither counted). c: a card renewal failed today (in grace)."""
    await billing.create_plan(billing.PlanInput(code="basic", name="Basic", monthly_price="199"))
    failed_a = await paid_then_refused(a.id)
    failed_b = await paid_then_refused(b.id)
    with tenant_context(b.id):
        long_ago = datetime.now(UTC) - timedelta(days=40)
        await scoped_update(Payment, {Payment.decided_at: long_ago}).where(Payment.id == failed_b)
    with cross_tenant("test"):
        await tenants.set_status(b.id, TenantStatus.suspended, "payment overdue")
    start = await billing.choose_plan(c.id, "basic", "manual")
    paid = PaymentUpdate(
        start.provider_ref, PaymentStatus.succeeded, "c-1", {"subscription_id": "s"}
    )
    assert await billing.apply_payment_update("manual", paid)
    renewal = {
        "subscription_id": "s",
        "invoice_id": "in_c2",
        "event_type": "invoice.payment_failed",
    }
    failed = PaymentUpdate(start.provider_ref, PaymentStatus.failed, "c-2", renewal)
    assert await billing.apply_payment_update("manual", failed)
    [failed_c] = [p.id for p in await billing.list_payments(c.id) if p.status == "failed"]
    return {"a": failed_a, "b": failed_b, "c": failed_c}


async def test_figures_count_every_shop_and_link_to_the_lists(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    tenant_c = await make_world("gamma-tea")
    failed = await three_shops(tenant_a, tenant_b, tenant_c)
    figures = await billing.payment_figures()
    assert (figures.failed, figures.in_grace, figures.days) == (2, 2, 30)
    assert [p.id for p in await billing.failed_payments()] == [failed["c"], failed["a"]]
    assert {shop.tenant_id for shop in await billing.overdue_shops()} == {
        tenant_a.id,
        tenant_c.id,
    }
    async with open_client() as client:
        await login(client, admin.email)
        home = await client.get("/admin")
        assert home.status_code == 200
        card = home.text.split('data-testid="figure-failed-payments"')[1].split("</div>")[0]
        assert '<span class="stat-value">2</span>' in card
        assert 'href="/admin/payments?status=failed"' in card
        card = home.text.split('data-testid="figure-in-grace"')[1].split("</div>")[0]
        assert '<span class="stat-value">2</span>' in card
        assert 'href="/admin/payments?status=overdue"' in card

        failed_page = await client.get("/admin/payments?status=failed")
        assert failed_page.status_code == 200
        assert f'data-testid="failed-payment-{failed["a"]}"' in failed_page.text
        assert f'data-testid="failed-payment-{failed["c"]}"' in failed_page.text
        assert f'data-testid="failed-payment-{failed["b"]}"' not in failed_page.text  # 40 days
        assert 'data-testid="count-failed">2<' in failed_page.text
        overdue = await client.get("/admin/payments?status=overdue")
        assert overdue.status_code == 200
        assert f'data-testid="overdue-shop-{tenant_a.id}"' in overdue.text
        assert f'data-testid="overdue-shop-{tenant_c.id}"' in overdue.text
        assert f'data-testid="overdue-shop-{tenant_b.id}"' not in overdue.text  # suspended
        assert 'data-testid="count-overdue">2<' in overdue.text
        # The transfers waiting stay the default; a made-up filter shows them too.
        for path in ("/admin/payments", "/admin/payments?status=bogus"):
            waiting = await client.get(path)
            assert waiting.status_code == 200
            assert 'aria-current="page" data-testid="tab-waiting"' in waiting.text


async def test_merchants_never_see_the_platform_figures(
    admin: accounts.StaffInfo, tenant_a: World, tenant_b: World
) -> None:
    tenant_c = await make_world("gamma-tea")
    await three_shops(tenant_a, tenant_b, tenant_c)
    paths = ("/admin", "/admin/payments?status=failed", "/admin/payments?status=overdue")
    async with open_client() as client:
        for path in paths:  # signed out: the sign-in page, nothing else
            answer = await client.get(path, follow_redirects=False)
            assert answer.status_code in (302, 303, 401), path
        await login(client, tenant_a.owner.email)
        for path in paths:
            answer = await client.get(path)
            assert answer.status_code == 403, path
            assert "gamma-tea" not in answer.text and "bravo" not in answer.text
        billing_page = await client.get("/console/billing")  # their own page: theirs alone
        assert billing_page.status_code == 200
        assert "figure-failed-payments" not in billing_page.text
        assert "in_c2" not in billing_page.text


@pytest.mark.sqlite
async def test_payment_figures_on_sqlite(sqlite_db) -> None:
    """The embedded default: the figures, the lists (a timestamp read back as a moment)
    and one pending payment per shop (the partial unique index) on SQLite."""
    a = await make_world("alpha-tea")
    b = await make_world("bravo-bakery")
    await billing.create_plan(billing.PlanInput(code="basic", name="Basic", monthly_price="199"))
    refused = await paid_then_refused(a.id)
    first = await billing.choose_plan(b.id, "basic", "manual")
    assert (await billing.choose_plan(b.id, "basic", "manual")).provider_ref == first.provider_ref
    assert len([p for p in await billing.list_payments(b.id) if p.status == "pending"]) == 1
    figures = await billing.payment_figures()
    assert (figures.failed, figures.in_grace) == (1, 1)
    assert [p.id for p in await billing.failed_payments()] == [refused]
    [overdue] = await billing.overdue_shops()
    assert overdue.tenant_id == a.id and isinstance(overdue.grace_until, datetime)
    later = datetime.now(UTC) + timedelta(days=31)
    assert (await billing.payment_figures(later)).failed == 0
