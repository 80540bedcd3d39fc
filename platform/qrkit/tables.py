"""The shop's branches: a short code a join QR carries and a name in three languages."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.tenants.tables import Tenant


class QrBranch(Table, tablename="qr_branch"):
    """One of a shop's stores; unique (tenant, code)."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=16)  # lower-case letters, digits, dashes: what follows '#' in a code
    name = JSON(default="{}")  # {"zh-Hant": ..., "zh-Hans": ..., "en": ...}
    created_at = Timestamptz(default=TimestamptzNow())
