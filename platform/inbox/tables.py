"""The inbox: every inbound webhook event is a row before any queue message points at it."""

from __future__ import annotations

import enum

from piccolo.columns import JSON, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class InboundStatus(enum.StrEnum):
    received = "received"  # stored, a queue message may or may not exist yet
    processing = "processing"
    done = "done"  # final
    failed = "failed"  # final: attempts exhausted or no handler


FINAL_STATUSES = (InboundStatus.done.value, InboundStatus.failed.value)


class InboundEvent(Table, tablename="inbound_event"):
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    source = Varchar(length=64)  # channel or provider kind: "whatsapp", "stripe"...
    provider_key = Varchar(length=255)  # provider's message/event id; unique per tenant+source
    payload = JSON(default="{}")
    status = Varchar(length=16, default=InboundStatus.received.value, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")
    received_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)
    processed_at = Timestamptz(null=True, default=None)
