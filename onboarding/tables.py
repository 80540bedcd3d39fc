"""A merchant's application to run on the platform, its documents and its history.

One :class:`Application` per tenant (unique tenant). Documents are never deleted: an
upload that replaces an earlier one of the same kind sets the earlier row's
``replaced_at``, so the reviewer and the history still see what was sent before.
"""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class Decision(enum.StrEnum):
    none = ""
    approved = "approved"
    rejected = "rejected"
    changes_requested = "changes_requested"


class DocumentKind(enum.StrEnum):
    business_registration = "business_registration"
    payment_slip = "payment_slip"
    receipt_sample = "receipt_sample"


class EventKind(enum.StrEnum):
    submitted = "submitted"
    resubmitted = "resubmitted"
    approved = "approved"
    rejected = "rejected"
    changes_requested = "changes_requested"
    document_uploaded = "document_uploaded"
    payment_confirmed = "payment_confirmed"


class Application(Table, tablename="application"):
    """The business details a merchant gives, and where the review stands."""

    tenant = ForeignKey(
        references=Tenant, null=False, unique=True, on_delete=OnDelete.cascade, index=True
    )
    legal_name_zh = Varchar(length=200, default="")
    legal_name_en = Varchar(length=200, default="")
    display_name_zh = Varchar(length=200, default="")
    display_name_en = Varchar(length=200, default="")
    region = Varchar(length=2, default="HK")  # "HK" | "CN"
    registration_number = Varchar(length=32, default="")  # normalised (validators)
    address = Text(default="")
    phone = Varchar(length=20, default="")  # E.164
    industry = Varchar(length=64, default="")
    timezone = Varchar(length=64, default="Asia/Hong_Kong")
    pos_system = Varchar(length=64, default="")
    channels = JSON(default="[]")  # channel kinds the merchant means to connect
    step = Integer(default=0)  # the last step completed
    submitted_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision = Varchar(length=20, default="")
    decision_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ApplicationDocument(Table, tablename="application_document"):
    """A file the merchant uploaded: the business registration, a payment slip, a sample."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=32)
    media_key = Varchar(length=80)  # platform/media/store key (sha256)
    filename = Varchar(length=255, default="")
    content_type = Varchar(length=64, default="")  # as sniffed, never as claimed
    size = Integer(default=0)
    pages = Integer(default=0)
    preview_key = Varchar(length=80, default="")  # PNG of the first page
    ocr_text = Text(default="")
    ocr_name = Varchar(length=200, default="")
    ocr_number = Varchar(length=32, default="")
    cross_check = JSON(default="{}")  # {"name": "match|mismatch|unread", "number": ...}
    created_at = Timestamptz(default=TimestamptzNow())
    replaced_at = Timestamptz(null=True, default=None)  # null: the current one


class ApplicationEvent(Table, tablename="application_event"):
    """The history of an application: submitted, rejected, resubmitted, approved..."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=32)
    actor = Varchar(length=254, default="")  # a label: "owner@shop.hk", "admin@...", "system"
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
