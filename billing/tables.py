"""Billing tables: plans (platform-wide), subscriptions, payments, usage, provider events.

Money is ``Numeric`` (Python ``Decimal``), never float. Unique indexes that decide "once"
live in the migrations: one subscription per tenant, one usage row per (tenant, month,
metric), one provider event per (provider, event id), one payment per (provider, ref).
"""

from __future__ import annotations

import enum
from decimal import Decimal

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class SubscriptionStatus(enum.StrEnum):
    pending = "pending"  # chosen, first payment not made yet
    trialing = "trialing"  # the plan's trial: the service runs, the first payment is due at its end
    active = "active"
    past_due = "past_due"  # a payment failed or the period ran out: grace period running
    cancelled = "cancelled"


class PaymentRowStatus(enum.StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class Plan(Table, tablename="billing_plan"):
    """PLATFORM TABLE: what a merchant may subscribe to; edited by platform admins."""

    code = Varchar(length=40, unique=True)
    name = Varchar(length=120)
    monthly_price = Numeric(digits=(12, 2), default=Decimal("0"))
    currency = Varchar(length=3, default="HKD")
    # {"members": int|None, "receipts_per_month": ..., "channels": ..., "staff_seats": ...,
    #  "broadcasts_per_month": ...}; None (or absent) = unlimited
    limits = JSON(default="{}")
    trial_days = Integer(default=0)
    stripe_price_id = Varchar(length=120, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Subscription(Table, tablename="billing_subscription"):
    """A tenant's plan: one row per tenant; the plan changes when a payment for another
    plan succeeds."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    plan = ForeignKey(references=Plan, null=True, on_delete=OnDelete.set_null)
    provider = Varchar(length=40, default="")
    provider_ref = Varchar(length=200, default="", index=True)  # e.g. a Stripe subscription id
    status = Varchar(length=16, default=SubscriptionStatus.pending.value, index=True)
    current_period_start = Timestamptz(null=True, default=None)
    current_period_end = Timestamptz(null=True, default=None)
    grace_until = Timestamptz(null=True, default=None)
    # When the trial ends (or ended): set when it starts, kept after (a shop has one trial).
    trial_ends_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Payment(Table, tablename="billing_payment"):
    """One payment (or invoice) of a tenant for a plan, through one provider."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    plan = ForeignKey(references=Plan, null=True, on_delete=OnDelete.set_null)
    provider = Varchar(length=40)
    provider_ref = Varchar(length=200, default="")
    amount = Numeric(digits=(12, 2), default=Decimal("0"))
    currency = Varchar(length=3, default="HKD")
    status = Varchar(length=16, default=PaymentRowStatus.pending.value, index=True)
    instructions = Text(default="")
    redirect_url = Text(default="")
    invoice_url = Text(default="")
    # Manual transfers: what the merchant typed and the slip they uploaded.
    reference = Varchar(length=100, default="")
    slip_key = Varchar(length=64, default="")  # the file as uploaded (media store key)
    slip_preview_key = Varchar(length=64, default="")  # its first page as a clean PNG
    slip_content_type = Varchar(length=64, default="")
    slip_filename = Varchar(length=200, default="")
    slip_uploaded_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=254, default="")
    decided_at = Timestamptz(null=True, default=None)
    period_start = Timestamptz(null=True, default=None)
    period_end = Timestamptz(null=True, default=None)
    failure_reason = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class PaymentEvent(Table, tablename="billing_payment_event"):
    """PLATFORM TABLE: each provider event applied once, unique (provider, event_id)."""

    provider = Varchar(length=40)
    event_id = Varchar(length=255)
    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.cascade, index=True)
    payment = ForeignKey(references=Payment, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=16, default="")
    raw = JSON(default="{}")
    received_at = Timestamptz(default=TimestamptzNow())


class UsageCounter(Table, tablename="billing_usage"):
    """What a tenant used in one month (``period`` = "YYYY-MM"), per metric, and when the
    near-limit / limit mails went out (once per month per metric)."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    period = Varchar(length=7)
    metric = Varchar(length=40)
    count = Integer(default=0)
    near_notified_at = Timestamptz(null=True, default=None)
    reached_notified_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
