"""``POST /hooks/stripe`` end to end: the fake Stripe API, events signed by the stripe
library's own helper, the app's route, the inbox and its actor, and billing.

A payment starts with billing's ``choose_plan`` (through the provider, against the fake);
the fake plays Stripe's side (the customer pays, a renewal fails, the customer cancels)
and hands back the events Stripe would send, which are delivered signed.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pluggy
import pytest
from dramatiq.brokers.stub import StubBroker
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.billing import service as billing
from loyalchat.billing.lifecycle import NONPAYMENT_REASON
from loyalchat.billing.tables import Payment, PaymentEvent
from loyalchat.context import cross_tenant
from loyalchat.inbox.tables import InboundEvent
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.scoping import unscoped
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants.service import get_tenant, set_status
from loyalchat.tenants.tables import TenantStatus
from tests.fakes.stripe_api import (
    PRICE,
    PRICE_PRO,
    FakeStripeApi,
    deliver,
    signed_event,
    stripe_api,
)
from tests.fixtures import World, make_world
from tests.test_conversations_support import app_for, installed
from tests.test_tasks_support import drain, fresh_stub_broker

__all__ = ["stripe_api"]  # the fixture, imported for this module's tests


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@dataclass
class Shop:
    pm: pluggy.PluginManager
    app: Litestar
    worker: EmbeddedWorker
    stripe: FakeStripeApi
    a: World
    b: World

    async def post(self, event: dict[str, Any] | bytes, **signing: Any) -> int:
        async with AsyncTestClient(app=self.app) as client:
            answer = await deliver(client, event, **signing)
        await drain(self.worker)
        return answer.status_code

    async def checkout(self, world: World) -> str:
        """``world`` chose the plan by card: the Checkout Session's id."""
        return (await billing.choose_plan(world.id, "basic", "stripe")).provider_ref


@pytest.fixture
async def shop(
    stripe_api: FakeStripeApi, tenant_a: World, tenant_b: World, stub_broker: StubBroker
) -> AsyncIterator[Shop]:
    pm = build_plugin_manager()  # after the fixture set LOYALCHAT_STRIPE_*
    with installed(pm):
        await billing.create_plan(
            billing.PlanInput(
                code="basic", name="Basic", monthly_price=Decimal("299.00"), stripe_price_id=PRICE
            )
        )
        worker = EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50)
        try:
            yield Shop(pm, app_for(pm), worker, stripe_api, tenant_a, tenant_b)
        finally:
            worker.stop()


async def stored() -> int:
    with cross_tenant("test: every tenant's stripe events"):
        table = unscoped(InboundEvent)
        return await table.count().where(table.source == "stripe")


async def payments(world: World) -> list[dict[str, Any]]:
    with cross_tenant("test: one tenant's payments"):
        table = unscoped(Payment)
        return await table.select().where(table.tenant == world.id).order_by(table.id)


