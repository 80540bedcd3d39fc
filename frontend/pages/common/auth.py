"""Sign in, sign out and the language switcher."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from loyalchat import i18n
from loyalchat.context import Actor, reset_actor, set_actor
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.tenants import accounts, audit, sessions
from loyalchat.tenants.auth import principal_of
from loyalchat.tenants.sessions import rotate
from loyalchat.tenants.throttle import LoginThrottle, make_throttle

LANG_COOKIE_MAX_AGE = 60 * 60 * 24 * 365
NextParam = Annotated[str, QueryParameter(name="next")]


def home_for(user: accounts.StaffInfo, memberships: list[accounts.Membership]) -> str:
    """Where a signed-in person lands: the console, or the admin area for a shop-less admin."""
    if not memberships and user.is_platform_admin:
        return "/admin"
    return "/console"


def _throttle(request: Request) -> LoginThrottle:
    state = request.app.state
    if getattr(state, "throttle", None) is None:
        state.throttle = make_throttle()
    return state.throttle


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_url: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        "common/login.html",
        context={"email": email, "next": next_url, "errors": errors or {}},
        status_code=status_code,
        headers=headers,
    )


class AuthController(Controller):
    include_in_schema = False

    @get("/", opt={"isolation": "public"})
    async def root(self, request: Request) -> Redirect:
        """The bare address: a signed-in person's home, everyone else the login page."""
        principal = principal_of(request)
        if principal.user is not None:
            return Redirect(home_for(principal.user, principal.memberships))
        return Redirect("/login")

    @get("/login")
    async def login_form(self, request: Request, next_url: NextParam = "") -> Response[Any]:
        principal = principal_of(request)
        if principal.user is not None:
            default = home_for(principal.user, principal.memberships)
            return Redirect(ui.safe_next(next_url, default))
        return _login_page(request, next_url=ui.safe_next(next_url, ""))

    @post("/login", status_code=200)
    async def login(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        email = form.get("email", "").strip()
        password = form.get("password", "")
        next_url = ui.safe_next(form.get("next"), "")
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = i18n.gettext(request, N_("Enter your e-mail address."))
        if not password:
            errors["password"] = i18n.gettext(request, N_("Enter your password."))
        if errors:
            return _login_page(
                request,
                email=email,
                next_url=next_url,
                errors=errors,
                status_code=HTTP_400_BAD_REQUEST,
            )

        # The attempt is counted before the password is checked (atomically), so concurrent
        # guesses cannot outrun the limit while argon2 is busy with earlier ones.
        throttle, ip = _throttle(request), ui.client_ip(request)
        admission = await throttle.admit(email, ip)
        if not admission.allowed:
            message = i18n.gettext(
                request,
                N_("Too many failed attempts. Try again later (in about %(minutes)s minutes)."),
                minutes=max(1, math.ceil(admission.retry_after / 60)),
            )
            return _login_page(
                request,
                email=email,
                next_url=next_url,
                errors={"form": message},
                status_code=HTTP_429_TOO_MANY_REQUESTS,
                headers={"retry-after": str(admission.retry_after)},
            )

        user = await accounts.check_password(email, password)
        if user is None:
            message = i18n.gettext(request, N_("Wrong e-mail address or password."))
            return _login_page(
                request,
                email=email,
                next_url=next_url,
                errors={"form": message},
                status_code=HTTP_400_BAD_REQUEST,
            )

        await throttle.succeeded(email, ip)
        memberships = await accounts.memberships(user.id)
        tenant_id = memberships[0].tenant_id if memberships else None
        # The stamp after check_password, which may have re-hashed the password just now.
        stamp = await accounts.session_stamp(user.id)
        sessions.sign_in(request.session, user.id, tenant_id, stamp or "")
        token = set_actor(Actor("staff", user.id, user.email))
        try:
            await audit.record("staff.login", f"staff:{user.id}", tenant_id=tenant_id, ip=ip)
        finally:
            reset_actor(token)
        return Redirect(next_url or home_for(user, memberships), status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request) -> Redirect:
        fresh: dict[str, Any] = {}
        rotate(fresh)
        request.set_session(fresh)
        ui.flash(request, N_("You have signed out."), "success")
        return Redirect("/login", status_code=303)


@get("/lang/{code:str}", include_in_schema=False, opt={"isolation": "public"})
async def set_language(
    request: Request, code: FromPath[str], next_url: NextParam = "/console"
) -> Redirect:
    """Switch the interface language: a cookie for everyone, the preference when signed in."""
    locale = i18n.valid(code)
    if locale is None:
        raise NotFoundException()
    principal = principal_of(request)
    if principal.user is not None:
        await accounts.set_locale(principal.user.id, locale)
    cookie = Cookie(
        key=i18n.COOKIE,
        value=locale,
        max_age=LANG_COOKIE_MAX_AGE,
        path="/",
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.cookies_secure or request.url.scheme == "https",
    )
    return Redirect(ui.safe_next(next_url, "/console"), status_code=303, cookies=[cookie])
