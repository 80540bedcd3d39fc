"""``POST /hooks/stripe``: verify, store, answer at once.

The ``Stripe-Signature`` header is checked by the stripe library over the raw bytes
(``stripe.Webhook.construct_event``, 300 s tolerance) before anything is read or stored: a
bad or stale signature is a 400 and leaves no row. A verified event of a type we act on is
stored in the inbox of the tenant it belongs to (its unique index on the event id makes
Stripe's retries and replays no-ops) and answered 200; the inbox actor does the rest
(:mod:`.events`). Any other verified event is answered 200 and not kept: it changes
nothing here. The tenant comes from the event's customer, which only we created
(``stripe_customer``), or else from the metadata we put on the session and subscription;
an event naming neither (another application on the same Stripe account) is not ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
import structlog
from litestar import Request, Response, post

from loyalchat.context import tenant_context
from loyalchat.conversations.webhooks import MAX_BODY_BYTES, WEBHOOK
from loyalchat.inbox.service import record_inbound
from loyalchat.plugins.stripe import records
from loyalchat.plugins.stripe.config import stripe_config
from loyalchat.tenants.tables import Tenant

log = structlog.get_logger(__name__)

SOURCE = "stripe"  # the inbox source of these events
TOLERANCE_SECONDS = 300
HANDLED = frozenset(
    {
        "checkout.session.completed",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)


def verified_event(body: bytes, signature: str, secret: str = "") -> dict[str, Any] | None:
    """The event in ``body`` when ``signature`` is Stripe's over it and recent, else None."""
    secret = secret or stripe_config().webhook_secret
    if not secret or not signature:
        return None
    try:
        # The key only seeds the event object's client, which nothing here calls.
        event = stripe.Webhook.construct_event(
            body, signature, secret, tolerance=TOLERANCE_SECONDS, api_key="unused"
        )
    except stripe.SignatureVerificationError:
        return None
    except Exception:  # signed, but not UTF-8 or not an event's JSON
        log.info("stripe_webhook_unreadable")
        return None
    payload = event.to_dict()
    if not isinstance(payload.get("id"), str) or not isinstance(payload.get("type"), str):
        return None
    return payload


def event_object(event: Mapping[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    return dict(obj) if isinstance(obj, Mapping) else {}


def ref_id(value: Any) -> str:
    """An id field that may be expanded into its object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def our_metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    """The metadata we set, wherever this object type carries it."""
    places = [obj.get("metadata")]
    details = obj.get("subscription_details")  # invoices, older API versions
    parent = obj.get("parent")  # invoices, API versions from 2025
    if isinstance(parent, Mapping):
        details = parent.get("subscription_details") or details
    if isinstance(details, Mapping):
        places.append(details.get("metadata"))
    found: dict[str, str] = {}
    for place in places:
        if isinstance(place, Mapping):
            for key in ("tenant_id", "payment_id"):
                value = place.get(key)
                if isinstance(value, str) and value.isdigit() and key not in found:
                    found[key] = value
    return found


async def tenant_of(obj: Mapping[str, Any]) -> int | None:
    """The tenant an event's object belongs to, or None when it is not one of ours."""
    customer = ref_id(obj.get("customer"))
    if customer:
        tenant = await records.tenant_of_customer(customer[:255])
        if tenant is not None:
            return tenant
    named = our_metadata(obj).get("tenant_id", "")
    if not named or len(named) > 18:
        return None
    exists = await Tenant.exists().where(Tenant.id == int(named))
    return int(named) if exists else None


async def receive(body: bytes, signature: str) -> tuple[int, str]:
    """The answer to one webhook request: (status, text)."""
    config = stripe_config()
    if not config.webhook_secret:
        return 404, "not found"
    event = verified_event(body, signature, config.webhook_secret)
    if event is None:
        log.info("stripe_webhook_unverified")
        return 400, "signature check failed"
    if event["type"] not in HANDLED:
        return 200, "ignored"
    tenant = await tenant_of(event_object(event))
    if tenant is None:
        log.warning("stripe_webhook_not_ours", event_id=event["id"][:64], type=event["type"])
        return 200, "not ours"
    with tenant_context(tenant):
        await record_inbound(SOURCE, event["id"][:255], event)
    return 200, "ok"


@post(
    "/hooks/stripe",
    opt=WEBHOOK,
    request_max_body_size=MAX_BODY_BYTES,
    include_in_schema=False,
    status_code=200,
)
async def stripe_webhook(request: Request) -> Response:
    """Stripe's events for the platform's account: verify, store, answer."""
    try:
        body = await request.body()
    except Exception as exc:  # a cut connection, a body over the cap
        status = getattr(exc, "status_code", 400)
        return Response("request body refused", status_code=status if status in (400, 413) else 400)
    try:
        status, text = await receive(body, request.headers.get("stripe-signature", ""))
    except Exception:  # the database: nothing half-done, Stripe retries
        log.error("stripe_webhook_error", exc_info=True)
        status, text = 503, "try again later"
    return Response(text, status_code=status, media_type="text/plain")
