"""Member numbers in the console: the format new members' numbers are made with (managers)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat.domain import DomainError
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common.display import base_context, error_message
from loyalchat.i18n import N_
from loyalchat.members import numbering
from loyalchat.members import service as members
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

EXAMPLE_SEQ = 123  # the example number shown beside a format


def _example(fmt: str) -> str:
    try:
        return numbering.render(numbering.validate_format(fmt), EXAMPLE_SEQ)
    except DomainError:
        return ""


class MemberSettingsController(Controller):
    path = "/console/members/numbers"
    include_in_schema = False
    guards = (role_required(Role.manager),)

    @get("/")
    async def show(self, request: Request) -> Template:
        current = await members.number_format()
        return self._page(request, {"number_format": current}, {}, current)

    @post("/", status_code=303)
    async def save(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        current = await members.number_format()
        try:
            saved = await members.set_number_format(form.get("number_format", ""))
        except DomainError as exc:
            return self._page(
                request,
                form,
                {"number_format": error_message(request, exc)},
                current,
                status_code=HTTP_400_BAD_REQUEST,
            )
        ui.flash(
            request,
            N_("New members get numbers like %(example)s."),
            "success",
            example=_example(saved),
        )
        return Redirect("/console/members/numbers", status_code=303)

    @staticmethod
    def _page(
        request: Request,
        form: dict[str, Any],
        errors: dict[str, str],
        current: str,
        status_code: int = 200,
    ) -> Template:
        return Template(
            "console/members/numbers.html",
            context=base_context(
                request, form=form, errors=errors, current=current, example=_example(current)
            ),
            status_code=status_code,
        )
