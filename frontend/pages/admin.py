"""The platform-admin area: every tenant by status, and the platform's health."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from loyalchat.context import cross_tenant
from loyalchat.frontend.i18n import N_
from loyalchat.frontend.ui import STATUS_LABELS
from loyalchat.tenants.auth import platform_admin_required
from loyalchat.tenants.service import list_tenants
from loyalchat.tenants.tables import TenantStatus


def health_items(request: Request) -> list[tuple[str, str, str]]:
    """(label, value, level) rows from whatever the app knows; absent values are skipped."""
    state = request.app.state
    items: list[tuple[str, str, str]] = []
    settings = getattr(state, "settings", None)
    if settings is not None:
        try:
            items.append((N_("Database"), settings.database_kind, "ok"))
        except ValueError:
            items.append((N_("Database"), "?", "error"))
        items.append(
            (N_("Redis"), N_("configured") if settings.redis_url else N_("not used"), "ok")
        )
    broker = getattr(state, "broker_kind", None)
    if broker:
        items.append((N_("Task queue"), str(broker), "ok"))
    depth = getattr(state, "queue_depth", None)
    if depth is not None:
        items.append((N_("Queue depth"), str(depth), "warn" if int(depth) > 100 else "ok"))
    plugins = getattr(state, "plugins", None)
    if plugins is not None and hasattr(plugins, "list_name_plugin"):
        names = sorted(name for name, _ in plugins.list_name_plugin() if not name.isdigit())
        items.append((N_("Plugins"), str(len(names)), "ok"))
    return items


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt={"platform_admin": True})
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
            context={
                "tenants": tenants,
                "per_status": per_status,
                "max_count": max([row["count"] for row in per_status] + [1]),
                "health": health_items(request),
            },
        )

    @get("/platform-status", opt={"platform_admin": True})
    async def health_panel(self, request: Request) -> Template:
        """The health panel alone (htmx refreshes it)."""
        return Template("admin/_health.html", context={"health": health_items(request)})
