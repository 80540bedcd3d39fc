"""What a provider event does to a payment, the subscription and the tenant.

Runs inside :func:`loyalchat.billing.payments.apply_payment_update`'s transaction, after
the event's (provider, event_id) row went in, as the payment's tenant. Each move is one
conditional UPDATE, so two different events about one payment (Stripe's checkout
completion and its first invoice) still activate the plan once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from loyalchat.billing.tables import Payment, PaymentRowStatus, Subscription, SubscriptionStatus
from loyalchat.billing.trial import start_trial_clock
from loyalchat.billing.values import _amount, _moment
from loyalchat.extensions.payments import PaymentStatus, PaymentUpdate
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update
from loyalchat.settings import get_settings
from loyalchat.tenants.service import StatusConflict, get_tenant, set_status
from loyalchat.tenants.tables import AuditLog, TenantStatus

NONPAYMENT_REASON = "payment overdue"
PAID_AGAIN_REASON = "payment received"
PERIOD = timedelta(days=30)
REPLACED = "replaced by a later choice"  # a pending choice cancelled by another (choose.py)
# A subscription in one of these runs on its plan (paid, or in its trial).
RUNNING = frozenset({SubscriptionStatus.active.value, SubscriptionStatus.trialing.value})
P = PaymentRowStatus


@dataclass(frozen=True, slots=True)
class Effects:
    """What an event changed (for the mails sent after the transaction)."""

    paid: dict[str, Any] | None = None
    failed: dict[str, Any] | None = None
    grace_until: datetime | None = None
    reactivated: bool = False


def grace_period() -> timedelta:
    return timedelta(days=get_settings().billing_grace_days)


async def apply(
    provider: str,
    update: PaymentUpdate,
    payment: dict[str, Any] | None,
    sub: dict[str, Any] | None,
) -> Effects:
    """A pending payment succeeds or fails; an update about a payment already decided (or
    about the subscription alone) is about the running subscription: a renewal invoice,
    a failed renewal, the plan cancelled."""
    now = datetime.now(UTC)
    if str(update.raw.get("event_type", "")).endswith(".payment_failed"):
        # The invoice failed, whatever state the subscription reports yet.
        update = replace(update, status=PaymentStatus.failed)
    if update.status is PaymentStatus.cancelled:
        return await _cancelled(payment, sub, now)
    if payment is not None and _replaced(payment):
        # The merchant chose again, then paid the earlier choice after all (a checkout
        # left open in a tab): the money counts. Nothing else about it changes anything.
        if update.status is PaymentStatus.succeeded:
            return await _succeeded(payment, update, now)
        return Effects()
    if payment is not None and payment["status"] == P.pending.value:
        if update.status is PaymentStatus.succeeded:
            return await _succeeded(payment, update, now)
        if update.status is PaymentStatus.failed:
            return await _failed(payment, update, now)
        return Effects()
    sub = sub or await scoped_select(Subscription).first()
    if sub is None or update.status not in (PaymentStatus.succeeded, PaymentStatus.failed):
        return Effects()
    invoice = await _invoice(provider, update, sub, payment)
    if update.status is PaymentStatus.succeeded:
        return await _renewed(sub, update, invoice, now)
    until = await start_grace(now, during_trial=True)  # e.g. a trial's end went unpaid
    return Effects(failed=invoice, grace_until=until) if invoice else Effects(grace_until=until)


def _running_status(update: PaymentUpdate) -> str:
    """``trialing`` while the provider reports the subscription in its trial, else active."""
    if update.raw.get("subscription_status") == "trialing":
        return SubscriptionStatus.trialing.value
    return SubscriptionStatus.active.value


def _trial_waiting(sub: dict[str, Any], payment: dict[str, Any]) -> bool:
    """The subscription is in a trial of the payment's plan whose days have not started
    (they start at the shop's approval, see :mod:`loyalchat.billing.trial`)."""
    return (
        sub["status"] == SubscriptionStatus.trialing.value
        and sub["current_period_end"] is None
        and sub["plan"] == payment["plan"]
    )


def _replaced(payment: dict[str, Any]) -> bool:
    return payment["status"] == P.cancelled.value and payment["failure_reason"] == REPLACED


def raw_value(update: PaymentUpdate, *names: str) -> Any:
    """The first of ``names`` the provider put in ``update.raw`` (providers name things
    their own way: ``subscription_id`` / ``subscription_ref``, ``current_period_end`` /
    ``period_end``...)."""
    for name in names:
        value = update.raw.get(name)
        if value not in (None, ""):
            return value
    return None


def _amount_of(update: PaymentUpdate, fallback: Decimal) -> Decimal:

    cents = update.raw.get("amount_paid")
    if isinstance(cents, int) and not isinstance(cents, bool):
        return _amount(Decimal(cents) / 100, fallback)
    return _amount(update.raw.get("amount"), fallback)


async def _invoice(
    provider: str, update: PaymentUpdate, sub: dict[str, Any], first: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A payment row for an invoice the provider raised by itself (a monthly renewal), in
    the update's status; None when the update names no invoice or it is recorded."""
    from loyalchat.billing.plans import get_plan

    ref = str(raw_value(update, "invoice_id", "invoice_ref") or "")[:200]
    if not ref or (first is not None and first["provider_ref"] == ref):
        return None
    if (
        await scoped_select(Payment, Payment.id)
        .where((Payment.provider == provider) & (Payment.provider_ref == ref))
        .first()
    ):
        return None
    plan = await get_plan(sub["plan"]) if sub["plan"] else None
    price = plan.monthly_price if plan else Decimal("0")
    currency = str(update.raw.get("currency") or (plan.currency if plan else "HKD"))
    succeeded = update.status is PaymentStatus.succeeded
    now = datetime.now(UTC)
    row = new_row(
        Payment,
        plan=sub["plan"],
        provider=provider,
        provider_ref=ref,
        amount=_amount_of(update, price),
        currency=currency[:3].upper(),
        status=P.succeeded.value if succeeded else P.failed.value,
        invoice_url=str(update.raw.get("invoice_url") or ""),
        decided_by=provider,
        decided_at=now,
    )
    return (await scoped_insert(Payment, row).returning(*Payment.all_columns()))[0]


async def _renewed(
    sub: dict[str, Any], update: PaymentUpdate, invoice: dict[str, Any] | None, now: datetime
) -> Effects:
    """The running subscription is paid: active, its period extended to what the provider
    says (never shortened), the grace period over, a tenant suspended for it reactivated."""

    end = _moment(raw_value(update, "current_period_end", "period_end"))
    current = sub["current_period_end"]
    if end is None and invoice is not None:
        end = max(current or now, now) + PERIOD
    values: dict[Any, Any] = {
        Subscription.status: _running_status(update),
        Subscription.grace_until: None,
        Subscription.updated_at: now,
    }
    if end is not None and (current is None or end > current):
        values[Subscription.current_period_end] = end
        start = _moment(raw_value(update, "current_period_start", "period_start"))
        values[Subscription.current_period_start] = start or current or now
    ref = raw_value(update, "subscription_id", "subscription_ref")
    if ref:
        values[Subscription.provider_ref] = str(ref)[:200]
    await scoped_update(Subscription, values).where(Subscription.id == sub["id"])
    if invoice is not None:
        await scoped_update(
            Payment, {Payment.period_start: current or now, Payment.period_end: end}
        ).where(Payment.id == invoice["id"])
    reactivated = await reactivate_if_suspended_for_nonpayment(sub["tenant"])
    return Effects(paid=invoice, reactivated=reactivated)


async def _succeeded(payment: dict[str, Any], update: PaymentUpdate, now: datetime) -> Effects:

    values: dict[Any, Any] = {
        Payment.status: P.succeeded.value,
        Payment.decided_at: now,
        Payment.decided_by: str(update.raw.get("actor") or payment["provider"])[:254],
        Payment.invoice_url: str(update.raw.get("invoice_url") or payment["invoice_url"]),
        Payment.failure_reason: "",
        Payment.updated_at: now,
    }
    if update.raw.get("subscription_status") == "trialing":
        values[Payment.amount] = Decimal("0")  # the trial: nothing was charged
    moved = (
        await scoped_update(Payment, values)
        .where((Payment.id == payment["id"]) & (Payment.status != P.succeeded.value))
        .returning(*Payment.all_columns())
    )
    if not moved:
        return Effects()
    sub = await scoped_select(Subscription).first()
    if sub is None:
        await scoped_insert(Subscription, new_row(Subscription, provider=payment["provider"]))
        sub = await scoped_select(Subscription).first()
    if _trial_waiting(sub, payment):
        # Paid before the approval that starts the trial: the trial starts now, and the
        # paid month follows it (paying early never costs the trial).
        await start_trial_clock(payment["tenant"], now)
        sub = await scoped_select(Subscription).first()
    running = (
        sub["status"] in RUNNING
        and sub["plan"] == payment["plan"]
        and sub["current_period_end"] is not None
        and sub["current_period_end"] > now
    )
    # Paid while the same plan runs (its paid period or its trial): the new period follows.
    start = sub["current_period_end"] if running else now
    end = _moment(raw_value(update, "current_period_end", "period_end")) or start + PERIOD
    if end <= now:
        end = now + PERIOD
    status = _running_status(update)
    trial: dict[Any, Any] = {}
    if status == SubscriptionStatus.trialing.value:  # the provider runs the trial
        trial = {Subscription.trial_ends_at: end}
    await scoped_update(
        Subscription,
        {
            **trial,
            Subscription.plan: payment["plan"],
            Subscription.provider: payment["provider"],
            Subscription.provider_ref: str(
                raw_value(update, "subscription_id", "subscription_ref") or sub["provider_ref"]
            )[:200],
            Subscription.status: status,
            Subscription.current_period_start: start
            if not running
            else sub["current_period_start"],
            Subscription.current_period_end: end,
            Subscription.grace_until: None,
            Subscription.updated_at: now,
        },
    ).where(Subscription.id == sub["id"])
    await scoped_update(Payment, {Payment.period_start: start, Payment.period_end: end}).where(
        Payment.id == payment["id"]
    )
    reactivated = await reactivate_if_suspended_for_nonpayment(payment["tenant"])
    return Effects(paid=moved[0], reactivated=reactivated)


async def _failed(payment: dict[str, Any], update: PaymentUpdate, now: datetime) -> Effects:
    moved = (
        await scoped_update(
            Payment,
            {
                Payment.status: P.failed.value,
                Payment.decided_at: now,
                Payment.decided_by: str(update.raw.get("actor") or payment["provider"])[:254],
                Payment.failure_reason: str(update.raw.get("reason") or "")[:500],
                Payment.updated_at: now,
            },
        )
        .where((Payment.id == payment["id"]) & (Payment.status == P.pending.value))
        .returning(*Payment.all_columns())
    )
    if not moved:
        return Effects()
    # A refused payment during a trial leaves the trial running: the shop may pay again
    # until it ends (then the grace period starts, billing/grace.py).
    grace_until = await start_grace(now, during_trial=False)
    return Effects(failed=moved[0], grace_until=grace_until)


async def start_grace(
    now: datetime, base: datetime | None = None, *, during_trial: bool = True
) -> datetime | None:
    """An active subscription (and, ``during_trial``, a trialing one) becomes past due with
    a grace period (kept if one runs); the end of the grace period."""
    until = await begin_grace(now, base, during_trial=during_trial)
    if until is not None:
        return until
    sub = await scoped_select(Subscription, Subscription.grace_until).first()
    return sub["grace_until"] if sub else None


async def begin_grace(
    now: datetime, base: datetime | None = None, *, during_trial: bool = True
) -> datetime | None:
    """Move an active subscription (and, ``during_trial``, a trialing one) to past due,
    grace running from ``base`` (default: now); the end of the grace period when this call
    moved it, else None."""
    until = (base or now) + grace_period()
    moving = RUNNING if during_trial else {SubscriptionStatus.active.value}
    moved = (
        await scoped_update(
            Subscription,
            {
                Subscription.status: SubscriptionStatus.past_due.value,
                Subscription.grace_until: until,
                Subscription.updated_at: now,
            },
        )
        .where(Subscription.status.is_in(sorted(moving)))
        .returning(Subscription.grace_until)
    )
    return until if moved else None


async def _cancelled(
    payment: dict[str, Any] | None, sub: dict[str, Any] | None, now: datetime
) -> Effects:
    if payment is not None and payment["status"] == P.pending.value:
        await scoped_update(
            Payment, {Payment.status: P.cancelled.value, Payment.decided_at: now}
        ).where((Payment.id == payment["id"]) & (Payment.status == P.pending.value))
        return Effects()
    sub = sub or await scoped_select(Subscription).first()
    if sub is None or sub["status"] == SubscriptionStatus.cancelled.value:
        return Effects()
    # The service runs to the end of the paid period, then the tenant is suspended.
    until = sub["current_period_end"] or now
    await scoped_update(
        Subscription,
        {
            Subscription.status: SubscriptionStatus.cancelled.value,
            Subscription.grace_until: max(until, now),
            Subscription.updated_at: now,
        },
    ).where(Subscription.id == sub["id"])
    return Effects()


async def reactivate_if_suspended_for_nonpayment(tenant_id: int) -> bool:
    """A tenant whose latest status change was billing's suspension is active again; one
    an admin suspended (for any other reason) stays suspended."""
    tenant = await get_tenant(tenant_id)
    if tenant is None or tenant.status != TenantStatus.suspended.value:
        return False
    last = await (
        AuditLog.select(AuditLog.after)
        .where((AuditLog.tenant == tenant_id) & (AuditLog.action == "tenant.status"))
        .order_by(AuditLog.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    after = (last or {}).get("after") or {}
    if not isinstance(after, dict) or after.get("reason") != NONPAYMENT_REASON:
        return False
    try:
        await set_status(
            tenant_id, TenantStatus.active, PAID_AGAIN_REASON, only_from={TenantStatus.suspended}
        )
    except StatusConflict:
        return False
    return True
