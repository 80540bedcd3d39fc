"""The staff console: home, tenant switcher and the audit log."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from loyalchat import i18n
from loyalchat.bounds import PageNumber
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import audit_rows as audit_page
from loyalchat.frontend.pages.common.display import base_context
from loyalchat.i18n import N_
from loyalchat.onboarding.checklist import checklist as onboarding_checklist
from loyalchat.receipts import queue as receipt_queue
from loyalchat.tenants.access import ANY_STATUS, NO_WRITES
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.plugin_controllers import plugin_manager
from loyalchat.tenants.tables import Role

# Areas of the console that are on their way, each shown as a card with an empty state
# (members, rewards, rules, coupons, receipts and the dashboard are live: see the quick links).
UPCOMING_AREAS = (
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
                # Receipts waiting for staff: only once the programme is open.
                "to_review": await receipt_queue.to_review() if principal.programme_open else 0,
                # The first steps after approval (onboarding/_checklist.html): setting up
                # is a manager's work, and a cashier could not open the pages it links.
                "checklist": await onboarding_checklist(plugin_manager(request))
                if principal.programme_open and principal.has_role(Role.manager)
                else [],
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
    async def audit_log(
        self,
        request: Request,
        kind: FromQuery[str] = "",
        person: FromQuery[str] = "",
        page: PageNumber = 1,
    ) -> Template:
        """The log as sentences; ``kind`` and ``person`` filter it (a value that is not a
        kind or an id is ignored); sign-ins have their own kind, out of the default view."""
        staff = await audit_page.staff_choices()
        chosen_kind = audit_page.parse_kind(kind)
        chosen_person = audit_page.parse_person(person)
        rows, has_more = await audit_page.audit_rows(
            chosen_kind,
            chosen_person,
            i18n.locale_of(request),
            page=page,
            pm=request.app.state.plugins,
        )
        return Template(
            "console/audit.html",
            context=base_context(
                request,
                rows=rows,
                kind=chosen_kind or "",
                person=chosen_person,
                staff=staff,
                kinds=audit_page.KIND_LABELS,
                page=page,
                has_more=has_more,
            ),
        )
