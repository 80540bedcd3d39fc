"""Input and output types of the tenants JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from loyalchat.tenants.tables import Role


class TenantOut(msgspec.Struct):
    slug: str
    display_name: str
    status: str
    locale: str
    timezone: str
    currency: str


class MeOut(msgspec.Struct):
    tenant: TenantOut
    role: Role
    api_key: str


_CONTROL = "\\x00-\\x1f\\x7f-\\x9f"  # Cc; a lone surrogate (Cs) is not valid JSON text
_TEXT = f"[^{_CONTROL}]"
_SOLID = f"[^\\s{_CONTROL}]"


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    # apikeys.create_key() strips the name and needs 1-100 characters, none of them a
    # control character (bounds.is_storable: categories Cc and Cs).
    name: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=100,
            pattern=rf"^{_SOLID}(?:{_TEXT}*{_SOLID})?$",
            description="1-100 characters, no spaces at the ends, no control characters.",
        ),
    ]
    role: Role = Role.manager


class ApiKeyOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    role: str
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyIssued(msgspec.Struct):
    id: int
    name: str
    role: str
    key: str  # shown once


class StaffOut(msgspec.Struct):
    user_id: int
    email: str
    display_name: str
    role: str


class AuditOut(msgspec.Struct):
    id: int
    actor: str
    actor_label: str
    action: str
    target: str
    before: dict | None
    after: dict | None
    created_at: datetime


class PluginFieldOut(msgspec.Struct):
    """One declared setting; a secret's ``value`` is masked, never the secret itself."""

    name: str
    label: str
    required: bool
    secret: bool
    help: str
    value: str
    is_set: bool


class PluginOut(msgspec.Struct):
    plugin: str
    enabled: bool
    configured: bool
    missing: list[str]
    fields: list[PluginFieldOut]


class PluginUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``settings`` are saved first (an empty secret keeps the stored one), then ``enabled``."""

    enabled: bool | None = None
    settings: dict[str, Any] | None = None  # any JSON value per field
