"""Receipts sent by members, the keys that make a credit happen once, and each tenant's
receipt settings (its receipt profile and the thresholds of the checks).

A :class:`Receipt` row exists for every photo before anything reads it, so a lost queue
message or a killed worker only delays it (the sweeper sends it again). The points come
from one ledger entry keyed ``receipt:<id>``; :class:`ReceiptClaim` holds the keys of
every credited receipt (its image hash, its merchant + number + date + total) under a
unique index, so the same receipt sent twice at the same moment by two members is
credited once: the second insert fails, whatever the checks saw before.
"""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.conversations.tables import Conversation
from loyalchat.members.tables import Member
from loyalchat.tenants.tables import Tenant


class ReceiptStatus(enum.StrEnum):
    received = "received"  # stored, waiting for a worker
    reading = "reading"  # OCR running
    checking = "checking"  # checks running, or the credit being written
    credited = "credited"  # final: points given (ledger entry ``receipt:<id>``)
    rejected = "rejected"  # final: the member was told why
    needs_review = "needs_review"  # staff decide in the console
    awaiting_member = "awaiting_member"  # the bot asked the member to confirm the total

    @property
    def is_final(self) -> bool:
        return self in (ReceiptStatus.credited, ReceiptStatus.rejected)


# Rows a worker should be holding: the sweeper sends them again when they stop moving.
IN_FLIGHT = (ReceiptStatus.received, ReceiptStatus.reading, ReceiptStatus.checking)


class Receipt(Table, tablename="receipt"):
    """One photo of a receipt and what became of it. Unique (tenant, inbound_message):
    the same chat message processed twice makes one receipt."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, null=True, default=None, on_delete=OnDelete.set_null)
    conversation = ForeignKey(
        references=Conversation, null=True, default=None, on_delete=OnDelete.set_null
    )
    inbound_message = Integer(null=True, default=None)  # the chat message it came in
    channel = Varchar(length=32, default="")  # "whatsapp", "webchat"... "console" for staff
    branch = Varchar(length=32, default="")  # the store whose QR the member scanned
    media_key = Varchar(length=80)  # the photo in the tenant's media store
    sha256 = Varchar(length=64, default="")  # of the bytes as received
    phash = Varchar(length=80, default="")  # perceptual hash (receipts.fingerprint)
    status = Varchar(length=20, default=ReceiptStatus.received.value)
    # What was read: merchant, date, total... with confidences and OCR boxes (JSON).
    fields = JSON(default="{}")
    checks = JSON(default="[]")  # each check's answer: check, outcome, reason, detail, params
    reasons = JSON(default="[]")  # the reason codes behind the status, for filters and replies
    merchant = Varchar(length=200, default="")
    receipt_no = Varchar(length=64, default="")
    receipt_date = Date(null=True, default=None)
    total = Numeric(digits=(12, 2), null=True, default=None)  # as read
    total_confidence = Real(default=0.0)
    member_amount = Numeric(digits=(12, 2), null=True, default=None)  # typed by the member
    amount = Numeric(digits=(12, 2), null=True, default=None)  # the amount credited
    points = Integer(default=0)
    entry = Integer(null=True, default=None)  # the ledger entry of the credit
    attempts = Integer(default=0)  # times a worker started reading it
    ask_expires_at = Timestamptz(null=True, default=None)  # awaiting_member until then
    decided_by = Varchar(length=200, default="")  # "" = the pipeline; else the staff member
    decided_at = Timestamptz(null=True, default=None)
    note = Text(default="")  # staff's reason for a decision
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ReceiptClaim(Table, tablename="receipt_claim"):
    """A key a credited receipt holds (``sha:<sha256>``, ``key:<merchant|no|date|total>``);
    unique (tenant, key), written in the credit's transaction."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=255)
    receipt = ForeignKey(references=Receipt, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class ReceiptSettings(Table, tablename="receipt_settings"):
    """One row per tenant; absent means the defaults (no profile, 7 days, ask below 0.8)."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, unique=True)
    profile = JSON(default="{}")  # loyalchat.receipts.profile.profile_to_dict
    window_days = Integer(default=7)  # older receipts are refused
    review_limit = Numeric(digits=(12, 2), null=True, default=None)  # a total above: review
    confirm_below = Real(default=0.8)  # a total read less surely: ask the member
    ask_hours = Integer(default=12)  # no answer from the member by then: review
    review_hours = Integer(default=24)  # what members are promised for a review
    per_hour = Integer(default=3)  # receipts per member per hour before review
    per_day = Integer(default=6)  # ... and per day (the shop's time zone)
    updated_at = Timestamptz(default=TimestamptzNow())
