"""The shop's people (/console/staff): who works here, invitations by e-mail, removal.

Owners only. An owner invites a manager or a cashier; the invitee gets a link that works
once (``tenants.invitations``). Owners cannot be removed here, nor can one remove oneself.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from loyalchat import i18n
from loyalchat.bounds import PathId
from loyalchat.frontend import ui
from loyalchat.frontend.pages.signup import common
from loyalchat.i18n import N_
from loyalchat.tenants import account_tokens, accounts, invitations
from loyalchat.tenants.auth import principal_of, role_required
from loyalchat.tenants.service import current_tenant
from loyalchat.tenants.tables import Role

OWNER = (role_required(Role.owner),)
STAFF = {"tenant_object": "staff"}
INVITATION = {"tenant_object": "staff_invitation"}
INVITE_PROBLEMS = {
    "email": N_("Enter a valid e-mail address, like name@example.com."),
    "role": N_("Choose manager or cashier."),
    "already_staff": N_("This person works in this shop already."),
}


async def _page(
    request: Request,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/staff/list.html",
        context={
            "staff": await accounts.staff_of_current_tenant(),
            "invitations": await invitations.pending(),
            "roles": invitations.INVITABLE,
            "form": form or {"email": "", "role": Role.cashier.value},
            "errors": errors or {},
            "current_user": principal_of(request).user,
        },
        status_code=status_code,
    )


class StaffController(Controller):
    path = "/console/staff"
    include_in_schema = False
    guards = OWNER

    @get("/")
    async def list_staff(self, request: Request) -> Template:
        return await _page(request)

    @post("/invite", status_code=303)
    async def invite(self, request: Request) -> Response[Any]:
        data = await ui.form_data(request)
        form = {"email": data.get("email", "").strip()[:320], "role": data.get("role", "")[:20]}
        principal = principal_of(request)
        assert principal.user is not None and principal.tenant is not None  # OWNER
        role = Role(form["role"]) if form["role"] in {r.value for r in Role} else None
        admission = await common.account_throttle(request).admit(
            "invite_send", f"tenant:{principal.tenant.id}"
        )
        if not admission.allowed:
            errors = {"form": common.too_many(request, admission)}
            return await _page(request, form, errors, HTTP_429_TOO_MANY_REQUESTS)
        try:
            if role is None:
                raise invitations.InvitationError("role")
            invitation, token = await invitations.invite(
                form["email"], role, invited_by=principal.user.id
            )
        except invitations.InvitationError as exc:
            field = "email" if exc.code in ("email", "already_staff") else "role"
            message = i18n.gettext(request, INVITE_PROBLEMS[exc.code])
            return await _page(request, form, {field: message}, HTTP_400_BAD_REQUEST)
        shop = await current_tenant()
        sent = await common.try_send(
            invitation.email,
            "staff_invite",
            {
                "shop": shop.display_name,
                "inviter": principal.user.display_name or principal.user.email,
                "role_label": ui.ROLE_LABELS[invitation.role.value],
                "link": f"/signup/invite?token={token}",
                "days": account_tokens.MAX_AGE[account_tokens.STAFF_INVITE] // 86400,
            },
            locale=shop.locale,
            tenant_id=shop.id,
        )
        if sent:
            ui.flash(
                request, N_("Invitation sent to %(email)s."), "success", email=invitation.email
            )
        else:
            ui.flash(request, common.MAIL_FAILED, "warning")
        return Redirect("/console/staff", status_code=303)

    @post("/{user_id:int}/remove", opt=STAFF, status_code=303)
    async def remove(self, request: Request, user_id: PathId) -> Redirect:
        principal = principal_of(request)
        role = next(
            (
                Role(row["role"])
                for row in await accounts.staff_of_current_tenant()
                if row["user_id"] == user_id
            ),
            None,
        )
        if role is None:
            raise NotFoundException()
        if role is Role.owner or (principal.user and principal.user.id == user_id):
            ui.flash(request, N_("Owners cannot be removed here."), "error")
            return Redirect("/console/staff", status_code=303)
        await accounts.revoke_role(user_id)
        ui.flash(request, N_("The person no longer works in this shop."), "success")
        return Redirect("/console/staff", status_code=303)

    @post("/invitations/{invitation_id:int}/revoke", opt=INVITATION, status_code=303)
    async def revoke(self, request: Request, invitation_id: PathId) -> Redirect:
        if not await invitations.revoke(invitation_id):
            raise NotFoundException()
        ui.flash(request, N_("The invitation was withdrawn. Its link no longer works."), "success")
        return Redirect("/console/staff", status_code=303)
