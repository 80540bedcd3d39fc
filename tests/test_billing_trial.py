"""A plan's trial when the shop pays by transfer (and, once per shop, by card).

The trial starts without waiting for the slip (its days from the shop's approval, or at
once for a shop already open); the console shows it with its end; paid during the trial,
the paid month follows it; unpaid at its end, the grace period and then the suspension of
billing/grace.py apply. A plan with no trial days is paid first, as before. Two shops
throughout: one's trial never moves another.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from loyalchat.billing import service as billing
from loyalchat.billing.lifecycle import NONPAYMENT_REASON, PERIOD
from loyalchat.context import Actor, cross_tenant
from loyalchat.mail import outbox_messages, read_outbox_message
from loyalchat.onboarding import review
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import AuditLog
from tests.console_helpers import login, open_client, post_form
from tests.fakes.stripe_api import PRICE, FakeStripeApi, stripe_api
from tests.fixtures import World
from tests.test_admin_applications import applicant
from tests.test_conversations_support import installed

__all__ = ["stripe_api"]  # the fixture, imported for this module's tests

ADMIN = Actor("staff", 99, "admin@platform.test")
DAYS = 14


async def plans() -> None:
    for code, trial in (("trial", DAYS), ("plain", 0)):
        await billing.create_plan(
            billing.PlanInput(
                code=code,
                name=code.title(),
                monthly_price=Decimal("199"),
                trial_days=trial,
                stripe_price_id=PRICE,
            )
        )


def near(moment: datetime | None, expected: datetime) -> bool:
    return moment is not None and abs(moment - expected) < timedelta(minutes=1)


async def sub_of(world: World) -> dict:
    sub = await billing.subscription_row(world.id)
    assert sub is not None
    return sub


async def test_a_transfer_plan_with_a_trial_runs_at_once(tenant_a: World, tenant_b: World) -> None:
    await plans()
    now = datetime.now(UTC)
    await billing.choose_plan(tenant_a.id, "trial", "manual")
    assert await billing.payment_state(tenant_a.id) == "trialing"
    sub = await sub_of(tenant_a)
    assert near(sub["trial_ends_at"], now + timedelta(days=DAYS))
    assert sub["current_period_end"] == sub["trial_ends_at"]
    assert (await billing.plan_of(tenant_a.id)).code == "trial"  # its limits apply
    pending = await billing.pending_payment(tenant_a.id)
    assert pending is not None and pending.amount == Decimal("199.00")  # due by the end
    # Another click, or another plan: still the one trial, ending when it did.
    await billing.choose_plan(tenant_a.id, "trial", "manual")
    await billing.choose_plan(tenant_a.id, "plain", "manual")
    again = await sub_of(tenant_a)
    assert again["trial_ends_at"] == sub["trial_ends_at"] and again["plan"] == sub["plan"]
    with cross_tenant("test"):
        started = await AuditLog.count().where(AuditLog.action == "billing.trial_started")
    assert started == 1
    assert await billing.payment_state(tenant_b.id) == "none"


async def test_a_plan_without_trial_days_is_paid_first(tenant_a: World) -> None:
    await plans()
    await billing.choose_plan(tenant_a.id, "plain", "manual")
    assert await billing.payment_state(tenant_a.id) == "pending"
    assert (await sub_of(tenant_a))["trial_ends_at"] is None
    assert await billing.plan_of(tenant_a.id) is None


async def test_paid_during_the_trial_the_month_follows_it(tenant_a: World) -> None:
    await plans()
    await billing.choose_plan(tenant_a.id, "trial", "manual")
    trial_end = (await sub_of(tenant_a))["trial_ends_at"]
    payment = await billing.pending_payment(tenant_a.id)
    assert payment and await billing.confirm_manual_payment(payment.id, actor=ADMIN)
    sub = await sub_of(tenant_a)
    assert await billing.payment_state(tenant_a.id) == "paid"
    assert sub["current_period_end"] == trial_end + PERIOD and sub["trial_ends_at"] == trial_end
    assert await billing.enforce_grace(trial_end + timedelta(days=1)) == []
    assert await billing.payment_state(tenant_a.id) == "paid"


async def test_a_trial_ending_unpaid_gets_grace_then_suspension(
    tenant_a: World, tenant_b: World
) -> None:
    await plans()
    await billing.choose_plan(tenant_a.id, "trial", "manual")
    await billing.choose_plan(tenant_b.id, "trial", "manual")
    trial_end = (await sub_of(tenant_a))["trial_ends_at"]
    seen = {m.name for m in outbox_messages()}
    # A slip refused during the trial leaves the trial running.
    payment = await billing.pending_payment(tenant_a.id)
    assert payment and await billing.reject_manual_payment(payment.id, actor=ADMIN, reason="?")
    assert await billing.payment_state(tenant_a.id) == "trialing"
    assert await billing.enforce_grace(trial_end - timedelta(hours=1)) == []
    assert await billing.payment_state(tenant_a.id) == "trialing"
    # The trial ends unpaid: grace from its end, the owners told once.
    after = trial_end + timedelta(hours=1)
    assert await billing.enforce_grace(after) == []
    assert await billing.enforce_grace(after) == []
    sub = await sub_of(tenant_a)
    assert await billing.payment_state(tenant_a.id) == "past_due"
    assert sub["grace_until"] == trial_end + timedelta(days=7)
    due = [m for m in outbox_messages() if m.name not in seen and m.template == "payment_due"]
    assert sorted(m.to for m in due) == sorted([tenant_a.owner.email, tenant_b.owner.email])
    text = read_outbox_message(due[0].name).text
    # In the shop's language (Traditional Chinese here): the trial's wording, not the paid period's.
    assert "的試用期已結束" in text and "已付費期間" not in text
    # Then the suspension, for payment overdue.
    suspended = await billing.enforce_grace(trial_end + timedelta(days=8))
    assert sorted(suspended) == sorted([tenant_a.id, tenant_b.id])
    assert (await tenants.get_tenant(tenant_a.id)).status == "suspended"
    with cross_tenant("test"):
        row = await (
            AuditLog.select(AuditLog.after)
            .where((AuditLog.tenant == tenant_a.id) & (AuditLog.action == "tenant.status"))
            .output(load_json=True)
            .first()
        )
    assert row["after"]["reason"] == NONPAYMENT_REASON
    # A payment brings it back; another trial it does not get.
    await billing.choose_plan(tenant_a.id, "trial", "manual")
    assert await billing.payment_state(tenant_a.id) == "past_due"
    payment = await billing.pending_payment(tenant_a.id)
    assert payment and await billing.confirm_manual_payment(payment.id, actor=ADMIN)
    assert (await tenants.get_tenant(tenant_a.id)).status == "active"
    assert (await tenants.get_tenant(tenant_b.id)).status == "suspended"


async def test_an_applying_shop_is_approved_in_its_trial(admin: accounts.StaffInfo) -> None:
    """The service starts at approval without the slip; the trial's days count from it."""
    await plans()
    shop = await applicant("trial-tea")
    other = await applicant("plain-tea")
    await billing.choose_plan(shop.id, "trial", "manual")
    await billing.choose_plan(other.id, "plain", "manual")
    assert await billing.payment_state(shop.id) == "trialing"
    assert (await sub_of(shop))["trial_ends_at"] is None  # waiting for the approval
    assert await billing.enforce_grace(datetime.now(UTC) + timedelta(days=60)) == []
    async with open_client() as client:
        await login(client, shop.owner.email)
        page = await client.get("/console/billing")
        assert 'data-state="trialing"' in page.text
        assert "A 14-day trial, from the day your shop is approved" in page.text
    async with open_client() as client:
        await login(client, admin.email)
        detail = await client.get(f"/admin/applications/{shop.id}")
        assert "In the plan&#39;s trial" in detail.text or "In the plan's trial" in detail.text
        assert 'data-testid="without-payment"' not in detail.text
        approved = await post_form(client, f"/admin/applications/{shop.id}/approve")
        assert approved.status_code == 303
        refused = await post_form(client, f"/admin/applications/{other.id}/approve")
        assert refused.status_code == 409  # no trial: the payment first, as before
    approved_at = datetime.now(UTC)
    assert (await tenants.get_tenant(shop.id)).status == "active"
    sub = await sub_of(shop)
    assert near(sub["trial_ends_at"], approved_at + timedelta(days=DAYS))
    async with open_client() as client:
        await login(client, shop.owner.email)
        page = await client.get("/console/billing")
        end = sub["trial_ends_at"].date().isoformat()
        assert f'data-testid="trial-ends" data-date="{end}"' in page.text
        assert 'data-testid="trial-note"' in page.text
        assert 'data-testid="payment-reference"' in page.text  # the transfer still due


