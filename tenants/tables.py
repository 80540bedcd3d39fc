"""Tenants, staff accounts, roles, API keys, per-tenant plugin settings and the audit log.

Tenant-owned tables carry a non-null ``tenant`` foreign key, and their unique indexes
include it (created in the migrations, since Piccolo has no composite unique columns).
"""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TenantStatus(enum.StrEnum):
    applying = "applying"
    pending_review = "pending_review"
    active = "active"
    rejected = "rejected"
    suspended = "suspended"


class Role(enum.StrEnum):
    """Staff roles within one tenant, weakest first."""

    cashier = "cashier"
    manager = "manager"
    owner = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def covers(self, needed: Role) -> bool:
        return self.rank >= needed.rank


class Tenant(Table, tablename="tenant"):
    slug = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=200)
    legal_name = Varchar(length=200, default="")
    status = Varchar(length=20, default=TenantStatus.applying.value, index=True)
    locale = Varchar(length=10, default="zh-Hant")
    timezone = Varchar(length=64, default="Asia/Hong_Kong")
    currency = Varchar(length=3, default="HKD")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StaffUser(Table, tablename="staff_user"):
    """A person who signs in to the console; roles per tenant live in StaffRole."""

    email = Varchar(length=254, unique=True, index=True)  # stored lower-cased
    password_hash = Varchar(length=255)
    display_name = Varchar(length=200, default="")
    locale = Varchar(length=10, null=True, default=None)  # preference; None = browser's
    is_platform_admin = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    # When the person opened the link of the verification mail (None: not yet).
    email_verified_at = Timestamptz(null=True, default=None)


class StaffRole(Table, tablename="staff_role"):
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=StaffUser, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16, default=Role.cashier.value)
    created_at = Timestamptz(default=TimestamptzNow())


class StaffInvitation(Table, tablename="staff_invitation"):
    """An owner's invitation to work in the shop with a role, sent by e-mail.

    The mailed link is signed and carries ``nonce``; it works once (``accepted_at``) and
    not after ``revoked_at``. One pending invitation per (tenant, email): a unique index.
    """

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    email = Varchar(length=254)  # lower-cased
    role = Varchar(length=16, default=Role.cashier.value)
    nonce = Varchar(length=64)
    invited_by = ForeignKey(references=StaffUser, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = ForeignKey(references=StaffUser, null=True, on_delete=OnDelete.set_null)
    revoked_at = Timestamptz(null=True, default=None)


class ApiKey(Table, tablename="api_key"):
    """An integration key: shown once, stored as a SHA-256 hash, scoped to a tenant and role."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    prefix = Varchar(length=16, index=True)
    key_hash = Varchar(length=64)
    role = Varchar(length=16, default=Role.manager.value)
    created_by = ForeignKey(references=StaffUser, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    # The API request that created it (unique per tenant): a retry creates no second key.
    idempotency_key = Varchar(length=200, null=True, default=None)


class TenantPlugin(Table, tablename="tenant_plugin"):
    """Which plugins a tenant enabled, with settings; secret fields are Fernet-encrypted."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    plugin = Varchar(length=100)
    enabled = Boolean(default=False)
    config = JSON(default="{}")
    secrets = Text(default="")  # Fernet token of a JSON object; never sent back in full
    updated_at = Timestamptz(default=TimestamptzNow())


class PlatformPlugin(Table, tablename="platform_plugin"):
    """A platform admin's choice: is this installed plugin offered to every tenant?

    Not tenant-owned. No row: the default (``loyalchat.tenants.plugin_access``).
    """

    plugin = Varchar(length=100, unique=True)
    available = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class AuditLog(Table, tablename="audit_log"):
    """Who did what to which row, with before/after. ``tenant`` is null for platform actions."""

    tenant = ForeignKey(references=Tenant, null=True, on_delete=OnDelete.cascade, index=True)
    actor = Varchar(length=64)  # "staff:3", "api_key:7", "system"
    actor_label = Varchar(length=254, default="")
    action = Varchar(length=64, index=True)
    target = Varchar(length=128, default="")
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    ip = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
