"""The staff console: home, tenant switcher and the audit log."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.tenants import audit
from loyalchat.tenants.access import ANY_STATUS, NO_WRITES
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.tables import Role

# Areas of the console that are on their way, each shown as a card with an empty state
# (members, rewards, rules, coupons and the dashboard are live: see the quick links).
UPCOMING_AREAS = (
    ("receipts", N_("Receipts"), N_("No receipts to review. Photos customers send appear here.")),
    ("channels", N_("Chat channels"), N_("No chat channel connected yet: WhatsApp or WeChat.")),
    ("broadcasts", N_("Broadcasts"), N_("No broadcasts sent. Send news and offers to members.")),
)


class ConsoleController(Controller):
    path = "/console"
    include_in_schema = False

    # Every status reaches home: a shop not yet approved sees its application status there
    # (the status banner comes from base.html, on every console page).
    @get("/", guards=[role_required(Role.cashier)], opt=ANY_STATUS)
    async def home(self, request: Request) -> Template:
        principal = principal_of(request)
        tenant = principal.tenant
        assert tenant is not None and principal.role is not None
        return Template(
            "console/home.html",
            context={
                "areas": UPCOMING_AREAS,
                "can_manage": principal.has_role(Role.manager),
            },
        )

    # Choosing another shop changes no shop's data: open whatever the status.
    @post(
        "/switch",
        guards=[role_required(Role.cashier)],
        opt={**ANY_STATUS, **NO_WRITES},
        status_code=303,
    )
    async def switch(self, request: Request) -> Redirect:
        form = await ui.form_data(request)
        try:
            tenant_id = int(form.get("tenant_id", ""))
        except ValueError:
            raise NotFoundException() from None
        principal = principal_of(request)
        chosen = next((m for m in principal.memberships if m.tenant_id == tenant_id), None)
        if chosen is None:
            raise NotFoundException()
        request.session["tid"] = chosen.tenant_id
        ui.flash(
            request, N_("You are now working in %(shop)s."), "success", shop=chosen.display_name
        )
        return Redirect("/console", status_code=303)

    @get("/audit", guards=[role_required(Role.manager)])
    async def audit_log(self, request: Request) -> Template:
        entries: list[dict[str, Any]] = await audit.recent(limit=100)
        return Template("console/audit.html", context={"entries": entries})