async def test_a_paid_checkout_activates_the_plan(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    assert await billing.payment_state(shop.a.id) == "pending"
    events = shop.stripe.complete_checkout(session)
    assert await shop.post(events["checkout.session.completed"]) == 200
    assert await stored() == 1
    assert await billing.payment_state(shop.a.id) == "paid"
    [payment] = await payments(shop.a)
    assert (payment["status"], payment["provider_ref"]) == ("succeeded", session)
    assert await billing.payment_state(shop.b.id) == "none"
    # The first invoice is the same payment, not another one.
    assert await shop.post(events["invoice.paid"]) == 200
    assert len(await payments(shop.a)) == 1


async def test_a_plan_change_moves_the_running_subscription(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    await shop.post(shop.stripe.complete_checkout(session)["checkout.session.completed"])
    pro = await billing.create_plan(
        billing.PlanInput(
            code="pro", name="Pro", monthly_price=Decimal("599.00"), stripe_price_id=PRICE_PRO
        )
    )
    change = await billing.choose_plan(shop.a.id, "pro", "stripe")
    subscription = stripe_sub(shop, session)
    assert change.provider_ref.startswith(f"{subscription}:")
    assert "checkout=changed" in change.redirect_url
    assert len(shop.stripe.sessions) == 1  # no second checkout, no second subscription
    [call] = shop.stripe.calls("POST", f"/v1/subscriptions/{subscription}")
    assert call.params["proration_behavior"] == "always_invoice"
    assert call.params["items"][0]["price"] == PRICE_PRO
    assert (await billing.subscription_row(shop.a.id))["plan"] != pro.id  # not paid yet
    [events] = shop.stripe.changes
    assert await shop.post(events["customer.subscription.updated"]) == 200
    assert await shop.post(events["invoice.paid"]) == 200
    assert (await billing.subscription_row(shop.a.id))["plan"] == pro.id
    assert await billing.payment_state(shop.a.id) == "paid"
    statuses = {p["provider_ref"]: p["status"] for p in await payments(shop.a)}
    assert statuses[session] == statuses[change.provider_ref] == "succeeded"


async def test_a_shop_still_applying_pays_by_card(shop: Shop) -> None:
    applying = await make_world("cafe-new", TenantStatus.applying)
    session = await shop.checkout(applying)
    assert (
        await shop.post(shop.stripe.complete_checkout(session)["checkout.session.completed"]) == 200
    )
    assert await billing.payment_state(applying.id) == "paid"
    assert (await get_tenant(applying.id)).status == TenantStatus.applying.value  # review decides


async def test_a_payment_reactivates_a_shop_suspended_for_nonpayment_only(shop: Shop) -> None:
    subscriptions = {}
    for world in (shop.a, shop.b):
        session = await shop.checkout(world)
        await shop.post(shop.stripe.complete_checkout(session)["checkout.session.completed"])
        subscriptions[world.id] = stripe_sub(shop, session)
        assert await shop.post(shop.stripe.fail_invoice(subscriptions[world.id])) == 200
    await set_status(shop.a.id, TenantStatus.suspended, NONPAYMENT_REASON)
    await set_status(shop.b.id, TenantStatus.suspended, "terms of service")
    for world in (shop.a, shop.b):  # a suspended shop's events are still taken
        assert await shop.post(shop.stripe.pay_invoice(subscriptions[world.id])) == 200
        assert await billing.payment_state(world.id) == "paid"
    assert (await get_tenant(shop.a.id)).status == TenantStatus.active.value
    assert (await get_tenant(shop.b.id)).status == TenantStatus.suspended.value


async def test_a_bad_signature_is_400_with_nothing_stored(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    event = shop.stripe.complete_checkout(session)["checkout.session.completed"]
    assert await shop.post(event, secret="whsec_not_ours") == 400
    body, headers = signed_event(event)
    async with AsyncTestClient(app=shop.app) as client:
        tampered = body.replace(b'"paid"', b'"unpaid"')
        assert (
            await client.post("/hooks/stripe", content=tampered, headers=headers)
        ).status_code == 400
        unsigned = {"content-type": "application/json"}
        assert (
            await client.post("/hooks/stripe", content=body, headers=unsigned)
        ).status_code == 400
        garbage = {**headers, "stripe-signature": "t=x,v1=" + "0" * 64}
        assert (
            await client.post("/hooks/stripe", content=body, headers=garbage)
        ).status_code == 400
    assert await stored() == 0
    assert await PaymentEvent.count() == 0
    assert await billing.payment_state(shop.a.id) == "pending"


async def test_a_stale_timestamp_is_400(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    event = shop.stripe.complete_checkout(session)["checkout.session.completed"]
    assert await shop.post(event, timestamp=int(time.time()) - 301) == 400
    assert await stored() == 0
    assert await shop.post(event, timestamp=int(time.time()) - 200) == 200  # within 300 s
    assert await billing.payment_state(shop.a.id) == "paid"


async def test_a_replayed_event_changes_nothing(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    event = shop.stripe.complete_checkout(session)["checkout.session.completed"]
    for _ in range(3):
        assert await shop.post(event) == 200
    assert await stored() == 1
    assert await PaymentEvent.count() == 1
    assert len(await payments(shop.a)) == 1
    renewal_failed = shop.stripe.fail_invoice(stripe_sub(shop, session))
    assert await shop.post(renewal_failed) == 200
    assert await shop.post(renewal_failed) == 200
    assert [p["status"] for p in await payments(shop.a)] == ["succeeded", "failed"]
    assert await billing.payment_state(shop.a.id) == "past_due"


def stripe_sub(shop: Shop, session: str) -> str:
    return shop.stripe.sessions[session]["subscription"]


async def test_events_out_of_order_end_in_the_right_state(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    events = shop.stripe.complete_checkout(session)
    updated = shop.stripe.set_subscription_status(stripe_sub(shop, session), "active")
    # The subscription's update arrives before the checkout's completion.
    assert await shop.post(updated) == 200
    assert await billing.payment_state(shop.a.id) == "paid"
    assert await shop.post(events["checkout.session.completed"]) == 200
    assert await billing.payment_state(shop.a.id) == "paid"
    assert len(await payments(shop.a)) == 1


async def test_a_cancellation_seen_first_is_not_undone_by_a_late_completion(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    events = shop.stripe.complete_checkout(session)
    deleted = shop.stripe.set_subscription_status(stripe_sub(shop, session), "canceled")
    assert await shop.post(deleted) == 200
    assert await shop.post(events["checkout.session.completed"]) == 200
    assert await shop.post(events["invoice.paid"]) == 200
    assert await billing.payment_state(shop.a.id) != "paid"


async def test_a_failed_renewal_then_paid_reactivates(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    await shop.post(shop.stripe.complete_checkout(session)["checkout.session.completed"])
    subscription = stripe_sub(shop, session)
    assert await shop.post(shop.stripe.fail_invoice(subscription)) == 200
    assert await billing.payment_state(shop.a.id) == "past_due"
    assert await shop.post(shop.stripe.pay_invoice(subscription)) == 200
    assert await billing.payment_state(shop.a.id) == "paid"
    assert (await payments(shop.a))[0]["provider_ref"] == session


async def test_any_other_event_type_is_200_and_not_kept(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    customer = shop.stripe.sessions[session]["customer"]
    event = shop.stripe.event("customer.updated", shop.stripe.customers[customer])
    assert await shop.post(event) == 200
    assert await shop.post(shop.stripe.event("balance.available", {"object": "balance"})) == 200
    assert await stored() == 0


async def test_an_event_of_another_stripe_customer_is_not_ours(shop: Shop) -> None:
    stranger = {"id": "sub_stranger", "object": "subscription", "customer": "cus_elsewhere"}
    assert await shop.post(shop.stripe.event("customer.subscription.updated", stranger)) == 200
    assert await stored() == 0


async def test_nul_and_huge_bodies_are_refused(shop: Shop) -> None:
    session = await shop.checkout(shop.a)
    event = shop.stripe.complete_checkout(session)["checkout.session.completed"]
    event["data"]["object"]["metadata"]["note"] = "\x00"
    assert await shop.post(event) == 400
    assert await shop.post(b"\x00" * 100) == 400
    assert await shop.post(b"\xff\xfe not utf-8") == 400
    assert await shop.post(b"[1, 2]") == 400
    huge = json.dumps({"id": "evt_huge", "type": "invoice.paid", "pad": "x" * 2_000_000}).encode()
    assert await shop.post(huge) == 413
    assert await stored() == 0
    assert await billing.payment_state(shop.a.id) == "pending"


async def test_an_event_for_one_tenant_never_touches_another(shop: Shop) -> None:
    session_a = await shop.checkout(shop.a)
    session_b = await shop.checkout(shop.b)
    events = shop.stripe.complete_checkout(session_a)
    assert await shop.post(events["checkout.session.completed"]) == 200
    assert await billing.payment_state(shop.a.id) == "paid"
    assert await billing.payment_state(shop.b.id) == "pending"
    [payment_b] = await payments(shop.b)
    assert (payment_b["status"], payment_b["provider_ref"]) == ("pending", session_b)
    # An event about a's subscription that names b's payment in its metadata is a's.
    sub = shop.stripe.subscriptions[stripe_sub(shop, session_a)]
    forged = shop.stripe.event(
        "customer.subscription.updated",
        {**sub, "metadata": {"tenant_id": str(shop.b.id), "payment_id": str(payment_b["id"])}},
    )
    assert await shop.post(forged) == 200
    assert await billing.payment_state(shop.b.id) == "pending"
    assert (await payments(shop.b))[0]["status"] == "pending"


async def test_without_a_webhook_secret_the_endpoint_is_404(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOYALCHAT_STRIPE_WEBHOOK_SECRET")
    session = await shop.checkout(shop.a)
    event = shop.stripe.complete_checkout(session)["checkout.session.completed"]
    assert await shop.post(event) == 404
    assert await stored() == 0


async def test_a_browser_pays_on_the_fakes_checkout_page(shop: Shop) -> None:
    """What the e2e test clicks: the session's URL shows a Pay button whose form completes
    the checkout and sends the browser to our success URL."""
    start = await billing.choose_plan(shop.a.id, "basic", "stripe")
    async with httpx.AsyncClient() as browser:
        page = await browser.get(start.redirect_url)
        paid = await browser.post(start.redirect_url, follow_redirects=False)
    assert "Pay 299.00 HKD" in page.text
    assert paid.status_code == 303
    assert paid.headers["location"].endswith(f"checkout=success&session_id={start.provider_ref}")
    assert shop.stripe.sessions[start.provider_ref]["status"] == "complete"