async def test_paying_before_the_approval_keeps_the_trial(tenant_a: World) -> None:
    await plans()
    shop = await applicant("early-tea")
    await billing.choose_plan(shop.id, "trial", "manual")
    payment = await billing.pending_payment(shop.id)
    assert payment and await billing.confirm_manual_payment(payment.id, actor=ADMIN)
    now = datetime.now(UTC)
    sub = await sub_of(shop)
    assert near(sub["trial_ends_at"], now + timedelta(days=DAYS))
    assert sub["current_period_end"] == sub["trial_ends_at"] + PERIOD
    assert await billing.payment_state(shop.id) == "paid"
    await review.approve(shop.id, actor=ADMIN)
    assert (await sub_of(shop))["trial_ends_at"] == sub["trial_ends_at"]  # not restarted


async def test_the_owner_sees_the_trial_start_on_choosing(tenant_a: World) -> None:
    await plans()
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        chosen = await post_form(
            client, "/console/billing/choose", {"plan": "trial", "provider": "manual"}
        )
        assert chosen.status_code == 303
        page = await client.get(chosen.headers["location"].split("#")[0])
        assert "Your trial has started" in page.text
        assert 'data-state="trialing"' in page.text and 'data-testid="trial-ends"' in page.text


async def test_one_trial_per_shop_also_by_card(
    stripe_api: FakeStripeApi, tenant_a: World, tenant_b: World
) -> None:
    with installed(build_plugin_manager()):  # after the fixture set LOYALCHAT_STRIPE_*
        await plans()
        await billing.choose_plan(tenant_a.id, "trial", "manual")  # a trial by transfer
        await billing.choose_plan(tenant_a.id, "trial", "stripe")  # then the card
        await billing.choose_plan(tenant_b.id, "trial", "stripe")
    a_call, b_call = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert "trial_period_days" not in a_call.params["subscription_data"]
    assert b_call.params["subscription_data"]["trial_period_days"] == str(DAYS)
