"""Choosing a plan: at most one pending payment per shop, whatever the clicks.

The database decides, not a check in Python: a partial unique index
(``billing_payment_one_pending``) lets a tenant hold one ``pending`` payment. Of two
clicks at once (a double click, two tabs, two web processes) one inserts the payment
and asks the provider to start it; the other finds that payment and answers with the
same start, once the provider's answer is written on it. Another plan (or way to pay)
replaces the pending choice, which is cancelled; a transfer slip waiting for an admin is
never thrown away: the merchant waits for the decision first (``payment_under_review``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalchat import db
from loyalchat.billing.lifecycle import REPLACED
from loyalchat.billing.payments import MANUAL, as_tenant, providers
from loyalchat.billing.plans import PlanInfo, get_plan_by_code
from loyalchat.billing.tables import Payment, PaymentRowStatus, Subscription
from loyalchat.billing.trial import start_trial, trial_open
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.payments import PaymentError, PaymentRequest, PaymentStart
from loyalchat.i18n import N_
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update
from loyalchat.settings import get_settings
from loyalchat.tenants import audit

log = logging.getLogger(__name__)

P = PaymentRowStatus
# A provider's page (Stripe Checkout) is offered again this long; a new one after.
REUSE_PENDING = timedelta(minutes=30)
# A payment still without the provider's answer after this: the request that claimed it
# stopped (a restart, a crash); it is replaced instead of waited for.
START_ABANDONED = timedelta(minutes=2)
WAIT_FOR_START_SECONDS = 20.0  # a second click waits this long for the first's answer
WAIT_STEP_SECONDS = 0.05
CLAIM_TRIES = 5

UNDER_REVIEW = N_(
    "We are checking the transfer slip you sent for your last choice. Once we have "
    "confirmed or declined it, you can choose another plan."
)
START_FAILED = N_("The payment could not be started; try again in a moment.")
STILL_STARTING = N_("Your payment is being prepared; open this page again in a moment.")


async def choose_plan(
    tenant_id: int, plan_code: str, provider: str, *, return_url: str | None = None
) -> PaymentStart:
    """Start paying for ``plan_code`` through ``provider``: a Subscription row (the first
    time), one pending Payment and ``provider.start()``. The plan changes when it is paid.

    A second call for the same plan and provider while that payment is pending answers
    with the same start (a provider's page is made anew after :data:`REUSE_PENDING`); a
    call for another plan or provider cancels the pending choice and starts its own.
    Raises :class:`DomainError` ``payment_under_review`` when the pending payment has a
    transfer slip waiting for an admin and another plan is asked for.

    A plan with trial days gets its trial once per shop (:mod:`loyalchat.billing.trial`):
    by transfer it starts here; a card provider is asked for it (``trial_days``)."""
    plan = await get_plan_by_code(plan_code)
    if not plan.active:
        raise NotFound(N_("No such plan."))
    found = providers().get(provider)
    if found is None:
        raise DomainError(N_("This payment method is not available."), code="no_provider")
    base = get_settings().public_base_url.rstrip("/")
    with as_tenant(tenant_id):
        await scoped_insert(
            Subscription, new_row(Subscription, plan=plan.id, provider=provider)
        ).on_conflict(action="DO NOTHING")
        payment, ours = await _claim(plan, provider)
        if not ours:
            return await _answer_of(payment)
        # One trial per shop: a shop that had one (or pays already) is offered none again.
        trial_days = plan.trial_days if trial_open(await scoped_select(Subscription).first()) else 0
        payment_id = payment["id"]
        request = PaymentRequest(
            payment_id=payment_id,
            tenant_id=tenant_id,
            amount=plan.monthly_price,
            currency=plan.currency,
            description=f"{plan.name} ({plan.code})",
            return_url=return_url or f"{base}/console/billing",
            metadata={
                "tenant_id": str(tenant_id),
                "plan": plan.code,
                "stripe_price_id": plan.stripe_price_id,
                "trial_days": str(trial_days),
            },
        )
        try:
            start = await found.start(request)
        except PaymentError as exc:
            await scoped_update(
                Payment,
                {Payment.status: P.cancelled.value, Payment.failure_reason: str(exc)[:500]},
            ).where((Payment.id == payment_id) & (Payment.status == P.pending.value))
            log.warning("payment %s could not start with %s: %s", payment_id, provider, exc)
            raise DomainError(START_FAILED, code="payment_start_failed") from None
        await scoped_update(
            Payment,
            {
                Payment.provider_ref: start.provider_ref[:200],
                Payment.redirect_url: start.redirect_url,
                Payment.instructions: start.instructions,
            },
        ).where(Payment.id == payment_id)
        await audit.record(
            "billing.plan_chosen",
            f"payment:{payment_id}",
            after={
                "plan": plan.code,
                "provider": provider,
                "amount": str(plan.monthly_price),
                "currency": plan.currency,
            },
        )
        if provider == MANUAL and trial_days:
            await start_trial(plan, provider)  # the service runs without waiting for the slip
    return start


def _same_choice(row: dict[str, Any], plan: PlanInfo, provider: str, now: datetime) -> bool:
    """Whether the pending ``row`` answers a choice of ``plan`` through ``provider``."""
    if row["plan"] != plan.id or row["provider"] != provider:
        return False
    if not row["provider_ref"]:  # its start is under way, unless it was abandoned
        return row["created_at"] > now - START_ABANDONED
    # A transfer's reference does not expire, nor does a slip sent; a provider's page does.
    return (
        bool(row["slip_key"]) or not row["redirect_url"] or row["created_at"] > now - REUSE_PENDING
    )


async def _claim(plan: PlanInfo, provider: str) -> tuple[dict[str, Any], bool]:
    """The current tenant's pending payment for this choice: (row, True) when this call
    inserted it (and must start it), (row, False) when another call's is reused."""
    for _ in range(CLAIM_TRIES):
        now = datetime.now(UTC)
        pending = await scoped_select(Payment).where(Payment.status == P.pending.value).first()
        if pending is not None:
            if _same_choice(pending, plan, provider, now):
                return pending, False
            if pending["slip_key"]:
                raise DomainError(UNDER_REVIEW, code="payment_under_review")
            await _replace(pending["id"], now)
        row = new_row(
            Payment,
            plan=plan.id,
            provider=provider,
            amount=plan.monthly_price,
            currency=plan.currency,
        )
        try:
            inserted = await scoped_insert(Payment, row).returning(*Payment.all_columns())
        except Exception as exc:
            if not db.is_unique_violation(exc):
                raise
            continue  # another call's payment went in first: look again
        return inserted[0], True
    raise DomainError(STILL_STARTING, code="payment_busy")


async def _replace(payment_id: int, now: datetime) -> None:
    """Cancel a pending choice the merchant changed their mind about (never one whose
    slip arrived meanwhile: the next look finds it and refuses)."""
    await scoped_update(
        Payment,
        {
            Payment.status: P.cancelled.value,
            Payment.failure_reason: REPLACED,
            Payment.decided_at: now,
            Payment.updated_at: now,
        },
    ).where(
        (Payment.id == payment_id) & (Payment.status == P.pending.value) & (Payment.slip_key == "")
    )


async def _answer_of(payment: dict[str, Any]) -> PaymentStart:
    """The start of a payment another call claimed: at once when the provider answered,
    else as soon as that call writes the answer (or gives up)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_START_SECONDS
    row: dict[str, Any] | None = payment
    while True:
        if row is None or row["status"] != P.pending.value:
            raise DomainError(START_FAILED, code="payment_start_failed")
        if row["provider_ref"]:
            return PaymentStart(row["provider_ref"], row["redirect_url"], row["instructions"])
        if loop.time() > deadline:
            raise DomainError(STILL_STARTING, code="payment_starting")
        await asyncio.sleep(WAIT_STEP_SECONDS)
        row = await scoped_select(Payment).where(Payment.id == payment["id"]).first()
