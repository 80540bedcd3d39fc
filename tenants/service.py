"""Tenants: create, read, change status. The only writer of the ``tenant`` table."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from loyalchat import events
from loyalchat.bounds import is_storable
from loyalchat.context import (
    Actor,
    cross_tenant,
    cross_tenant_reason,
    require_tenant,
    tenant_context,
)
from loyalchat.languages import LOCALES
from loyalchat.scoping import unscoped
from loyalchat.tenants import audit
from loyalchat.tenants.tables import Tenant, TenantStatus

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")


class TenantError(ValueError):
    """A tenant could not be created or changed; the message says why."""


@dataclass(frozen=True, slots=True)
class TenantInfo:
    id: int
    slug: str
    display_name: str
    legal_name: str
    status: str
    locale: str
    timezone: str
    currency: str

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.active.value


def _info(row: dict) -> TenantInfo:
    return TenantInfo(
        id=row["id"],
        slug=row["slug"],
        display_name=row["display_name"],
        legal_name=row["legal_name"],
        status=row["status"],
        locale=row["locale"],
        timezone=row["timezone"],
        currency=row["currency"],
    )


async def create_tenant(
    slug: str,
    display_name: str,
    *,
    legal_name: str = "",
    status: TenantStatus = TenantStatus.applying,
    locale: str = "zh-Hant",
    timezone: str = "Asia/Hong_Kong",
    currency: str = "HKD",
) -> TenantInfo:
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise TenantError("slug: 3-64 lower-case letters, digits or dashes")
    if locale not in LOCALES:
        raise TenantError(f"locale must be one of {', '.join(LOCALES)}")
    if not (is_storable(display_name) and is_storable(legal_name)):
        raise TenantError("names: no control characters")
    if await Tenant.exists().where(Tenant.slug == slug):
        raise TenantError(f"slug {slug!r} is taken")
    rows = await Tenant.insert(
        Tenant(
            slug=slug,
            display_name=display_name.strip() or slug,
            legal_name=legal_name,
            status=status.value,
            locale=locale,
            timezone=timezone,
            currency=currency.upper(),
        )
    ).returning(*Tenant.all_columns())
    tenant = _info(rows[0])
    await audit.record(
        "tenant.create", f"tenant:{tenant.id}", after={"slug": slug}, tenant_id=tenant.id
    )
    await events.emit("tenant_created", {"slug": slug, "status": status.value}, tenant_id=tenant.id)
    return tenant


async def get_tenant(tenant_id: int) -> TenantInfo | None:
    row = await Tenant.select().where(Tenant.id == tenant_id).first()
    return _info(row) if row else None


async def get_tenant_by_slug(slug: str) -> TenantInfo | None:
    row = await Tenant.select().where(Tenant.slug == slug.lower()).first()
    return _info(row) if row else None


async def current_tenant() -> TenantInfo:
    tenant = await get_tenant(require_tenant())
    if tenant is None:
        raise TenantError("current tenant no longer exists")
    return tenant


async def list_tenants(status: str | None = None) -> list[TenantInfo]:
    """CROSS-TENANT: every tenant; only inside ``cross_tenant()`` (platform-admin pages)."""
    if cross_tenant_reason() is None:
        raise PermissionError("list_tenants() is platform-admin work: wrap it in cross_tenant()")
    query = Tenant.select().order_by(Tenant.id)
    if status:
        query = query.where(Tenant.status == status)
    return [_info(row) for row in await query]


class StatusConflict(TenantError):
    """The tenant was not in a status this change may start from (or it changed meanwhile)."""


async def set_status(
    tenant_id: int,
    status: TenantStatus,
    reason: str = "",
    *,
    only_from: set[TenantStatus] | None = None,
) -> TenantInfo:
    """Move a tenant to ``status`` (platform-admin work), audited with the reason.

    With ``only_from``, the change happens in one conditional UPDATE only while the tenant
    is in one of those statuses, so two admins acting at once cannot both apply it.
    """
    before = await get_tenant(tenant_id)
    if before is None:
        raise TenantError("no such tenant")
    condition = Tenant.id == tenant_id
    if only_from is not None:
        condition &= Tenant.status.is_in([s.value for s in only_from])
    changed = await (
        Tenant.update({Tenant.status: status.value, Tenant.updated_at: datetime.now(UTC)})
        .where(condition)
        .returning(Tenant.id)
    )
    if not changed:
        raise StatusConflict(f"tenant is {before.status}; cannot move it to {status.value}")
    await audit.record(
        "tenant.status",
        f"tenant:{tenant_id}",
        before={"status": before.status},
        after={"status": status.value, "reason": reason},
        tenant_id=tenant_id,
    )
    after = await get_tenant(tenant_id)
    assert after is not None
    await events.emit(
        "tenant_status_changed",
        {"slug": after.slug, "from": before.status, "to": status.value, "reason": reason},
        tenant_id=tenant_id,
    )
    return after


async def run_for_each_tenant(
    work: Callable[[], Awaitable[int]], *, reason: str, actor: Actor
) -> dict[int, int]:
    """Run ``work()`` once per active or suspended tenant, inside that tenant's context.

    For periodic system jobs (expiry...). Returns the non-zero results by tenant id.
    """
    statuses = [TenantStatus.active.value, TenantStatus.suspended.value]
    with cross_tenant(reason):
        rows = await unscoped(Tenant).select(Tenant.id).where(Tenant.status.is_in(statuses))
    results: dict[int, int] = {}
    for row in rows:
        with tenant_context(row["id"], actor):
            result = await work()
        if result:
            results[row["id"]] = result
    return results
