"""Payments: a tenant's payments and plan state, and what providers report, applied once.

Choosing a plan (one pending payment per shop) is :mod:`loyalchat.billing.choose`.

"Once" is decided by the database: a provider event is applied only if its
(provider, event_id) row could be inserted, in the same transaction as its effects, and a
payment moves from ``pending`` by one conditional UPDATE; so a replayed webhook or two
admins confirming at once make one payment and one activation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalchat import db
from loyalchat.billing import notify
from loyalchat.billing.plans import get_plan
from loyalchat.billing.scope import as_tenant
from loyalchat.billing.tables import (
    Payment,
    PaymentEvent,
    PaymentRowStatus,
    Subscription,
    SubscriptionStatus,
)
from loyalchat.billing.values import _int
from loyalchat.context import (
    cross_tenant,
    tenant_context,
)
from loyalchat.domain import NotFound
from loyalchat.extensions.payments import (
    PaymentProvider,
    PaymentUpdate,
    get_payment_providers,
)
from loyalchat.i18n import N_
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import scoped_select

log = logging.getLogger(__name__)

MANUAL = "manual"
IN_SERVICE = frozenset({"paid", "trialing"})  # payment states whose shop may run


@dataclass(frozen=True, slots=True)
class PaymentInfo:
    id: int
    tenant_id: int
    plan_id: int | None
    provider: str
    provider_ref: str
    amount: Decimal
    currency: str
    status: str
    instructions: str
    redirect_url: str
    invoice_url: str
    reference: str
    slip_key: str
    slip_preview_key: str
    slip_content_type: str
    slip_filename: str
    slip_uploaded_at: datetime | None
    decided_by: str
    decided_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    created_at: datetime
    failure_reason: str = ""


def payment_info(row: dict[str, Any]) -> PaymentInfo:
    return PaymentInfo(
        id=row["id"],
        tenant_id=row["tenant"],
        plan_id=row["plan"],
        provider=row["provider"],
        provider_ref=row["provider_ref"],
        amount=Decimal(row["amount"]).quantize(Decimal("0.01")),
        currency=row["currency"],
        status=row["status"],
        instructions=row["instructions"],
        redirect_url=row["redirect_url"],
        invoice_url=row["invoice_url"],
        reference=row["reference"],
        slip_key=row["slip_key"],
        slip_preview_key=row["slip_preview_key"],
        slip_content_type=row["slip_content_type"],
        slip_filename=row["slip_filename"],
        slip_uploaded_at=row["slip_uploaded_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        created_at=row["created_at"],
        failure_reason=row["failure_reason"],
    )


def providers() -> dict[str, PaymentProvider]:
    """The installed payment providers by name."""
    return dict(get_payment_providers(current_plugin_manager()))


async def subscription_row(tenant_id: int) -> dict[str, Any] | None:
    with as_tenant(tenant_id):
        return await scoped_select(Subscription).first()


async def payment_state(tenant_id: int) -> str:
    """ "none" | "pending" | "trialing" | "paid" | "past_due" | "cancelled": where the
    tenant's plan stands (the wizard and the admin's review read it). "trialing": the
    plan's trial runs (or starts at approval), the first payment is due at its end; like
    "paid", it lets the shop be approved (:data:`IN_SERVICE`)."""
    sub = await subscription_row(tenant_id)
    if sub is None:
        return "none"
    status = sub["status"]
    if status == SubscriptionStatus.active.value:
        return "paid"
    if status == SubscriptionStatus.trialing.value:
        return "trialing"
    if status in (SubscriptionStatus.past_due.value, SubscriptionStatus.cancelled.value):
        return status
    return "pending"


async def list_payments(tenant_id: int, limit: int = 50) -> list[PaymentInfo]:
    """The tenant's payments and invoices, newest first."""
    with as_tenant(tenant_id):
        rows = await scoped_select(Payment).order_by(Payment.id, ascending=False).limit(limit)
    return [payment_info(row) for row in rows]


