"""The ``stripe`` payment provider: Checkout for the subscription, the Billing Portal after.

Every call goes through the stripe library's client on ``LOYALCHAT_STRIPE_API_BASE``, with
an idempotency key made from our own ids: a retried ``start`` for one payment gets the
same Checkout Session back from Stripe, and a tenant's customer is created once.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode, urljoin

import stripe

from loyalchat.context import tenant_context
from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.payments import (
    PaymentError,
    PaymentRequest,
    PaymentStart,
    PaymentStatus,
    PaymentUpdate,
)
from loyalchat.i18n import N_
from loyalchat.plugins.stripe import records
from loyalchat.plugins.stripe.change import change_plan, change_status, parse_change_ref
from loyalchat.plugins.stripe.config import StripeConfig, stripe_client, stripe_config
from loyalchat.settings import get_settings

DEFAULT_RETURN_PATH = "/console/billing"


class StripeProvider:
    """Card subscriptions through Stripe Checkout; cards and cancellation in the portal."""

    name = "stripe"
    label = N_("Card (Stripe)")

    def __init__(self, config: StripeConfig | None = None) -> None:
        self._config = config

    @property
    def config(self) -> StripeConfig:
        return self._config or stripe_config()

    async def start(self, payment: PaymentRequest) -> PaymentStart:
        """A Checkout Session in subscription mode for the plan's Stripe price; for a shop
        whose card subscription runs, that subscription moved to the price (:mod:`.change`)."""
        price = await _price_id(payment)
        back = absolute(payment.return_url or DEFAULT_RETURN_PATH)
        try:
            async with stripe_client(self.config) as client:
                key = idempotency_key("change", payment.payment_id)
                changed = await change_plan(
                    client, payment, price, key, _with_query(back, checkout="changed")
                )
                if changed is not None:
                    return changed
                customer = await _customer_for(client, payment)
                session = await client.v1.checkout.sessions.create_async(
                    _session_params(payment, price, customer),
                    {"idempotency_key": idempotency_key("checkout", payment.payment_id)},
                )
        except stripe.StripeError as exc:
            raise _payment_error(exc) from exc
        with tenant_context(payment.tenant_id):
            await records.remember_checkout(payment.payment_id, session.id, customer)
        return PaymentStart(provider_ref=session.id, redirect_url=session.url or "")

    async def verify(self, provider_ref: str) -> PaymentStatus:
        """Where a Checkout Session stands (paid, still open, expired), or a plan change."""
        change = parse_change_ref(provider_ref)
        if not provider_ref.startswith("cs_") and change is None:
            raise PaymentError("not a Stripe Checkout Session id")
        try:
            async with stripe_client(self.config) as client:
                if change is not None:
                    subscription = await client.v1.subscriptions.retrieve_async(change[0])
                    return change_status(subscription.to_dict(), change[1])
                session = await client.v1.checkout.sessions.retrieve_async(provider_ref)
        except stripe.StripeError as exc:
            raise _payment_error(exc) from exc
        return session_status(session.to_dict())

    async def handle_webhook(self, request: InboundRequest) -> list[PaymentUpdate]:
        """Verify a ``/hooks/stripe`` request; the updates come later, from the stored event.

        The plugin's own route stores each event in the inbox before anything else
        (:mod:`.webhook`), so no update is returned here: the inbox actor makes them once
        (:mod:`.events`). Raises :class:`PaymentError` for a bad or stale signature.
        """
        from loyalchat.plugins.stripe.webhook import verified_event

        if verified_event(request.body, request.header("stripe-signature")) is None:
            raise PaymentError("Stripe-Signature check failed")
        return []

    async def portal_url(self, tenant_id: int, return_url: str = "") -> str:
        """A Billing Portal session for the tenant's customer (cards, invoices, cancel)."""
        with tenant_context(tenant_id):
            customer = await records.customer_id()
        if not customer:
            raise PaymentError("this shop has not paid by card yet")
        try:
            async with stripe_client(self.config) as client:
                portal = await client.v1.billing_portal.sessions.create_async(
                    {
                        "customer": customer,
                        "return_url": absolute(return_url or DEFAULT_RETURN_PATH),
                    }
                )
        except stripe.StripeError as exc:
            raise _payment_error(exc) from exc
        return portal.url


