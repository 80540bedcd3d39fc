"""Members of a tenant's programme, their chat identities, and the per-tenant number counter.

``points`` and ``stored_value`` on :class:`Member` are caches of the ledgers' sums, written
only by ``loyalchat.ledger.service`` in the same transaction as the entry they reflect.
"""

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
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class MemberStatus(enum.StrEnum):
    active = "active"
    merged = "merged"  # folded into another member; kept for history and old links


class Member(Table, tablename="member"):
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    member_no = Varchar(length=32)  # unique per tenant, e.g. "M000123"
    seq = Integer()  # the counter value the number was made from
    name = Varchar(length=200, default="")
    phone = Varchar(length=20, default="")  # E.164, "" when unknown
    email = Varchar(length=254, default="")
    birthday = Date(null=True, default=None)
    notes = Text(default="")
    tags = JSON(default="[]")
    marketing_opt_in = Boolean(default=False)
    locale = Varchar(length=10, default="")  # "" = the tenant's
    verified = Boolean(default=False, index=True)  # a name and a contact are on file
    status = Varchar(length=16, default=MemberStatus.active.value, index=True)
    merged_into = ForeignKey(references="self", null=True, on_delete=OnDelete.set_null)
    points = Integer(default=0)
    stored_value = Numeric(digits=(14, 2), default=Decimal("0"))
    # Wallet links carry the version they were signed with; bumping it revokes them all.
    link_version = Integer(default=0)
    search_text = Text(default="")  # name, phone digits, email, number: for trigram search
    joined_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    # The request that created it (unique per tenant): a retry enrols no second member.
    idempotency_key = Varchar(length=200, null=True, default=None)


class MemberIdentity(Table, tablename="member_identity"):
    """How a member is known on a channel: unique per (tenant, channel, external_id).

    WhatsApp members may hold two: the business-scoped user id and the phone number.
    """

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, null=False, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=32)
    external_id = Varchar(length=128)
    created_at = Timestamptz(default=TimestamptzNow())


class MemberCounter(Table, tablename="member_counter"):
    """The next member number of a tenant; bumped by one conditional UPDATE per new member."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, unique=True)
    last_seq = Integer(default=0)
    number_format = Varchar(length=32, default="M{seq:06d}")
