"""What the Stripe plugin keeps: each tenant's Stripe customer and each Checkout Session.

Both are tenant-owned. The webhook route finds a tenant by its customer id across tenants
(``cross_tenant``); everything else reads them inside the tenant's context.
"""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class StripeCustomer(Table, tablename="stripe_customer"):
    """One Stripe customer per tenant, reused for every checkout and the portal."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, unique=True)
    customer_id = Varchar(length=255, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class StripeCheckout(Table, tablename="stripe_checkout"):
    """A Checkout Session made for one of our payments, and the subscription it started."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    payment_id = Integer(unique=True)  # billing's payment row: client_reference_id
    session_id = Varchar(length=255, unique=True)  # the provider_ref billing keeps
    subscription_id = Varchar(length=255, default="", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
