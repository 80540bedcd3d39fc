"""Reads and writes of the plugin's tables; the unique indexes decide "once"."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalchat.context import cross_tenant
from loyalchat.plugins.stripe.tables import StripeCheckout, StripeCustomer
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update, unscoped


async def customer_id() -> str:
    """The current tenant's Stripe customer id, or ""."""
    row = await scoped_select(StripeCustomer, StripeCustomer.customer_id).first()
    return row["customer_id"] if row else ""


async def keep_customer(customer: str) -> str:
    """Keep ``customer`` as the current tenant's; the one kept first wins a race."""
    row = new_row(StripeCustomer, customer_id=customer[:255])
    await scoped_insert(StripeCustomer, row).on_conflict(action="DO NOTHING")
    return await customer_id()


async def remember_checkout(payment_id: int, session_id: str, customer: str) -> None:
    """The Checkout Session made for ``payment_id`` (a retried start finds the same one)."""
    row = new_row(StripeCheckout, payment_id=payment_id, session_id=session_id[:255])
    await scoped_insert(StripeCheckout, row).on_conflict(action="DO NOTHING")


async def checkout_for_payment(payment_id: int) -> dict | None:
    """The current tenant's checkout row for ``payment_id`` (None: unknown or another's)."""
    return (
        await scoped_select(StripeCheckout).where(StripeCheckout.payment_id == payment_id).first()
    )


async def checkout_for_subscription(subscription_id: str) -> dict | None:
    return (
        await scoped_select(StripeCheckout)
        .where(StripeCheckout.subscription_id == subscription_id)
        .order_by(StripeCheckout.id, ascending=False)
        .first()
    )


async def running_subscription() -> str:
    """The current tenant's latest Stripe subscription id (it may have ended since), or ""."""
    row = (
        await scoped_select(StripeCheckout, StripeCheckout.subscription_id)
        .where(StripeCheckout.subscription_id != "")
        .order_by(StripeCheckout.updated_at, ascending=False)
        .first()
    )
    return row["subscription_id"] if row else ""


async def link_subscription(payment_id: int, subscription_id: str) -> None:
    await scoped_update(
        StripeCheckout,
        {
            StripeCheckout.subscription_id: subscription_id[:255],
            StripeCheckout.updated_at: datetime.now(UTC),
        },
    ).where(StripeCheckout.payment_id == payment_id)


async def tenant_of_customer(customer: str) -> int | None:
    """CROSS-TENANT: the tenant whose Stripe customer ``customer`` is (webhook routing)."""
    with cross_tenant("stripe webhook: the tenant of a Stripe customer"):
        table = unscoped(StripeCustomer)
        row = await table.select(table.tenant).where(table.customer_id == customer).first()
    return row["tenant"] if row else None
