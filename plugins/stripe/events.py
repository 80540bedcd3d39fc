"""A stored Stripe event becomes a payment update for billing (the inbox handler).

Stripe delivers events in no set order and may deliver one several times. So an event is
never taken for the state it describes: it only says *which* subscription changed, and the
subscription is read from Stripe as it is now (Stripe's own advice). Whatever order the
events of a checkout arrive in, the last one processed reports the subscription's present
state, and billing's ``apply_payment_update`` applies each event id once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import stripe
import structlog

from loyalchat.context import require_tenant
from loyalchat.extensions.payments import PaymentStatus, PaymentUpdate
from loyalchat.inbox.service import InboundEventRow
from loyalchat.plugins.stripe import records
from loyalchat.plugins.stripe.config import stripe_client
from loyalchat.plugins.stripe.provider import session_status
from loyalchat.plugins.stripe.webhook import SOURCE, event_object, our_metadata, ref_id

log = structlog.get_logger(__name__)

# A subscription's status as the state of the payment that started it.
SUBSCRIPTION_STATUS = {
    "active": PaymentStatus.succeeded,
    "trialing": PaymentStatus.succeeded,
    "past_due": PaymentStatus.failed,
    "unpaid": PaymentStatus.failed,
    "paused": PaymentStatus.failed,  # a trial ended without a card
    "canceled": PaymentStatus.cancelled,
    "incomplete_expired": PaymentStatus.cancelled,
    # "incomplete": the first payment is under way: nothing to report yet
}


async def handle_event(row: InboundEventRow) -> None:
    """The inbox handler for source ``stripe``, in the event's tenant; safe to run twice."""
    update = await update_for(row.payload)
    if update is None:
        return
    from loyalchat.billing.service import apply_payment_update

    await apply_payment_update(provider=SOURCE, update=update)


async def update_for(event: Mapping[str, Any]) -> PaymentUpdate | None:
    """The payment update ``event`` amounts to now, or None (not ours, nothing to say)."""
    obj = event_object(event)
    kind = str(event.get("type", ""))
    subscription_id = _subscription_of(kind, obj)
    fallback = obj if kind.startswith("customer.subscription.") else None
    subscription = await _current_subscription(subscription_id, fallback)
    checkout = await _checkout(_payment_id(kind, obj, subscription), subscription_id)
    if checkout is None or not _same_tenant(subscription):
        log.warning("stripe_event_unmatched", event_id=str(event.get("id"))[:64], type=kind)
        return None
    if subscription_id and checkout["subscription_id"] != subscription_id:
        await records.link_subscription(checkout["payment_id"], subscription_id)
    status = _status(kind, obj, subscription)
    if status is None:
        return None
    # The first invoice is the checkout's payment; a renewal is a payment of its own.
    renewal = kind.startswith("invoice.") and obj.get("billing_reason") != "subscription_create"
    return PaymentUpdate(
        provider_ref=ref_id(obj.get("id")) if renewal else checkout["session_id"],
        status=status,
        event_id=str(event["id"]),
        raw=_raw(kind, obj, checkout, subscription),
    )


async def _checkout(payment_id: int | None, subscription_id: str) -> dict[str, Any] | None:
    """This tenant's checkout row the event is about (another tenant's is never found)."""
    if payment_id is not None:
        found = await records.checkout_for_payment(payment_id)
        if found is not None:
            return found
    if subscription_id:
        return await records.checkout_for_subscription(subscription_id)
    return None


def _status(
    kind: str, obj: Mapping[str, Any], subscription: Mapping[str, Any] | None
) -> PaymentStatus | None:
    """What to report: an invoice's own outcome, else the subscription's present state
    (a late ``checkout.session.completed`` of a cancelled subscription reports it
    cancelled, not paid)."""
    now = SUBSCRIPTION_STATUS.get(str((subscription or {}).get("status")))
    if kind.startswith("invoice."):
        if now is PaymentStatus.cancelled:
            return None  # the last invoice of an ended subscription changes nothing here
        return PaymentStatus.succeeded if kind == "invoice.paid" else PaymentStatus.failed
    if subscription is None:
        status = session_status(obj) if kind == "checkout.session.completed" else None
        return None if status is PaymentStatus.pending else status
    return now


def _subscription_of(kind: str, obj: Mapping[str, Any]) -> str:
    if kind.startswith("customer.subscription."):
        return ref_id(obj.get("id"))
    if kind.startswith("invoice."):
        parent = obj.get("parent")
        details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
        if isinstance(details, Mapping) and ref_id(details.get("subscription")):
            return ref_id(details.get("subscription"))
    return ref_id(obj.get("subscription"))


async def _current_subscription(
    subscription_id: str, fallback: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The subscription as Stripe has it now (the event's copy if Stripe no longer has it).

    A network error or Stripe's own raises: the inbox runs the event again later."""
    if not subscription_id:
        return None
    try:
        async with stripe_client() as client:
            found = await client.v1.subscriptions.retrieve_async(subscription_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise
        return dict(fallback) if fallback is not None else None
    return found.to_dict()


def _payment_id(
    kind: str, obj: Mapping[str, Any], subscription: Mapping[str, Any] | None
) -> int | None:
    candidates = []
    if kind == "checkout.session.completed":
        candidates.append(obj.get("client_reference_id"))
    candidates.append(our_metadata(obj).get("payment_id"))
    if subscription is not None:
        candidates.append(our_metadata(subscription).get("payment_id"))
    for value in candidates:
        if isinstance(value, str) and value.isdigit() and len(value) < 12:
            return int(value)
    return None


def _same_tenant(subscription: Mapping[str, Any] | None) -> bool:
    """A subscription naming another tenant than the event was stored for is not applied."""
    named = our_metadata(subscription or {}).get("tenant_id")
    return named is None or named == str(require_tenant())


def _raw(
    kind: str,
    obj: Mapping[str, Any],
    checkout: Mapping[str, Any],
    subscription: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What billing reads beyond the status (``event_type``, ``payment_id``,
    ``subscription_ref``, ``period_end``, ``invoice_id``, ``amount``, ``currency``,
    ``invoice_url``, ``reason``) and Stripe's ids."""
    raw: dict[str, Any] = {
        "event_type": kind,
        "payment_id": checkout["payment_id"],
        "session_id": checkout["session_id"],
        "subscription_ref": ref_id((subscription or {}).get("id")) or checkout["subscription_id"],
        "customer_id": ref_id(obj.get("customer")),
    }
    if subscription is not None:
        raw["subscription_status"] = str(subscription.get("status", ""))
        items = (subscription.get("items") or {}).get("data") or [{}]
        end = subscription.get("current_period_end") or items[0].get("current_period_end")
        if isinstance(end, int):
            raw["period_end"] = end
    if kind.startswith("invoice."):
        # ``invoice_id`` tells billing the invoice is a payment of its own (a renewal); the
        # first invoice is the checkout's payment, and names itself otherwise.
        first = obj.get("billing_reason") == "subscription_create"
        raw["first_invoice_id" if first else "invoice_id"] = ref_id(obj.get("id"))
        raw["invoice_url"] = str(obj.get("hosted_invoice_url") or "")
        cents = obj.get("amount_paid") if kind == "invoice.paid" else obj.get("amount_due")
        if isinstance(cents, int) and cents >= 0:
            # HKD, CNY and USD have two decimals in Stripe's minor units.
            raw["amount"] = str(Decimal(cents) / 100)
        raw["currency"] = str(obj.get("currency") or "").upper()
        if kind == "invoice.payment_failed":
            raw["reason"] = "card payment failed"
    return raw
