"""The audit log: who did what to which row, with before and after."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import Or, Where

from loyalchat.context import current_actor, current_tenant_id, require_tenant
from loyalchat.scoping import scoped_select
from loyalchat.tenants.tables import AuditLog


async def record(
    action: str,
    target: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    tenant_id: int | None = None,
    ip: str = "",
) -> None:
    """Append one audit row for the current actor (and tenant, unless given)."""
    actor = current_actor()
    await AuditLog.insert(
        AuditLog(
            tenant=tenant_id if tenant_id is not None else current_tenant_id(),
            actor=actor.ref,
            actor_label=actor.label[:254],
            action=action,
            target=target,
            before=_jsonable(before),
            after=_jsonable(after),
            ip=ip[:64],
        )
    )


async def recent(limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The current tenant's audit entries, newest first."""
    require_tenant()
    return await (
        scoped_select(AuditLog).order_by(AuditLog.id, ascending=False).limit(limit).offset(offset)
    )


SIGN_IN = "staff.login"
# What the console's audit filter offers: a kind -> the actions it holds (a trailing "."
# matches every action of that family). Sign-ins have their own view: they would flood
# the others.
KINDS: dict[str, tuple[str, ...]] = {
    "signin": (SIGN_IN,),
    "rewards": ("reward.", "grant."),
    "rules": ("rule.", "points_policy."),
    "members": ("member.",),
    "staff": ("staff.role", "staff.role_revoked", "api_key."),
    "plugins": ("plugin.",),
    "shop": ("tenant.", "receipt_settings."),
}


async def entries(
    kind: str | None = None, actor: str | None = None, *, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """The current tenant's audit entries, newest first, of one of :data:`KINDS` (None:
    everything but sign-ins) and by one ``actor`` ref (``"staff:3"``) if given.

    Raises ``KeyError`` for a kind that is not in :data:`KINDS`.
    """
    require_tenant()
    query = scoped_select(AuditLog)
    if kind is None:
        query = query.where(AuditLog.action != SIGN_IN)
    else:
        query = query.where(_any_action(KINDS[kind]))
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    return await query.order_by(AuditLog.id, ascending=False).limit(limit).offset(offset)


def _any_action(patterns: tuple[str, ...]) -> Where | Or:
    conditions = [
        AuditLog.action.like(f"{pattern}%") if pattern.endswith(".") else AuditLog.action == pattern
        for pattern in patterns
    ]
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined | condition
    return combined


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        key: (val if isinstance(val, (str, int, float, bool, type(None))) else str(val))
        for key, val in value.items()
    }
