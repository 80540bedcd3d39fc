"""The Stripe provider's calls, through the stripe library, to the fake Stripe API over HTTP.

Checkout Sessions (subscription mode, the plan's price, our payment id as the client
reference, absolute return URLs, one customer per tenant, idempotency keys), a session's
state, the Billing Portal, and Stripe's refusals as :class:`PaymentError`.
"""

from __future__ import annotations

import os
import socket
from decimal import Decimal

import pytest

from loyalchat.context import tenant_context
from loyalchat.extensions import payments
from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.payments import (
    PaymentError,
    PaymentRequest,
    PaymentStatus,
    get_payment_providers,
)
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.plugins.stripe import StripeProvider, records
from loyalchat.settings import get_settings
from tests.fakes.stripe_api import PRICE, PRICE_PRO, FakeStripeApi, signed_event, stripe_api
from tests.fixtures import World

__all__ = ["stripe_api"]  # the fixture, imported for this module's tests


def request(world: World, payment_id: int, **metadata: str) -> PaymentRequest:
    return PaymentRequest(
        payment_id=payment_id,
        tenant_id=world.id,
        amount=Decimal("299.00"),
        currency="HKD",
        description="Basic (basic)",
        return_url="/console/billing",
        metadata={"stripe_price_id": PRICE, "plan": "basic", **metadata},
    )


