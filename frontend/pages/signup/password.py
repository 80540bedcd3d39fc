"""Password reset by e-mail: /password/forgot sends a link, /password/reset uses it.

The forgot page answers the same whether or not the address has an account, and the mail
goes out after the answer (a background task), so neither the words nor the time tell.
A link works for an hour and only while the password is the one it was made for.

A new password ends every session the person had opened (on any device: sessions hold
the stamp of the password they began with, :mod:`loyalchat.tenants.sessions`), and the
one that set it too: the page sends them to /login to sign in with the new password.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from loyalchat import i18n, security
from loyalchat.context import Actor, reset_actor, set_actor
from loyalchat.frontend import ui
from loyalchat.frontend.pages.signup import common
from loyalchat.i18n import N_
from loyalchat.tenants import account_tokens, accounts, audit, sessions
from loyalchat.tenants.signup import MAX_PASSWORD

TokenParam = Annotated[str, QueryParameter(name="token", max_length=1000)]
ENTER_EMAIL = N_("Enter your e-mail address.")
NO_MATCH = N_("The two passwords differ. Type the same password twice.")


async def _mail_reset_link(email: str, locale: str) -> None:
    """Mail a reset link if ``email`` has an active account (nothing otherwise)."""
    user = await accounts.get_user_by_email(email)
    if user is None or not user.is_active:
        return
    fingerprint = await accounts.password_fingerprint(user.id)
    if fingerprint is None:
        return
    token = account_tokens.make(account_tokens.PASSWORD_RESET, {"u": user.id, "f": fingerprint})
    await common.try_send(
        user.email,
        "password_reset",
        {
            "email": user.email,
            "link": f"/password/reset?token={token}",
            "minutes": account_tokens.MAX_AGE[account_tokens.PASSWORD_RESET] // 60,
        },
        locale=user.locale or locale,
    )


def _reset_target(token: str | None) -> tuple[int, str] | None:
    payload = account_tokens.read(account_tokens.PASSWORD_RESET, token)
    if not payload:
        return None
    user_id, fingerprint = payload.get("u"), payload.get("f")
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    if not 0 < user_id < 2**31:
        return None
    return user_id, fingerprint


async def _usable(token: str | None) -> tuple[int, str] | None:
    """(user id, fingerprint) of a link that can still set a password, else None."""
    target = _reset_target(token)
    if target is None:
        return None
    current = await accounts.password_fingerprint(target[0])
    if current is None or current != target[1]:
        return None  # used already (the password changed) or the account is gone
    return target


async def _audit_reset(user: accounts.StaffInfo, ip: str) -> None:
    """One audit row per shop the person works in (the shop's log shows it) or a platform one."""
    tenants = [m.tenant_id for m in await accounts.memberships(user.id)] or [None]
    token = set_actor(Actor("staff", user.id, user.email))
    try:
        for tenant_id in tenants:
            await audit.record(
                "staff.password_reset", f"staff:{user.id}", tenant_id=tenant_id, ip=ip
            )
    finally:
        reset_actor(token)


def _reset_page(
    token: str, errors: dict[str, str] | None = None, status_code: int = 200
) -> Template:
    return Template(
        "signup/reset.html",
        context={"token": token, "errors": errors or {}},
        status_code=status_code,
        headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
    )


class PasswordController(Controller):
    path = "/password"
    include_in_schema = False

    @get("/forgot", opt=common.PUBLIC)
    async def forgot_form(self, request: Request) -> Template:
        return Template("signup/forgot.html", context={"email": "", "errors": {}})

    @post("/forgot", opt=common.PUBLIC, status_code=200)
    async def forgot(self, request: Request) -> Response[Any]:
        data = await ui.form_data(request)
        email = data.get("email", "").strip()[:320]
        try:
            email = accounts.normalise_email(email)
        except accounts.AccountError:
            return Template(
                "signup/forgot.html",
                context={"email": email, "errors": {"email": i18n.gettext(request, ENTER_EMAIL)}},
                status_code=HTTP_400_BAD_REQUEST,
            )
        admission = await common.account_throttle(request).admit(
            "forgot", f"email:{email}", ip=ui.client_ip(request)
        )
        if not admission.allowed:
            return Template(
                "signup/forgot.html",
                context={"email": email, "errors": {"form": common.too_many(request, admission)}},
                status_code=HTTP_429_TOO_MANY_REQUESTS,
                headers={"retry-after": str(admission.retry_after)},
            )
        return Template(
            "signup/forgot_sent.html",
            context={"email": email},
            background=BackgroundTask(_mail_reset_link, email, i18n.locale_of(request)),
        )

    @get("/reset", opt=common.PUBLIC)
    async def reset_form(self, request: Request, token: TokenParam = "") -> Template:
        if await _usable(token) is None:
            return Template("signup/link_invalid.html", context={"kind": "reset"}, status_code=400)
        return _reset_page(token)

    @post("/reset", opt=common.PUBLIC, status_code=303)
    async def reset(self, request: Request) -> Response[Any]:
        data = await ui.form_data(request)
        token = data.get("token", "")[:1000]
        password, again = data.get("password", ""), data.get("password_confirm", "")
        admission = await common.account_throttle(request).admit(
            "reset", f"ip:{ui.client_ip(request)}"
        )
        if not admission.allowed:
            return _reset_page(token, {"form": common.too_many(request, admission)}, 429)
        target = await _usable(token)
        if target is None:
            return Template("signup/link_invalid.html", context={"kind": "reset"}, status_code=400)
        errors: dict[str, str] = {}
        if len(password) > MAX_PASSWORD:
            errors["password"] = i18n.gettext(request, N_("Use at most 1,024 characters."))
        elif security.password_problem(password):
            errors["password"] = i18n.gettext(request, N_("Use at least 10 characters."))
        elif password != again:
            errors["password_confirm"] = i18n.gettext(request, NO_MATCH)
        if errors:
            return _reset_page(token, errors, HTTP_400_BAD_REQUEST)
        if not await accounts.reset_password(target[0], target[1], password):
            return Template("signup/link_invalid.html", context={"kind": "reset"}, status_code=400)
        if request.session.get(sessions.USER_KEY) == target[0]:
            sessions.sign_out(request.session)  # this one ends too: sign in with the new one
        user = await accounts.get_user(target[0])
        if user is not None:
            await accounts.mark_email_verified(user.id, user.email)  # the mailbox answered
            await _audit_reset(user, ui.client_ip(request))
        ui.flash(request, N_("Your password was changed. Sign in with the new one."), "success")
        return Redirect("/login", status_code=303)
