"""The platform admin's plugin page: which installed plugins every shop is offered.

A plugin the platform withdraws disappears from every shop's plugin page and stops
working for every shop (its reward types cannot be created or redeemed, its OCR engine is
not chosen, its channel gets no webhooks); each shop's own choice and settings are kept
for when it is offered again. ``loyalchat.tenants.plugin_access`` decides and audits.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from loyalchat import i18n
from loyalchat.extensions import plugin_info
from loyalchat.extensions.plugin_info import FAMILY_LABELS
from loyalchat.extensions.tenant_plugins import get_tenant_plugins
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.tenants import plugin_access
from loyalchat.tenants.auth import platform_admin_required
from loyalchat.tenants.plugin_controllers import plugin_manager

PLATFORM = {"platform_admin": True}


class AdminPluginsController(Controller):
    path = "/admin/plugins"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt=PLATFORM)
    async def list_plugins(self, request: Request) -> Template:
        pm = plugin_manager(request)
        offered = await plugin_access.availability(pm)
        locale = i18n.locale_of(request)
        provides = plugin_info.provides(pm, locale)
        rows: list[dict[str, Any]] = [
            {
                "name": name,
                "text": plugin_info.describe(pm, name, locale),
                "available": offered[name],
                "default_on": plugin_access.default_enabled(name),
                "provides": provides.get(name, []),
                "settings": len(fields),
            }
            for name, fields in get_tenant_plugins(pm).items()
        ]
        return Template("admin/plugins.html", context={"plugins": rows, "labels": FAMILY_LABELS})

    @post("/{plugin:str}/available", opt=PLATFORM, status_code=303)
    async def set_available(self, request: Request, plugin: FromPath[str]) -> Response[Any]:
        """Offer the plugin to every shop (``available=1``) or withdraw it (``0``)."""
        pm = plugin_manager(request)
        if plugin not in get_tenant_plugins(pm):
            raise NotFoundException()
        form = await ui.form_data(request)
        available = form.get("available") == "1"
        await plugin_access.set_available(plugin, available, pm)
        message = (
            N_("%(plugin)s is offered to every shop.")
            if available
            else N_("%(plugin)s is withdrawn from every shop.")
        )
        title = plugin_info.describe(pm, plugin, i18n.locale_of(request)).title
        ui.flash(request, message, "success", plugin=title)
        return Redirect("/admin/plugins", status_code=303)
