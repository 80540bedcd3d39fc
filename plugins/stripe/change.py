"""A shop that already pays by card and chooses another plan: its running subscription
moves to the new price, prorated by Stripe, instead of a second subscription starting.

The change is a payment of its own for billing: its reference is
``<subscription id>:<payment id>`` and the subscription's metadata names the new payment,
so the ``customer.subscription.updated`` event (and the prorated invoice) that follow are
reported against it, and a paid change moves the shop to the new plan.
"""

from __future__ import annotations

from typing import Any

import stripe

from loyalchat.context import tenant_context
from loyalchat.extensions.payments import PaymentRequest, PaymentStart, PaymentStatus
from loyalchat.plugins.stripe import records

# A subscription in one of these is running: a change moves it; otherwise Checkout anew.
RUNNING = frozenset({"active", "trialing", "past_due"})
PAID = frozenset({"active", "trialing"})


def change_ref(subscription_id: str, payment_id: int) -> str:
    return f"{subscription_id}:{payment_id}"


def parse_change_ref(ref: str) -> tuple[str, int] | None:
    subscription_id, _, payment = ref.partition(":")
    if not subscription_id.startswith("sub_") or not payment.isdigit() or len(payment) > 11:
        return None
    return subscription_id, int(payment)


async def change_plan(
    client: stripe.StripeClient,
    payment: PaymentRequest,
    price: str,
    idempotency_key: str,
    back: str,
) -> PaymentStart | None:
    """Move the shop's running subscription to ``price``; None when none is running."""
    with tenant_context(payment.tenant_id):
        subscription_id = await records.running_subscription()
    if not subscription_id:
        return None
    subscription = (await client.v1.subscriptions.retrieve_async(subscription_id)).to_dict()
    items = (subscription.get("items") or {}).get("data") or []
    if subscription.get("status") not in RUNNING or not items:
        return None
    ref = change_ref(subscription_id, payment.payment_id)
    with tenant_context(payment.tenant_id):  # first: the events may come at once
        await records.remember_checkout(payment.payment_id, ref, "")
        await records.link_subscription(payment.payment_id, subscription_id)
    params: dict[str, Any] = {
        "items": [{"id": items[0]["id"], "price": price}],
        # The difference is invoiced (and charged) now, not with the next renewal.
        "proration_behavior": "always_invoice",
        "metadata": {"tenant_id": str(payment.tenant_id), "payment_id": str(payment.payment_id)},
    }
    await client.v1.subscriptions.update_async(
        subscription_id, params, {"idempotency_key": idempotency_key}
    )
    return PaymentStart(provider_ref=ref, redirect_url=back)


def change_status(subscription: dict[str, Any], payment_id: int) -> PaymentStatus:
    """A change is paid once the subscription names it and runs."""
    named = (subscription.get("metadata") or {}).get("payment_id")
    if named == str(payment_id) and subscription.get("status") in PAID:
        return PaymentStatus.succeeded
    return PaymentStatus.pending
