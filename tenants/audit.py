"""The audit log: who did what to which row, with before and after."""

from __future__ import annotations

from typing import Any

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


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        key: (val if isinstance(val, (str, int, float, bool, type(None))) else str(val))
        for key, val in value.items()
    }
