"""Sign up (/signup): a new shop and its owner; e-mail verification and its resend."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS

from loyalchat import i18n
from loyalchat.frontend import ui
from loyalchat.frontend.pages.signup import common
from loyalchat.i18n import N_
from loyalchat.tenants import account_tokens, accounts, signup
from loyalchat.tenants.auth import principal_of, staff_required

TokenParam = Annotated[str, QueryParameter(name="token", max_length=1000)]
ONBOARDING = "/onboarding"
FIELDS = ("email", "password", "shop_name", "slug")

# problem code per field -> what the page says
PROBLEMS = {
    ("email", "invalid"): N_("Enter a valid e-mail address, like name@example.com."),
    ("email", "taken"): N_(
        "An account with this e-mail address exists already. Sign in instead, or reset its password."
    ),
    ("password", "too_short"): N_("Use at least 10 characters."),
    ("password", "too_long"): N_("Use at most 1,024 characters."),
    ("password", "weak"): N_(
        "This password is too easy to guess. Use a longer mix of words, digits or signs."
    ),
    ("shop_name", "missing"): N_("Enter your shop's name."),
    ("shop_name", "invalid"): N_("Use at most 200 characters, without control characters."),
    ("slug", "invalid"): N_(
        "Use 3 to 64 lower-case letters (a-z), digits or dashes, starting and ending with a letter or digit."
    ),
    ("slug", "taken"): N_("This address is taken. Choose another one."),
}


def problem_messages(request: Request, problems: dict[str, str]) -> dict[str, str]:
    return {
        field: i18n.gettext(request, PROBLEMS.get((field, code), N_("Please check this field.")))
        for field, code in problems.items()
    }


def _page(
    request: Request,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        "signup/signup.html",
        context={
            "form": form or dict.fromkeys(FIELDS, ""),
            "errors": errors or {},
            "base_url": request.app.state.settings.public_base_url.rstrip("/"),
        },
        status_code=status_code,
        headers=headers,
    )


async def send_verification(user: accounts.StaffInfo, shop_name: str, locale: str) -> bool:
    """Mail ``user`` the link that verifies their address (False: the mail failed)."""
    return await common.try_send(
        user.email,
        "verify_email",
        {
            "email": user.email,
            "shop": shop_name,
            "link": signup.verification_link(user.id, user.email),
            "hours": account_tokens.MAX_AGE[account_tokens.VERIFY_EMAIL] // 3600,
        },
        locale=locale,
    )


class SignupController(Controller):
    path = "/signup"
    include_in_schema = False

    @get("/", opt=common.PUBLIC)
    async def form(self, request: Request) -> Template:
        return _page(request)

    @post("/", opt=common.PUBLIC, status_code=303)
    async def create(self, request: Request) -> Response[Any]:
        data = await ui.form_data(request)
        form = {name: data.get(name, "")[:2000] for name in FIELDS}
        shown = {**form, "password": ""}
        admission = await common.account_throttle(request).admit(
            "signup", f"ip:{ui.client_ip(request)}"
        )
        if not admission.allowed:
            return _page(
                request,
                shown,
                {"form": common.too_many(request, admission)},
                HTTP_429_TOO_MANY_REQUESTS,
                {"retry-after": str(admission.retry_after)},
            )
        locale = i18n.locale_of(request)
        try:
            created = await signup.sign_up(
                data.get("email", ""),
                data.get("password", ""),
                data.get("shop_name", ""),
                data.get("slug", ""),
                locale=locale,
            )
        except signup.SignupError as exc:
            return _page(
                request, shown, problem_messages(request, exc.problems), HTTP_400_BAD_REQUEST
            )
        await common.sign_in(request, created.user, created.tenant.id)
        if await send_verification(created.user, created.tenant.display_name, locale):
            ui.flash(
                request,
                N_("Welcome! We sent a link to %(email)s: open it to confirm your e-mail address."),
                "success",
                email=created.user.email,
            )
        else:
            ui.flash(request, common.MAIL_FAILED, "warning")
        return Redirect(ONBOARDING, status_code=303)

    @get("/verify", opt=common.PUBLIC)
    async def verify(self, request: Request, token: TokenParam = "") -> Template:
        outcome, _user = await signup.verify(token)
        return Template(
            "signup/verified.html",
            context={"outcome": outcome},
            status_code=HTTP_400_BAD_REQUEST if outcome == "invalid" else 200,
        )

    @post("/resend", guards=[staff_required], status_code=303)
    async def resend(self, request: Request) -> Redirect:
        """Send the verification mail again to the signed-in person."""
        data = await ui.form_data(request)
        back = ui.safe_next(data.get("next"), ONBOARDING)
        principal = principal_of(request)
        user = principal.user
        assert user is not None  # staff_required
        if user.email_verified_at is not None:
            ui.flash(request, N_("Your e-mail address is confirmed already."), "info")
            return Redirect(back, status_code=303)
        admission = await common.account_throttle(request).admit("resend", f"user:{user.id}")
        if not admission.allowed:
            ui.flash(request, common.TOO_MANY, "error", minutes=max(1, admission.retry_after // 60))
            return Redirect(back, status_code=303)
        shop = principal.tenant.display_name if principal.tenant else "loyalchat"
        if await send_verification(user, shop, i18n.locale_of(request)):
            ui.flash(
                request, N_("We sent the link again to %(email)s."), "success", email=user.email
            )
        else:
            ui.flash(request, common.MAIL_FAILED, "warning")
        return Redirect(back, status_code=303)
