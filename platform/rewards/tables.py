"""The rewards catalogue and the grants members redeem points for."""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.members.tables import Member
from loyalchat.tenants.tables import Tenant


class Reward(Table, tablename="reward"):
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    name = JSON(default="{}")  # {"zh-Hant": ..., "zh-Hans": ..., "en": ...}
    description = JSON(default="{}")
    image = Varchar(length=255, default="")  # media key (sha256) or ""
    points_cost = Integer()
    type = Varchar(length=64)  # a registered reward type's kind: "coupon", "stored_value"
    options = JSON(default="{}")  # the type's option_fields
    stock = Integer(null=True, default=None)  # None = unlimited
    per_member_limit = Integer(null=True, default=None)
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)
    validity_days = Integer(null=True, default=None)  # of the issued grant; None = no expiry
    active = Boolean(default=True, index=True)
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # The request that created it (unique per tenant): a retry adds no second reward.
    idempotency_key = Varchar(length=200, null=True, default=None)


class GrantStatus(enum.StrEnum):
    issued = "issued"
    used = "used"
    expired = "expired"
    void = "void"


class Grant(Table, tablename="reward_grant"):
    """A redemption: points deducted and a reward issued, in one transaction."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    reward = ForeignKey(references=Reward, null=False, on_delete=OnDelete.restrict, index=True)
    member = ForeignKey(references=Member, null=False, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=32)  # unique per tenant
    status = Varchar(length=16, default=GrantStatus.issued.value, index=True)
    points_cost = Integer()
    idempotency_key = Varchar(length=200)  # unique per tenant: one grant per request
    data = JSON(default="{}")  # what the reward type's issue() returned
    issued_at = Timestamptz(default=TimestamptzNow(), index=True)
    expires_at = Timestamptz(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)
    used_by = Varchar(length=64, default="")  # actor ref
    used_by_label = Varchar(length=254, default="")
    voided_at = Timestamptz(null=True, default=None)
    void_reason = Text(default="")
