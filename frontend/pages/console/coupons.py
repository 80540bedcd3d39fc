"""Coupon verification at the till: scan the member's QR code (or type the code), check
the grant, mark it used.

The camera scanner (static/js/scanner.js) only fills in the code and submits the same
form a typed code uses. Marking used is ``rewards.service.use_grant``: one conditional
UPDATE, so a second attempt (another till, a double tap) is told when and by whom the
coupon was used. The code travels in the query string or the form body, never in the
path, so there is no tenant object id to guess.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Template
from litestar.status_codes import HTTP_404_NOT_FOUND, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common.display import base_context, error_message
from loyalchat.i18n import N_
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberOut
from loyalchat.rewards import codes
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import GrantOut
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

CASHIER = (role_required(Role.cashier),)
MAX_CODE = 64
NOT_FOUND = N_("No coupon has the code %(code)s. Check the code and try again.")


async def _member_of(grant: GrantOut) -> MemberOut | None:
    try:
        return await members.get_member_by_id(grant.member_id)
    except NotFound:
        return None


def _page(
    request: Request,
    *,
    code: str = "",
    grant: GrantOut | None = None,
    member: MemberOut | None = None,
    result: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The whole page, or only the grant panel for an htmx request."""
    partial = request.headers.get("hx-request") == "true"
    return Template(
        "console/coupons/_grant.html" if partial else "console/coupons/check.html",
        context=base_context(
            request,
            code=code,
            grant=grant,
            member=member,
            result=result,
            display_code=codes.display(grant.code) if grant else "",
        ),
        # htmx swaps only successful responses; the message says what happened.
        status_code=200 if partial else status_code,
    )


class CouponsController(Controller):
    path = "/console/coupons"
    include_in_schema = False
    guards = CASHIER

    @get("/")
    async def check(self, request: Request, code: FromQuery[str] = "") -> Template:
        """The scanner and code form; with ``?code=`` the coupon found, ready to use."""
        code = code.strip()[:MAX_CODE]
        if not code:
            return _page(request)
        try:
            grant = await rewards.get_grant(code, locale=i18n.locale_of(request))
        except NotFound:
            message = i18n.gettext(request, NOT_FOUND, code=code)
            return _page(
                request,
                code=code,
                result={"level": "error", "text": message},
                status_code=HTTP_404_NOT_FOUND,
            )
        return _page(request, code=code, grant=grant, member=await _member_of(grant))

    @post("/use", status_code=200)
    async def use(self, request: Request) -> Template:
        """Mark the coupon used, once; a second try says when and by whom."""
        form = await ui.form_data(request)
        code = form.get("code", "").strip()[:MAX_CODE]
        locale = i18n.locale_of(request)
        try:
            grant = await rewards.use_grant(code)
        except NotFound:
            message = i18n.gettext(request, NOT_FOUND, code=code)
            return _page(
                request,
                code=code,
                result={"level": "error", "text": message},
                status_code=HTTP_404_NOT_FOUND,
            )
        except DomainError as exc:
            grant = await rewards.get_grant(code, locale=locale)
            return _page(
                request,
                code=code,
                grant=grant,
                member=await _member_of(grant),
                result={"level": "error", "text": error_message(request, exc), "code": exc.code},
                status_code=HTTP_409_CONFLICT,
            )
        grant = await rewards.get_grant(code, locale=locale)  # the description in our language
        message = i18n.gettext(request, N_("Done: the coupon is marked used. Give the member:"))
        result: dict[str, Any] = {"level": "success", "text": message, "code": "used"}
        return _page(request, code=code, grant=grant, member=await _member_of(grant), result=result)
