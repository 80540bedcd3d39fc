"""Reading grants and turning rows into :class:`GrantOut` (with the type's description)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pluggy
import structlog

from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.rewards import Grant as TypeGrant
from loyalchat.extensions.rewards import GrantDisplay, get_reward_types
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.rewards import codes, text
from loyalchat.rewards.schemas import GrantOut
from loyalchat.rewards.tables import Grant, GrantStatus
from loyalchat.scoping import scoped_select

log = structlog.get_logger(__name__)

_OWN = (
    "id",
    "code",
    "status",
    "reward",
    "member",
    "points_cost",
    "idempotency_key",
    "data",
    "issued_at",
    "expires_at",
    "used_at",
    "used_by",
    "used_by_label",
    "voided_at",
    "void_reason",
    "tenant",
)


def _columns() -> list[Any]:
    return [
        *(getattr(Grant, name) for name in _OWN),
        Grant.reward.name.as_alias("reward_name"),
        Grant.reward.type.as_alias("reward_type"),
        Grant.reward.options.as_alias("reward_options"),
        Grant.member.locale.as_alias("member_locale"),
        Grant.tenant.locale.as_alias("tenant_locale"),
        Grant.tenant.timezone.as_alias("tenant_timezone"),
    ]


def select_grants():
    """A scoped select of grants with what :func:`to_out` needs from reward, member, tenant."""
    return scoped_select(Grant, *_columns()).output(load_json=True)


async def row_by_code(code: str) -> dict[str, Any]:
    """The grant with this code (as typed: any case, spaces, dashes); :class:`NotFound`."""
    normalized = codes.normalize(code)
    row = await select_grants().where(Grant.code == normalized).first() if normalized else None
    if row is None:
        raise NotFound("no grant with this code", code_typed=code)
    return row


async def row_by_id(grant_id: int) -> dict[str, Any]:
    row = await select_grants().where(Grant.id == grant_id).first()
    if row is None:
        raise NotFound("no such grant", grant_id=grant_id)
    return row


async def row_by_key(key: str) -> dict[str, Any] | None:
    return await select_grants().where(Grant.idempotency_key == key).first()


def type_grant(row: Mapping[str, Any]) -> TypeGrant:
    """The plugin's view of a grant row."""
    return TypeGrant(
        tenant_id=row["tenant"],
        grant_id=row["id"],
        reward_id=row["reward"],
        member_id=row["member"],
        options=dict(row.get("reward_options") or {}),
        code=row["code"],
        data=dict(row.get("data") or {}),
    )


def row_locale(row: Mapping[str, Any], locale: str | None) -> str:
    """The language to describe a grant in: asked for, else the member's, else the tenant's."""
    return text.normalize_locale(locale or row.get("member_locale") or row.get("tenant_locale"))


async def to_out(
    row: Mapping[str, Any],
    *,
    locale: str | None = None,
    replayed: bool = False,
    pm: pluggy.PluginManager | None = None,
) -> GrantOut:
    """A grant as callers see it, described and displayed by its reward type in the
    member's language. The registry is collected once per plugin manager."""
    lang = row_locale(row, locale)
    description = ""
    display = GrantDisplay(code=row["code"])  # no type installed: the code, no QR code
    rtype = get_reward_types(pm or current_plugin_manager()).get(row["reward_type"])
    if rtype is not None:
        try:
            grant = type_grant(row)
            description = await rtype.describe(grant, lang)
            display = await rtype.display(grant, lang)
        except Exception:
            # A broken plugin must not hide the member's grants; the name still shows.
            log.exception("reward_describe_failed", reward_type=row["reward_type"])
    return GrantOut(
        id=row["id"],
        code=row["code"],
        status=row["status"],
        reward_id=row["reward"],
        reward_name=dict(row.get("reward_name") or {}),
        reward_type=row["reward_type"],
        member_id=row["member"],
        points_cost=row["points_cost"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        used_by_label=row["used_by_label"],
        voided_at=row["voided_at"],
        void_reason=row["void_reason"],
        data=dict(row.get("data") or {}),
        description=description or text.pick(row.get("reward_name"), lang),
        qr_payload=codes.qr_payload(row["code"]),
        display=display,
        replayed=replayed,
    )


class GrantError(DomainError):
    status = 409


def not_usable(row: dict[str, Any]) -> GrantError:
    """Why a grant could not be marked used, in words a cashier can act on."""
    status = row["status"]
    if status == GrantStatus.used.value:
        label = row["used_by_label"] or row["used_by"] or "someone"
        when = _local(row["used_at"], row.get("tenant_timezone"))
        return GrantError(
            f"already used on {when} by {label}",
            code="already_used",
            used_at=row["used_at"].isoformat() if row["used_at"] else None,
            used_by_label=label,
        )
    if status == GrantStatus.void.value:
        return GrantError(
            "this grant was voided", code="grant_void", void_reason=row["void_reason"]
        )
    expires = row["expires_at"]
    when = _local(expires, row.get("tenant_timezone")) if expires else ""
    return GrantError(
        f"this grant expired on {when}" if when else "this grant has expired",
        code="grant_expired",
        expires_at=expires.isoformat() if expires else None,
    )


def _local(when: datetime | None, timezone: str | None) -> str:
    if when is None:
        return "an unknown date"
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")