async def test_start_makes_a_subscription_checkout_for_the_plans_price(
    stripe_api: FakeStripeApi, tenant_a: World
) -> None:
    start = await StripeProvider().start(request(tenant_a, 7))
    assert start.provider_ref.startswith("cs_test_")
    assert start.redirect_url == f"{stripe_api.base_url}/c/pay/{start.provider_ref}"
    [customer_call] = stripe_api.calls("POST", "/v1/customers")
    [session_call] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert customer_call.params["metadata"] == {"tenant_id": str(tenant_a.id)}
    params = session_call.params
    base = get_settings().public_base_url.rstrip("/")
    assert params["mode"] == "subscription"
    assert params["line_items"] == [{"price": PRICE, "quantity": "1"}]
    assert params["client_reference_id"] == "7"
    assert params["metadata"] == {"tenant_id": str(tenant_a.id), "payment_id": "7"}
    assert params["subscription_data"] == {"metadata": params["metadata"]}
    assert params["customer"] in stripe_api.customers
    assert params["success_url"] == (
        f"{base}/console/billing?checkout=success&session_id={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == f"{base}/console/billing?checkout=cancelled"
    for call in (customer_call, session_call):
        assert call.headers["authorization"] == f"Bearer {stripe_api.secret_key}"
        assert call.headers["idempotency-key"].startswith("loyalchat-")
    with tenant_context(tenant_a.id):
        assert await records.customer_id() == params["customer"]
        assert (await records.checkout_for_payment(7))["session_id"] == start.provider_ref


async def test_a_retried_start_gets_the_same_session_and_the_customer_is_reused(
    stripe_api: FakeStripeApi, tenant_a: World
) -> None:
    provider = StripeProvider()
    first = await provider.start(request(tenant_a, 7))
    again = await provider.start(request(tenant_a, 7))
    assert again == first
    assert len(stripe_api.sessions) == 1  # the idempotency key replayed the first answer
    other = await provider.start(request(tenant_a, 8))
    assert other.provider_ref != first.provider_ref
    assert len(stripe_api.customers) == 1
    assert len(stripe_api.calls("POST", "/v1/customers")) == 1
    sessions = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert sessions[0].headers["idempotency-key"] == sessions[1].headers["idempotency-key"]
    assert sessions[0].headers["idempotency-key"] != sessions[2].headers["idempotency-key"]


async def test_two_tenants_have_their_own_customers(
    stripe_api: FakeStripeApi, tenant_a: World, tenant_b: World
) -> None:
    provider = StripeProvider()
    a = await provider.start(request(tenant_a, 1))
    b = await provider.start(request(tenant_b, 2))
    customer_a = stripe_api.sessions[a.provider_ref]["customer"]
    customer_b = stripe_api.sessions[b.provider_ref]["customer"]
    assert customer_a != customer_b
    assert stripe_api.customers[customer_b]["metadata"] == {"tenant_id": str(tenant_b.id)}
    with tenant_context(tenant_a.id):
        assert await records.customer_id() == customer_a
        assert await records.checkout_for_payment(2) is None  # tenant b's payment
    assert await records.tenant_of_customer(customer_b) == tenant_b.id


async def test_a_plan_with_a_trial_starts_a_trial(
    stripe_api: FakeStripeApi, tenant_a: World
) -> None:
    await StripeProvider().start(request(tenant_a, 3, trial_days="14"))
    [call] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert call.params["subscription_data"]["trial_period_days"] == "14"


async def test_refusals_are_payment_errors(stripe_api: FakeStripeApi, tenant_a: World) -> None:
    provider = StripeProvider()
    with pytest.raises(PaymentError, match="no Stripe price"):
        await provider.start(request(tenant_a, 1, stripe_price_id=""))
    with pytest.raises(PaymentError) as refused:
        await provider.start(request(tenant_a, 2, stripe_price_id="price_unknown"))
    assert not refused.value.retryable
    assert stripe_api.sessions == {}
    os.environ["LOYALCHAT_STRIPE_SECRET_KEY"] = "sk_test_wrong"
    with pytest.raises(PaymentError) as unauthorised:
        await provider.start(request(tenant_a, 3))
    assert not unauthorised.value.retryable


async def test_stripe_unreachable_is_a_retryable_payment_error(
    stripe_api: FakeStripeApi, tenant_a: World
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ["LOYALCHAT_STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    with pytest.raises(PaymentError) as unreachable:
        await StripeProvider().start(request(tenant_a, 1))
    assert unreachable.value.retryable


async def test_verify_reads_the_session(stripe_api: FakeStripeApi, tenant_a: World) -> None:
    provider = StripeProvider()
    start = await provider.start(request(tenant_a, 1))
    assert await provider.verify(start.provider_ref) is PaymentStatus.pending
    stripe_api.complete_checkout(start.provider_ref)
    assert await provider.verify(start.provider_ref) is PaymentStatus.succeeded
    stripe_api.sessions[start.provider_ref]["status"] = "expired"
    assert await provider.verify(start.provider_ref) is PaymentStatus.cancelled
    with pytest.raises(PaymentError):
        await provider.verify("cs_test_unknown")
    with pytest.raises(PaymentError):
        await provider.verify("../v1/customers")


async def test_another_plan_moves_a_running_subscription_and_an_ended_one_checks_out_anew(
    stripe_api: FakeStripeApi, tenant_a: World
) -> None:
    provider = StripeProvider()
    first = await provider.start(request(tenant_a, 1))
    stripe_api.complete_checkout(first.provider_ref)
    subscription = stripe_api.sessions[first.provider_ref]["subscription"]
    with tenant_context(tenant_a.id):  # what the first event about it does
        await records.link_subscription(1, subscription)
    change = await provider.start(request(tenant_a, 2, stripe_price_id=PRICE_PRO))
    assert change.provider_ref == f"{subscription}:2"
    assert stripe_api.subscriptions[subscription]["items"]["data"][0]["price"]["id"] == PRICE_PRO
    assert stripe_api.subscriptions[subscription]["metadata"]["payment_id"] == "2"
    assert await provider.verify(change.provider_ref) is PaymentStatus.succeeded
    assert await provider.verify(f"{subscription}:1") is PaymentStatus.pending  # superseded
    with pytest.raises(PaymentError):
        await provider.verify(f"{subscription}:x")
    stripe_api.set_subscription_status(subscription, "canceled")
    again = await provider.start(request(tenant_a, 3))
    assert again.provider_ref.startswith("cs_test_")
    assert len(stripe_api.sessions) == 2


async def test_portal_link_is_for_the_tenants_own_customer(
    stripe_api: FakeStripeApi, tenant_a: World, tenant_b: World
) -> None:
    provider = StripeProvider()
    with pytest.raises(PaymentError):
        await provider.portal_url(tenant_a.id)  # never paid by card: no customer
    a = await provider.start(request(tenant_a, 1))
    await provider.start(request(tenant_b, 2))
    url = await provider.portal_url(tenant_a.id, "/console/billing")
    [portal] = stripe_api.portal_sessions
    assert url == portal["url"]
    assert portal["customer"] == stripe_api.sessions[a.provider_ref]["customer"]
    base = get_settings().public_base_url.rstrip("/")
    assert portal["return_url"] == f"{base}/console/billing"
    # As billing asks for it: the optional PaymentPortal side of the provider.
    assert await payments.portal_url(provider, tenant_b.id) == stripe_api.portal_sessions[1]["url"]
    assert stripe_api.portal_sessions[1]["customer"] != portal["customer"]


async def test_the_provider_is_offered_only_with_a_secret_key(
    stripe_api: FakeStripeApi,
) -> None:
    assert "stripe" in get_payment_providers(build_plugin_manager())
    os.environ.pop("LOYALCHAT_STRIPE_SECRET_KEY")
    assert "stripe" not in get_payment_providers(build_plugin_manager())


async def test_handle_webhook_verifies_the_signature_only(stripe_api: FakeStripeApi) -> None:
    event = stripe_api.event("invoice.paid", {"id": "in_1", "object": "invoice"})
    body, headers = signed_event(event)
    good = InboundRequest("POST", "/hooks/stripe", headers, {}, body)
    assert await StripeProvider().handle_webhook(good) == []  # the route stores, the inbox acts
    for bad in (
        InboundRequest("POST", "/hooks/stripe", headers, {}, body + b" "),
        InboundRequest("POST", "/hooks/stripe", signed_event(event, "whsec_other")[1], {}, body),
        InboundRequest("POST", "/hooks/stripe", {}, {}, body),
    ):
        with pytest.raises(PaymentError):
            await StripeProvider().handle_webhook(bad)
