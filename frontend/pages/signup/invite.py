"""Accepting a staff invitation (/signup/invite?token=...).

A new address sets its password here (the mail proved the mailbox: it counts as
verified); an existing account signs in as the invited address and accepts. The link
works once; a used, revoked, expired or forged one gets the same "no longer valid" page.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_403_FORBIDDEN

from loyalchat import i18n, security
from loyalchat.frontend import ui
from loyalchat.frontend.pages.signup import common
from loyalchat.i18n import N_
from loyalchat.tenants import accounts, invitations
from loyalchat.tenants.auth import principal_of
from loyalchat.tenants.signup import MAX_PASSWORD

TokenParam = Annotated[str, QueryParameter(name="token", max_length=1000)]


def _invalid() -> Template:
    return Template("signup/link_invalid.html", context={"kind": "invite"}, status_code=400)


def _page(
    request: Request,
    found: invitations.FoundInvitation,
    token: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    user = principal_of(request).user
    return Template(
        "signup/invite.html",
        context={
            "invitation": found,
            "token": token,
            "errors": errors or {},
            "signed_in_as": user.email if user else None,
            "login_url": "/login?next=" + quote(f"/signup/invite?token={token}", safe=""),
        },
        status_code=status_code,
        headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
    )


class InviteController(Controller):
    path = "/signup/invite"
    include_in_schema = False

    @get("/", opt=common.PUBLIC)
    async def show(self, request: Request, token: TokenParam = "") -> Template:
        found = await invitations.find(token)
        return _invalid() if found is None else _page(request, found, token)

    @post("/", opt=common.PUBLIC, status_code=303)
    async def accept(self, request: Request) -> Response[Any]:
        data = await ui.form_data(request)
        token = data.get("token", "")[:1000]
        found = await invitations.find(token)
        if found is None:
            return _invalid()
        if found.has_account:
            user = principal_of(request).user
            if user is None or user.email != found.email:
                return _page(request, found, token, status_code=HTTP_403_FORBIDDEN)
            if not await invitations.accept(found, user):
                return _invalid()
            request.session["tid"] = found.tenant_id
            ui.flash(request, N_("Welcome to %(shop)s."), "success", shop=found.shop_name)
            return Redirect("/console", status_code=303)

        admission = await common.account_throttle(request).admit(
            "invite_accept", f"ip:{ui.client_ip(request)}"
        )
        if not admission.allowed:
            errors = {"form": common.too_many(request, admission)}
            return _page(request, found, token, errors, 429)
        password, again = data.get("password", ""), data.get("password_confirm", "")
        errors = {}
        if len(password) > MAX_PASSWORD:
            errors["password"] = i18n.gettext(request, N_("Use at most 1,024 characters."))
        elif security.password_problem(password):
            errors["password"] = i18n.gettext(request, N_("Use at least 10 characters."))
        elif password != again:
            errors["password_confirm"] = i18n.gettext(
                request, N_("The two passwords differ. Type the same password twice.")
            )
        if errors:
            return _page(request, found, token, errors, HTTP_400_BAD_REQUEST)
        try:
            user = await accounts.create_staff_user(found.email, password)
        except accounts.AccountError:
            return _invalid()  # the address got an account meanwhile: reload, sign in
        await accounts.set_locale(user.id, i18n.locale_of(request))
        await accounts.mark_email_verified(user.id, user.email)
        if not await invitations.accept(found, user):
            return _invalid()
        await common.sign_in(request, user, found.tenant_id)
        ui.flash(request, N_("Welcome to %(shop)s."), "success", shop=found.shop_name)
        return Redirect("/console", status_code=303)