async def get_payment(tenant_id: int, payment_id: int) -> PaymentInfo:
    with as_tenant(tenant_id):
        row = await scoped_select(Payment).where(Payment.id == payment_id).first()
    if row is None:
        raise NotFound(N_("No such payment."))
    return payment_info(row)


async def pending_payment(tenant_id: int) -> PaymentInfo | None:
    """The tenant's pending payment (one at most: see :mod:`loyalchat.billing.choose`)."""
    with as_tenant(tenant_id):
        row = (
            await scoped_select(Payment)
            .where(Payment.status == PaymentRowStatus.pending.value)
            .first()
        )
    return payment_info(row) if row else None


async def _find_payment(provider: str, update: PaymentUpdate) -> dict[str, Any] | None:
    """The payment an update is about: by provider reference, else the payment id the
    provider echoes (``raw["payment_id"]``)."""
    with cross_tenant("payment provider update: find the payment by its reference"):
        if update.provider_ref:
            row = await (
                Payment.select()
                .where(
                    (Payment.provider == provider) & (Payment.provider_ref == update.provider_ref)
                )
                .order_by(Payment.id, ascending=False)
                .first()
            )
            if row is not None:
                return row
        payment_id = _int(update.raw.get("payment_id"))
        if payment_id is not None:
            return await (
                Payment.select()
                .where((Payment.provider == provider) & (Payment.id == payment_id))
                .first()
            )
    return None


async def _find_subscription(provider: str, update: PaymentUpdate) -> dict[str, Any] | None:
    from loyalchat.billing.lifecycle import raw_value

    ref = str(raw_value(update, "subscription_id", "subscription_ref") or update.provider_ref or "")
    if not ref:
        return None
    with cross_tenant("payment provider update: find the subscription by its reference"):
        return await (
            Subscription.select()
            .where((Subscription.provider == provider) & (Subscription.provider_ref == ref))
            .first()
        )


async def apply_payment_update(provider: str, update: PaymentUpdate) -> bool:
    """Apply one provider event, once per (provider, event_id); False for a replay (or an
    update about nothing billing knows). ``update.raw`` may carry ``payment_id``,
    ``subscription_id``, ``invoice_id``, ``invoice_url``, ``amount`` (a decimal string)
    or ``amount_paid`` (cents), ``currency``, ``current_period_start`` /
    ``current_period_end`` (Unix seconds) and ``event_type``. A success activates the subscription on the payment's plan and
    reactivates a tenant suspended for non-payment; a failure starts the grace period."""
    from loyalchat.billing import lifecycle

    payment = await _find_payment(provider, update)
    sub = None if payment is not None else await _find_subscription(provider, update)
    tenant_id = payment["tenant"] if payment is not None else sub["tenant"] if sub else None
    if tenant_id is None:
        log.warning("%s update %s is about no known payment", provider, update.event_id)
        return False
    with tenant_context(tenant_id):
        try:
            async with db.write_transaction():
                await PaymentEvent.insert(
                    PaymentEvent(
                        provider=provider,
                        event_id=update.event_id[:255],
                        tenant=tenant_id,
                        payment=payment["id"] if payment else None,
                        status=update.status.value,
                        raw={k: str(v)[:500] for k, v in list(update.raw.items())[:50]},
                    )
                )
                effects = await lifecycle.apply(provider, update, payment, sub)
        except Exception as exc:
            if db.is_unique_violation(exc):
                return False
            raise
        await notify.after_payment(tenant_id, effects)
    return True


async def plan_of(tenant_id: int):
    """The plan the tenant has now (its subscription's), or None."""
    sub = await subscription_row(tenant_id)
    if sub is None or sub["plan"] is None:
        return None
    if sub["status"] == SubscriptionStatus.pending.value:
        return None
    return await get_plan(sub["plan"])
