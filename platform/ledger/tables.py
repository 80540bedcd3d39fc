"""The points ledger (append-only), the lots earned points form, and the stored-value ledger.

Entries are never updated or deleted: a correction is a new entry. Every entry carries an
idempotency key unique per tenant (``receipt:<id>``, ``redeem:<grant id>``,
``adjust:<token>``, ``expire:<lot id>``...), enforced by a unique index.
"""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
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

from loyalchat.members.tables import Member
from loyalchat.tenants.tables import Tenant


class EntryKind(enum.StrEnum):
    earn = "earn"
    redeem = "redeem"
    adjust = "adjust"
    expire = "expire"
    reverse = "reverse"


class LedgerEntry(Table, tablename="ledger_entry"):
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)
    points = Integer()  # signed: + credits, - debits
    balance_after = Integer()
    idempotency_key = Varchar(length=200)
    actor = Varchar(length=64)  # "staff:3", "api_key:7", "system", "member:12"
    actor_label = Varchar(length=254, default="")
    reason = Text(default="")
    reference = Varchar(length=200, default="")  # "receipt:12", "grant:5", "purchase:POS-1"
    reverses = ForeignKey(references="self", null=True, on_delete=OnDelete.restrict)
    details = JSON(default="{}")  # e.g. the rule calculation of an earn
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class PointLot(Table, tablename="point_lot"):
    """Points earned together, spent oldest first, expiring together."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, null=False, on_delete=OnDelete.cascade, index=True)
    entry = ForeignKey(references=LedgerEntry, null=False, on_delete=OnDelete.cascade)
    points = Integer()
    remaining = Integer()
    earned_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None, index=True)
    expired_at = Timestamptz(null=True, default=None)


class LotDraw(Table, tablename="lot_draw"):
    """How many points a debit took from which lot, so a reversal can give them back."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    entry = ForeignKey(references=LedgerEntry, null=False, on_delete=OnDelete.cascade, index=True)
    lot = ForeignKey(references=PointLot, null=False, on_delete=OnDelete.cascade)
    points = Integer()


class ValueKind(enum.StrEnum):
    topup = "topup"  # staff took money at the till
    spend = "spend"  # the member paid with stored value
    grant = "grant"  # a stored_value reward credited it
    reverse = "reverse"


class StoredValueEntry(Table, tablename="stored_value_entry"):
    """Money held for a member (會員卡金額), in the tenant currency; never negative."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)
    amount = Numeric(digits=(14, 2))  # signed
    balance_after = Numeric(digits=(14, 2))
    idempotency_key = Varchar(length=200)
    actor = Varchar(length=64)
    actor_label = Varchar(length=254, default="")
    reason = Text(default="")
    reference = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
