"""Manual transfers (bank transfer, FPS): the merchant's slip, the admin's decision.

The decision goes through :func:`loyalchat.billing.payments.apply_payment_update` like any
provider's event, with the event id ``confirm:<payment id>`` (or ``reject:``), so two
admins clicking at once make one decision.
"""

from __future__ import annotations

from datetime import UTC, datetime

from loyalchat.billing.payments import (
    MANUAL,
    PaymentInfo,
    apply_payment_update,
    as_tenant,
    payment_info,
)
from loyalchat.billing.tables import Payment, PaymentRowStatus
from loyalchat.bounds import is_storable
from loyalchat.context import Actor, cross_tenant, reset_actor, set_actor, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.extensions.payments import PaymentStatus, PaymentUpdate
from loyalchat.i18n import N_
from loyalchat.scoping import scoped_update
from loyalchat.tenants import audit


async def confirm_manual_payment(payment_id: int, *, actor: Actor) -> bool:
    """A platform admin confirms a manual transfer: the payment succeeds (once: a second
    confirmation, also at the same moment, returns False and changes nothing)."""
    return await _decide_manual(payment_id, actor, PaymentStatus.succeeded, "confirm")


async def reject_manual_payment(payment_id: int, *, actor: Actor, reason: str = "") -> bool:
    """A platform admin finds no such transfer: the payment fails (the merchant may pay
    again); once, like :func:`confirm_manual_payment`."""
    return await _decide_manual(payment_id, actor, PaymentStatus.failed, "reject", reason)


async def _decide_manual(
    payment_id: int, actor: Actor, status: PaymentStatus, verb: str, reason: str = ""
) -> bool:
    with cross_tenant("platform admin: a manual payment"):
        row = await (
            Payment.select()
            .where((Payment.id == payment_id) & (Payment.provider == MANUAL))
            .first()
        )
    if row is None:
        raise NotFound(N_("No such payment."))
    if row["status"] != PaymentRowStatus.pending.value:
        raise Conflict(N_("This payment was already decided."), code="payment_decided")
    token = set_actor(actor)
    try:
        update = PaymentUpdate(
            provider_ref=row["provider_ref"],
            status=status,
            event_id=f"{verb}:{payment_id}",
            raw={"payment_id": str(payment_id), "actor": actor.label, "reason": reason[:300]},
        )
        applied = await apply_payment_update(MANUAL, update)
        if applied:
            with tenant_context(row["tenant"]):
                await audit.record(
                    f"payment.{verb}",
                    f"payment:{payment_id}",
                    before={"status": row["status"]},
                    after={
                        "status": status.value,
                        "amount": str(row["amount"]),
                        "reference": row["reference"],
                        "reason": reason[:300],
                    },
                )
    finally:
        reset_actor(token)
    return applied


async def attach_slip(
    tenant_id: int,
    payment_id: int,
    *,
    reference: str,
    slip_key: str,
    preview_key: str,
    content_type: str,
    filename: str,
) -> PaymentInfo:
    """The merchant's transfer slip and the reference they typed, on a pending manual
    payment of theirs (a new slip replaces the last one until an admin decides)."""
    reference = " ".join(reference.split())[:100]
    if not reference or not is_storable(reference):
        raise DomainError(N_("Type the reference of your transfer."), code="reference_required")
    with as_tenant(tenant_id):
        rows = (
            await scoped_update(
                Payment,
                {
                    Payment.reference: reference,
                    Payment.slip_key: slip_key,
                    Payment.slip_preview_key: preview_key,
                    Payment.slip_content_type: content_type[:64],
                    Payment.slip_filename: filename[:200],
                    Payment.slip_uploaded_at: datetime.now(UTC),
                    Payment.updated_at: datetime.now(UTC),
                },
            )
            .where(
                (Payment.id == payment_id)
                & (Payment.provider == MANUAL)
                & (Payment.status == PaymentRowStatus.pending.value)
            )
            .returning(*Payment.all_columns())
        )
        if not rows:
            raise NotFound(N_("No payment waiting for a slip."))
        await audit.record(
            "payment.slip_uploaded",
            f"payment:{payment_id}",
            after={
                "reference": reference,
                "content_type": content_type,
                "filename": filename[:200],
            },
        )
    return payment_info(rows[0])


async def pending_manual_payments(limit: int = 200) -> list[PaymentInfo]:
    """CROSS-TENANT (platform admin): manual payments waiting for a decision, slips first,
    oldest first."""
    with cross_tenant("platform admin: manual payments of every tenant"):
        rows = await (
            Payment.select()
            .where(
                (Payment.provider == MANUAL) & (Payment.status == PaymentRowStatus.pending.value)
            )
            .order_by(Payment.slip_uploaded_at)
            .order_by(Payment.id)
            .limit(limit)
        )
    with_slip = [row for row in rows if row["slip_key"]]
    without = [row for row in rows if not row["slip_key"]]
    return [payment_info(row) for row in with_slip + without]


async def manual_payment(payment_id: int) -> PaymentInfo:
    """CROSS-TENANT (platform admin): one manual payment of any tenant."""
    with cross_tenant("platform admin: one manual payment"):
        row = await (
            Payment.select()
            .where((Payment.id == payment_id) & (Payment.provider == MANUAL))
            .first()
        )
    if row is None:
        raise NotFound(N_("No such payment."))
    return payment_info(row)
