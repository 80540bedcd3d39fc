"""Earning rules and each tenant's points policy (expiry, daily cap)."""

from __future__ import annotations

import enum
from decimal import Decimal

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class RuleKind(enum.StrEnum):
    ratio = "ratio"  # points per currency unit spent
    threshold = "threshold"  # step_points for every step_amount spent
    campaign = "campaign"  # multiplies what the other rules give, on some dates/weekdays


class Rounding(enum.StrEnum):
    down = "down"
    half_up = "half_up"
    up = "up"


class EarningRule(Table, tablename="earning_rule"):
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    name = JSON(default="{}")  # {zh-Hant, zh-Hans, en} (loyalchat.rewards.text)
    kind = Varchar(length=16)
    active = Boolean(default=True)
    points_per_unit = Numeric(digits=(12, 4), default=Decimal("0"))  # ratio
    rounding = Varchar(length=16, default=Rounding.down.value)  # ratio
    step_amount = Numeric(digits=(14, 2), null=True, default=None)  # threshold
    step_points = Integer(default=0)  # threshold
    min_spend = Numeric(digits=(14, 2), null=True, default=None)
    per_receipt_cap = Integer(null=True, default=None)
    multiplier = Numeric(digits=(6, 2), default=Decimal("1"))  # campaign
    starts_on = Date(null=True, default=None)  # campaign (and any rule): first day
    ends_on = Date(null=True, default=None)  # last day, inclusive
    weekdays = JSON(default="[]")  # campaign: ISO weekdays 1-7; [] = every day
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ExpiryPolicy(enum.StrEnum):
    never = "never"
    rolling = "rolling"  # N months after earning
    yearly = "yearly"  # on a fixed day of the year after earning


class PointsPolicy(Table, tablename="points_policy"):
    """One row per tenant; absent means the defaults (never expire, no daily cap)."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, unique=True)
    expiry = Varchar(length=16, default=ExpiryPolicy.never.value)
    expiry_months = Integer(default=12)
    expiry_month = Integer(default=12)  # yearly: the day points earned before it expire
    expiry_day = Integer(default=31)
    daily_cap = Integer(null=True, default=None)  # points one member may earn per day
    updated_at = Timestamptz(default=TimestamptzNow())
