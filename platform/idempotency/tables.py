"""Stored first responses for ``Idempotency-Key`` requests to the JSON API."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class IdempotentRequest(Table, tablename="idempotent_request"):
    """Unique per (tenant, credential, key). ``status_code`` 0: the first request still runs.

    ``credential`` is who sent it (``api_key:<id>`` or ``staff:<id>``): a stored response
    is replayed only to the credential that made it, never to another key of the tenant.
    """

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    credential = Varchar(length=64, default="")
    key = Varchar(length=255)
    fingerprint = Varchar(length=64)  # sha256 of method, path and body
    status_code = Integer(default=0)
    response_body = Text(default="")
    content_type = Varchar(length=100, default="application/json")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