def idempotency_key(kind: str, our_id: int) -> str:
    """One key per payment (or tenant), distinct per installation: two installations
    sharing a Stripe test account never replay each other's requests."""
    install = hashlib.sha256(get_settings().public_base_url.encode()).hexdigest()[:12]
    return f"loyalchat-{install}-{kind}-{our_id}"


def session_status(session: dict[str, Any]) -> PaymentStatus:
    """A Checkout Session's state as a payment's."""
    if session.get("status") == "complete" and session.get("payment_status") in (
        "paid",
        "no_payment_required",  # a trial: the subscription runs, the card is on file
    ):
        return PaymentStatus.succeeded
    if session.get("status") == "expired":
        return PaymentStatus.cancelled
    return PaymentStatus.pending


def absolute(url: str) -> str:
    """``url`` made absolute from ``LOYALCHAT_PUBLIC_BASE_URL`` (Stripe needs full URLs)."""
    return urljoin(get_settings().public_base_url.rstrip("/") + "/", url)


def _with_query(url: str, **params: str) -> str:
    separator = "&" if "?" in url else "?"
    # Stripe fills in {CHECKOUT_SESSION_ID} itself: it must reach it unescaped.
    return url + separator + urlencode(params).replace("%7B", "{").replace("%7D", "}")


def _session_params(payment: PaymentRequest, price: str, customer: str) -> dict[str, Any]:
    metadata = {"tenant_id": str(payment.tenant_id), "payment_id": str(payment.payment_id)}
    back = absolute(payment.return_url or DEFAULT_RETURN_PATH)
    subscription: dict[str, Any] = {"metadata": metadata}
    trial = (payment.metadata.get("trial_days") or "").strip()
    if trial.isdigit() and 0 < int(trial) <= 730:  # Stripe's limit
        subscription["trial_period_days"] = int(trial)
    return {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": str(payment.payment_id),
        "line_items": [{"price": price, "quantity": 1}],
        "metadata": metadata,
        # Copied onto the subscription: its events (and its invoices') name our payment.
        "subscription_data": subscription,
        "success_url": _with_query(back, checkout="success", session_id="{CHECKOUT_SESSION_ID}"),
        "cancel_url": _with_query(back, checkout="cancelled"),
    }


async def _customer_for(client: stripe.StripeClient, payment: PaymentRequest) -> str:
    """The tenant's Stripe customer: the one kept, else a new one (once, by its key)."""
    with tenant_context(payment.tenant_id):
        known = await records.customer_id()
    if known:
        return known
    customer = await client.v1.customers.create_async(
        {
            "description": payment.description[:350],
            "metadata": {"tenant_id": str(payment.tenant_id)},
        },
        {"idempotency_key": idempotency_key("customer", payment.tenant_id)},
    )
    with tenant_context(payment.tenant_id):
        return await records.keep_customer(customer.id)


async def _price_id(payment: PaymentRequest) -> str:
    """The plan's Stripe price: handed over in the request's metadata, else read from the
    plan named there."""
    price = (payment.metadata.get("stripe_price_id") or "").strip()
    code = (payment.metadata.get("plan_code") or payment.metadata.get("plan") or "").strip()
    if not price and code:
        from loyalchat.billing.service import get_plan_by_code

        try:
            price = (await get_plan_by_code(code)).stripe_price_id.strip()
        except Exception as exc:  # an unknown plan: the same answer as no price
            raise PaymentError("the plan has no Stripe price") from exc
    if not price:
        raise PaymentError("the plan has no Stripe price")
    return price


def _payment_error(exc: stripe.StripeError) -> PaymentError:
    """Stripe's refusal as ours; network trouble and Stripe's own errors may be retried."""
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or (
        exc.http_status is not None and exc.http_status >= 500
    )
    return PaymentError(f"Stripe: {exc.user_message or type(exc).__name__}", retryable=retryable)
