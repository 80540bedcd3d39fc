"""The platform-admin area: every tenant by status, and the platform's health."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.bounds import PathId
from loyalchat.context import cross_tenant, tenant_context
from loyalchat.extensions import plugin_info
from loyalchat.frontend import ui
from loyalchat.frontend.pages.admin.applications import platform_figures
from loyalchat.frontend.pages.common import audit_rows
from loyalchat.frontend.pages.common.display import base_context
from loyalchat.frontend.ui import STATUS_LABELS
from loyalchat.i18n import N_
from loyalchat.tenants import accounts, plugin_access
from loyalchat.tenants.auth import platform_admin_required
from loyalchat.tenants.service import (
    StatusConflict,
    TenantInfo,
    get_tenant,
    list_tenants,
    set_status,
)
from loyalchat.tenants.tables import TenantStatus

PLATFORM = {"platform_admin": True}
# Status changes an admin may make here: to -> allowed from. Approvals belong to onboarding.
TRANSITIONS = {
    TenantStatus.suspended: {TenantStatus.active},
    TenantStatus.active: {TenantStatus.suspended},
}
BAD_TRANSITION = N_(
    "Only an active shop can be suspended, and only a suspended shop can be reactivated."
)
REASON_REQUIRED = N_("Say why the shop is suspended: the shop's staff and the audit log see it.")
MAX_REASON = 500


async def health_items(request: Request) -> list[tuple[str, str, str]]:
    """(label, value, level) rows: services, queue and inbound figures of the last 24 h."""
    from loyalchat.inbox.service import platform_counts
    from loyalchat.tasks.health import queue_figures

    state = request.app.state
    items: list[tuple[str, str, str]] = []
    settings = getattr(state, "settings", None)
    if settings is not None:
        items.append((N_("Database"), settings.database_kind, "ok"))
        items.append(
            (N_("Redis"), N_("configured") if settings.redis_url else N_("not used"), "ok")
        )
    broker = getattr(state, "broker_kind", None)
    if broker:
        items.append((N_("Task queue"), str(broker), "ok"))
        try:
            figures = await queue_figures()
        except Exception:
            items.append((N_("Queue depth"), "?", "error"))
        else:
            items.append(
                (N_("Queue depth"), str(figures.waiting), "warn" if figures.waiting > 100 else "ok")
            )
            items.append((N_("Dead letters"), str(figures.dead), "error" if figures.dead else "ok"))
    with cross_tenant("platform admin health: inbound events of every tenant"):
        counts = await platform_counts(datetime.now(UTC) - timedelta(hours=24))
    received = sum(counts.values())
    failed = counts.get("failed", 0)
    waiting = counts.get("received", 0) + counts.get("processing", 0)
    items.append((N_("Inbound events (24 h)"), str(received), "ok"))
    items.append((N_("Waiting to be processed"), str(waiting), "warn" if waiting > 100 else "ok"))
    items.append((N_("Failed (24 h)"), str(failed), "error" if failed else "ok"))
    plugins = getattr(state, "plugins", None)
    if plugins is not None and hasattr(plugins, "list_name_plugin"):
        names = sorted(name for name, _ in plugins.list_name_plugin() if not name.isdigit())
        items.append((N_("Plugins"), str(len(names)), "ok"))
    return items


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt=PLATFORM)
    async def dashboard(self, request: Request) -> Template:
        with cross_tenant("platform admin dashboard: every tenant by status"):
            tenants = await list_tenants()
        counts = Counter(tenant.status for tenant in tenants)
        per_status: list[dict[str, Any]] = [
            {
                "status": status.value,
                "label": STATUS_LABELS[status.value],
                "count": counts[status.value],
            }
            for status in TenantStatus
        ]
        return Template(
            "admin/home.html",
            context=base_context(
                request,
                tenants=tenants,
                per_status=per_status,
                max_count=max([row["count"] for row in per_status] + [1]),
                health=await health_items(request),
                figures=await platform_figures(request),
            ),
        )

    @get("/platform-status", opt=PLATFORM)
    async def health_panel(self, request: Request) -> Template:
        """The health panel alone (htmx refreshes it)."""
        return Template("admin/_health.html", context={"health": await health_items(request)})

    @get("/tenants/{tenant_id:int}", opt=PLATFORM)
    async def tenant_detail(self, request: Request, tenant_id: PathId) -> Template:
        return await _tenant_page(request, await _tenant_or_404(tenant_id))

    @post("/tenants/{tenant_id:int}/status", opt=PLATFORM, status_code=303)
    async def change_status(self, request: Request, tenant_id: PathId) -> Response[Any]:
        """Suspend (a reason is required) or reactivate a shop."""
        tenant = await _tenant_or_404(tenant_id)
        form = await ui.form_data(request)
        try:
            target = TenantStatus(form.get("status", ""))
        except ValueError:
            raise ClientException(status_code=HTTP_400_BAD_REQUEST) from None
        allowed_from = TRANSITIONS.get(target, set())
        if tenant.status not in {status.value for status in allowed_from}:
            raise ClientException(BAD_TRANSITION, status_code=HTTP_409_CONFLICT)
        reason = " ".join(form.get("reason", "").split())[:MAX_REASON]
        if target is TenantStatus.suspended and not reason:
            error = i18n.gettext(request, REASON_REQUIRED)
            return await _tenant_page(
                request, tenant, errors={"reason": error}, status_code=HTTP_400_BAD_REQUEST
            )
        try:
            with cross_tenant("platform admin: tenant status"):
                await set_status(tenant.id, target, reason, only_from=allowed_from)
        except StatusConflict:  # another admin changed it between our read and write
            raise ClientException(BAD_TRANSITION, status_code=HTTP_409_CONFLICT) from None
        message = (
            N_("%(shop)s is suspended.")
            if target is TenantStatus.suspended
            else N_("%(shop)s is active again.")
        )
        ui.flash(request, message, "success", shop=tenant.display_name)
        next_url = ui.safe_next(form.get("next"), f"/admin/tenants/{tenant.id}")
        return Redirect(next_url, status_code=303)


async def _tenant_or_404(tenant_id: int) -> TenantInfo:
    tenant = await get_tenant(tenant_id)
    if tenant is None:
        raise NotFoundException()
    return tenant


async def _tenant_page(
    request: Request,
    tenant: TenantInfo,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """One shop for the platform admin: staff, the plugins it uses (offered and turned on,
    defaults included, by title in the admin's language), its latest changes as sentences
    (sign-ins left out, as in the shop's own audit log)."""
    pm, locale = request.app.state.plugins, i18n.locale_of(request)
    with cross_tenant("platform admin: one tenant's staff, plugins and audit log"):
        with tenant_context(tenant.id):
            staff = await accounts.staff_of_current_tenant()
            plugins = [
                plugin_info.describe(pm, name, locale)
                for name in sorted(await plugin_access.enabled_plugins(pm))
            ]
            entries, _older = await audit_rows.audit_rows(None, None, locale, pm=pm)
    return Template(
        "admin/tenant.html",
        context=base_context(
            request,
            tenant=tenant,
            staff=staff,
            plugins=plugins,
            entries=entries,
            errors=errors or {},
        ),
        status_code=status_code,
    )
