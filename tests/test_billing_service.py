"""Billing service: plans, choosing a plan, provider updates applied once, grace and
suspension, reactivation only after a suspension for non-payment; two tenants throughout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyalchat.billing import service
from loyalchat.billing.lifecycle import NONPAYMENT_REASON
from loyalchat.billing.tables import Payment, PaymentEvent, Subscription
from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.extensions.payments import PaymentStatus, PaymentUpdate
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import AuditLog, TenantStatus
from tests.fixtures import World

ADMIN = Actor("staff", 99, "admin@platform.test")


def plan_input(code: str = "basic", price: str = "199.00", **limits: int | None):
    return service.PlanInput(
        code=code,
        name=code.title(),
        monthly_price=price,
        currency="HKD",
        limits={"receipts_per_month": 100, **limits},
    )


async def paid(world: World, code: str = "basic") -> int:
    """Choose ``code`` manually and have the admin confirm it; the payment id."""
    start = await service.choose_plan(world.id, code, "manual")
    payment = (await service.list_payments(world.id))[0]
    assert payment.provider_ref == start.provider_ref
    assert await service.confirm_manual_payment(payment.id, actor=ADMIN)
    return payment.id


async def test_plans_are_validated_and_money_is_decimal(clean_db: None) -> None:
    plan = await service.create_plan(plan_input(price="199.5"))
    assert plan.monthly_price == Decimal("199.50")
    assert plan.limits["receipts_per_month"] == 100 and plan.limits["members"] is None
    for bad in ("NaN", "-1", "1e30", "Infinity", "12.345", "abc", "", "99999999999"):
        with pytest.raises(service.PlanError):
            await service.create_plan(plan_input(code="x", price=bad))
    with pytest.raises(service.PlanError):
        await service.create_plan(plan_input(code="y", members=-5))
    with pytest.raises(service.PlanError):
        await service.create_plan(plan_input(code="z", members=2**40))
    with pytest.raises(Conflict):
        await service.create_plan(plan_input())
    changed = await service.update_plan(plan.id, plan_input(price="299", members=500))
    assert changed.monthly_price == Decimal("299.00") and changed.limits["members"] == 500
    assert [p.code for p in await service.list_plans()] == ["basic"]


async def test_choose_and_confirm_once(tenant_a: World, tenant_b: World) -> None:
    await service.create_plan(plan_input())
    assert await service.payment_state(tenant_a.id) == "none"
    start = await service.choose_plan(tenant_a.id, "basic", "manual")
    assert start.provider_ref.startswith("LC")
    again = await service.choose_plan(tenant_a.id, "basic", "manual")  # a second click
    assert again.provider_ref == start.provider_ref
    assert await service.payment_state(tenant_a.id) == "pending"
    assert await service.payment_state(tenant_b.id) == "none"
    payment = (await service.list_payments(tenant_a.id))[0]
    assert payment.amount == Decimal("199.00")
    assert await service.list_payments(tenant_b.id) == []
    # Two admins click "confirm" at the same moment: one payment, one activation.
    results = await asyncio.gather(
        *(service.confirm_manual_payment(payment.id, actor=ADMIN) for _ in range(2)),
        return_exceptions=True,
    )
    assert sorted(r is True for r in results) == [False, True]
    assert await service.payment_state(tenant_a.id) == "paid"
    with cross_tenant("test"):
        assert await PaymentEvent.count().where(PaymentEvent.payment == payment.id) == 1
        confirms = await AuditLog.count().where(AuditLog.action == "payment.confirm")
    assert confirms == 1
    with pytest.raises(Conflict):
        await service.confirm_manual_payment(payment.id, actor=ADMIN)
    assert (await service.plan_of(tenant_a.id)).code == "basic"
    assert await service.plan_of(tenant_b.id) is None


async def test_replayed_update_is_applied_once(tenant_a: World) -> None:
    await service.create_plan(plan_input())
    start = await service.choose_plan(tenant_a.id, "basic", "manual")
    update = PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "evt-1")
    assert await service.apply_payment_update("manual", update) is True
    assert await service.apply_payment_update("manual", update) is False
    with cross_tenant("test"):
        sub = await Subscription.select().first()
    end = sub["current_period_end"]
    # Another event about the same (decided) payment changes nothing.
    update2 = PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "evt-2")
    assert await service.apply_payment_update("manual", update2) is True
    with cross_tenant("test"):
        assert (await Subscription.select().first())["current_period_end"] == end
    unknown = PaymentUpdate("nope", PaymentStatus.succeeded, "evt-3")
    assert await service.apply_payment_update("manual", unknown) is False


async def test_another_tenant_cannot_work_on_a_tenant(tenant_a: World, tenant_b: World) -> None:
    await service.create_plan(plan_input())
    with tenant_context(tenant_b.id):
        with pytest.raises(PermissionError):
            await service.choose_plan(tenant_a.id, "basic", "manual")
        with pytest.raises(PermissionError):
            await service.list_payments(tenant_a.id)
    with pytest.raises(DomainError):
        await service.choose_plan(tenant_a.id, "basic", "no-such-provider")
    with pytest.raises(NotFound):
        await service.choose_plan(tenant_a.id, "missing", "manual")


async def test_failure_grace_suspension_and_reactivation(
    tenant_a: World, tenant_b: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.create_plan(plan_input())
    first = await paid(tenant_a)
    await paid(tenant_b)
    # The next month's transfer is rejected: grace starts for tenant A only.
    await service.choose_plan(tenant_a.id, "basic", "manual")
    second = (await service.list_payments(tenant_a.id))[0]
    assert second.id != first
    assert await service.reject_manual_payment(second.id, actor=ADMIN, reason="no transfer")
    assert await service.payment_state(tenant_a.id) == "past_due"
    assert await service.payment_state(tenant_b.id) == "paid"
    assert await service.enforce_grace() == []  # grace still running
    later = datetime.now(UTC) + timedelta(days=8)
    assert await service.enforce_grace(later) == [tenant_a.id]
    assert (await tenants.get_tenant(tenant_a.id)).status == "suspended"
    assert (await tenants.get_tenant(tenant_b.id)).status == "active"
    with cross_tenant("test"):
        row = await (
            AuditLog.select(AuditLog.after)
            .where((AuditLog.tenant == tenant_a.id) & (AuditLog.action == "tenant.status"))
            .output(load_json=True)
            .first()
        )
    assert row["after"]["reason"] == NONPAYMENT_REASON
    assert await service.enforce_grace(later) == []  # twice: nothing more
    # Paying reactivates it.
    await paid(tenant_a)
    assert (await tenants.get_tenant(tenant_a.id)).status == "active"
    assert await service.payment_state(tenant_a.id) == "paid"


async def test_admin_suspension_is_not_lifted_by_a_payment(tenant_a: World) -> None:
    await service.create_plan(plan_input())
    with cross_tenant("test"):
        await tenants.set_status(tenant_a.id, TenantStatus.suspended, "fraud report")
    await paid(tenant_a)
    assert (await tenants.get_tenant(tenant_a.id)).status == "suspended"


async def test_period_end_starts_grace(tenant_a: World, tenant_b: World) -> None:
    from loyalchat.mail import outbox_messages

    await service.create_plan(plan_input())
    await paid(tenant_a)
    seen = {m.name for m in outbox_messages()}
    in_31_days = datetime.now(UTC) + timedelta(days=31)
    assert await service.enforce_grace(in_31_days) == []
    assert await service.enforce_grace(in_31_days) == []  # a second run: no second mail
    assert await service.payment_state(tenant_a.id) == "past_due"
    assert await service.payment_state(tenant_b.id) == "none"
    due = [m for m in outbox_messages() if m.name not in seen and m.template == "payment_due"]
    assert [m.to for m in due] == [tenant_a.owner.email]
    assert await service.enforce_grace(in_31_days + timedelta(days=7)) == [tenant_a.id]


async def test_renewal_invoice_of_a_card_subscription(tenant_a: World) -> None:
    """A provider reporting by the first payment's reference (as the stripe plugin does):
    a new invoice is a new payment row and extends the period; its failure starts grace."""
    await service.create_plan(plan_input())
    start = await service.choose_plan(tenant_a.id, "basic", "manual")
    end1 = int((datetime.now(UTC) + timedelta(days=30)).timestamp())
    raw = {"subscription_id": "sub_1", "current_period_end": end1, "invoice_id": "in_1"}
    ok = PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "e1", raw)
    assert await service.apply_payment_update("manual", ok)
    end2 = end1 + 30 * 86400
    raw2 = {**raw, "current_period_end": end2, "invoice_id": "in_2", "amount_paid": 19900}
    assert await service.apply_payment_update(
        "manual", PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "e2", raw2)
    )
    payments = await service.list_payments(tenant_a.id)
    assert [p.provider_ref for p in payments] == ["in_2", start.provider_ref]
    assert payments[0].amount == Decimal("199.00") and payments[0].status == "succeeded"
    with cross_tenant("test"):
        sub = await Subscription.select().first()
    assert int(sub["current_period_end"].timestamp()) == end2
    raw3 = {**raw, "invoice_id": "in_3", "event_type": "invoice.payment_failed"}
    assert await service.apply_payment_update(
        "manual", PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "e3", raw3)
    )
    assert await service.payment_state(tenant_a.id) == "past_due"
    with cross_tenant("test"):
        assert await Payment.count().where(Payment.status == "failed") == 1


async def test_demo_plans_are_created_once(clean_db: None) -> None:
    from loyalchat.billing.demo import ensure_demo_plans

    assert await ensure_demo_plans() == 2
    assert await ensure_demo_plans() == 0
    plans = await service.list_plans()
    assert [p.code for p in plans] == ["starter", "growth"]
    assert plans[0].monthly_price == Decimal("199.00") and plans[0].trial_days == 14


async def test_a_trial_is_a_payment_of_nothing(tenant_a: World) -> None:
    """A card plan with trial days (the stripe plugin reports the subscription trialing):
    the plan runs in its trial (ending with the provider's period), the payment shows
    nothing charged and no "payment received" mail; the first invoice paid ends the trial."""
    from loyalchat.mail import outbox_messages

    await service.create_plan(plan_input())
    start = await service.choose_plan(tenant_a.id, "basic", "manual")
    seen = {m.name for m in outbox_messages()}
    end = int((datetime.now(UTC) + timedelta(days=14)).timestamp())
    raw = {"subscription_status": "trialing", "subscription_id": "sub_t", "period_end": end}
    update = PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "trial-1", raw)
    assert await service.apply_payment_update("manual", update)
    assert await service.payment_state(tenant_a.id) == "trialing"
    assert int((await service.subscription_row(tenant_a.id))["trial_ends_at"].timestamp()) == end
    assert (await service.plan_of(tenant_a.id)).code == "basic"
    assert (await service.list_payments(tenant_a.id))[0].amount == Decimal("0.00")
    assert [m for m in outbox_messages() if m.name not in seen] == []
    # The provider's subscription, updated during the trial, is still in it.
    again = PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "trial-2", raw)
    assert await service.apply_payment_update("manual", again)
    assert await service.payment_state(tenant_a.id) == "trialing"
    # The trial's end: the first invoice is paid.
    paid = {**raw, "subscription_status": "active", "invoice_id": "in_t1", "amount_paid": 19900}
    paid["period_end"] = end + 30 * 86400
    invoice = PaymentUpdate(start.provider_ref, PaymentStatus.succeeded, "trial-3", paid)
    assert await service.apply_payment_update("manual", invoice)
    assert await service.payment_state(tenant_a.id) == "paid"
