"""Member numbers in the console: how new members' numbers look (managers).

The shop sees a prefix, a count of digits and an optional text after the number, with an
example ("M000123"); what is stored stays the numbering pattern (``M{seq:06d}``, see
``members.numbering``), translated to and from those fields here.
"""

from __future__ import annotations

import string
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat.domain import DomainError
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, error_message
from loyalchat.i18n import N_
from loyalchat.members import numbering
from loyalchat.members import service as members
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

EXAMPLE_SEQ = 123  # the example number shown beside a format
MAX_DIGITS = 12
MAX_AFFIX = 20  # characters before (or after) the number
# A number must fit 32 characters even for the billionth member (nine digits).
_LONGEST_SEQ = len(str(999_999_999))
_AFFIX_PUNCTUATION = set("-_.")
AFFIX_ERROR = N_("Use letters, digits, '-', '_' or '.' only (no spaces).")
TOO_LONG = N_("Too long: a member number has at most 32 characters.")
DIGITS_ERROR = N_("Enter a number of digits from 1 to 12.")


def _example(fmt: str) -> str:
    try:
        return numbering.render(numbering.validate_format(fmt), EXAMPLE_SEQ)
    except DomainError:
        return ""


def _preview(form: dict[str, Any]) -> str:
    """The example number for the fields as filled in ("" when they have a problem)."""
    try:
        return _example(fields_format(form))
    except ff.FieldError:
        return ""


def format_fields(fmt: str) -> dict[str, str]:
    """The stored pattern as the page's fields: ``M{seq:06d}`` -> M, 6 digits, nothing after."""
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError:
        parts = []
    before: list[str] = []
    after: list[str] = []
    digits = 1
    seen = False
    for literal, name, spec, _conversion in parts:
        (after if seen else before).append(literal)
        if name is not None and not seen:
            seen = True
            width = (spec or "").rstrip("d")
            digits = int(width) if width.isdigit() else 1
    if not seen:  # not a pattern this page made: start from the default
        return format_fields(numbering.DEFAULT_FORMAT)
    return {"prefix": "".join(before), "digits": str(digits), "suffix": "".join(after)}


def _affix(check: ff.Collect, form: dict[str, str], name: str) -> str:
    text = form.get(name, "").strip()
    if any(not (ch.isalnum() or ch in _AFFIX_PUNCTUATION) for ch in text):
        check.add(name, AFFIX_ERROR)
    elif len(text) > MAX_AFFIX:
        check.add(name, TOO_LONG)
    return text


def fields_format(form: dict[str, str]) -> str:
    """The pattern for the page's fields, or :class:`ff.FormErrors` naming every problem
    (in the page's order: before, digits, after)."""
    check = ff.Collect()
    prefix = _affix(check, form, "prefix")
    digits = check(ff.whole, form, "digits", required=True, minimum=1, maximum=MAX_DIGITS)
    if "digits" in check.errors:
        check.errors["digits"] = DIGITS_ERROR
    suffix = _affix(check, form, "suffix")
    if digits is not None and len(prefix) + max(digits, _LONGEST_SEQ) + len(suffix) > 32:
        check.add("prefix", TOO_LONG)
    check.done()
    assert digits is not None
    seq = "{seq}" if digits == 1 else f"{{seq:0{digits}d}}"
    return f"{prefix}{seq}{suffix}"


class MemberSettingsController(Controller):
    path = "/console/members/numbers"
    include_in_schema = False
    guards = (role_required(Role.manager),)

    @get("/")
    async def show(self, request: Request) -> Template:
        current = await members.number_format()
        return self._page(request, format_fields(current), {}, current)

    @post("/", status_code=303)
    async def save(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        current = await members.number_format()
        try:
            saved = await members.set_number_format(fields_format(form))
        except ff.FieldError as exc:
            errors = ff.messages(request, exc)
            return self._page(request, form, errors, current, status_code=HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            errors = {"prefix": error_message(request, exc)}
            return self._page(request, form, errors, current, status_code=HTTP_400_BAD_REQUEST)
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
                request,
                form=form,
                errors=errors,
                example=_example(current),
                preview=_preview(form) or _example(current),
                example_seq=EXAMPLE_SEQ,
                max_digits=MAX_DIGITS,
            ),
            status_code=status_code,
        )
