"""Earning rules in the console: the list, a form per rule, the points policy, and the
calculator ("spend X -> Y points") shown before anything is saved.

Thin: validation and arithmetic are ``rules.service`` and ``rules.calculator``. The
calculator on the list page asks ``rules.service.preview`` (the saved, active rules);
the one on a rule's form also counts the rule as it is being typed, by handing the
calculator the saved rules with the draft in place of the stored one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.bounds import PathId
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, display_for
from loyalchat.frontend.pages.console import rule_forms
from loyalchat.i18n import N_
from loyalchat.rules import service as rules
from loyalchat.rules.calculator import Calculation, calculate
from loyalchat.rules.schemas import PolicyIn, RuleCreate, RuleOut, RuleUpdate
from loyalchat.tenants.access import NO_WRITES
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

RULE = {"tenant_object": "earning_rule"}
MANAGER = (role_required(Role.manager),)
DEFAULT_AMOUNT = "100"


async def _rule_or_404(rule_id: int) -> RuleOut:
    try:
        return await rules.get_rule(rule_id)
    except NotFound:
        raise NotFoundException() from None


def _calc_context(
    request: Request, raw_amount: str, calculation: Calculation | None, error: str = ""
) -> dict[str, Any]:
    return base_context(request, amount=raw_amount, calc=calculation, calc_error=error)


async def _preview(request: Request, raw_amount: str) -> dict[str, Any]:
    """The list page's calculator: what an amount earns today under the saved rules."""
    try:
        amount = ff.amount({"amount": raw_amount}, "amount")
    except ff.FieldError as exc:
        return _calc_context(request, raw_amount, None, i18n.gettext(request, exc.message))
    assert amount is not None
    return _calc_context(request, raw_amount, await rules.preview(amount))


async def _list_page(
    request: Request,
    *,
    amount: str = DEFAULT_AMOUNT,
    policy_form: dict[str, str] | None = None,
    policy_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    policy = await rules.get_policy()
    return Template(
        "console/rules/list.html",
        context={
            **await _preview(request, amount),
            "rules": await rules.list_rules(),
            "policy": policy,
            "policy_form": policy_form or rule_forms.policy_form(policy),
            "policy_errors": policy_errors or {},
            "weekday_names": display_for(request).weekday_names(),
        },
        status_code=status_code,
    )


def _form_page(
    request: Request,
    rule: RuleOut | None,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/rules/form.html",
        context=base_context(
            request,
            rule=rule,
            form=form,
            errors=errors or {},
            amount=DEFAULT_AMOUNT,
            weekday_names=display_for(request).weekday_names(),
            KINDS=rule_forms.KINDS,
            ROUNDINGS=rule_forms.ROUNDINGS,
        ),
        status_code=status_code,
    )


async def _read_form(request: Request) -> dict[str, Any]:
    """The rule form's fields (the weekday check boxes as a list)."""
    lists = await ff.form_lists(request)
    form: dict[str, Any] = {key: values[-1] for key, values in lists.items() if values}
    form["weekdays"] = lists.get("weekdays", [])
    return form


class RulesController(Controller):
    path = "/console/rules"
    include_in_schema = False
    guards = MANAGER

    @get("/")
    async def list_rules(
        self, request: Request, amount: FromQuery[str] = DEFAULT_AMOUNT
    ) -> Template:
        return await _list_page(request, amount=amount)

    @get("/calculator")
    async def calculator(self, request: Request, amount: FromQuery[str] = "") -> Template:
        """The calculator's result alone (htmx swaps it in as the amount is typed)."""
        return Template("console/rules/_calculation.html", context=await _preview(request, amount))

    @post("/preview", status_code=200, opt=NO_WRITES)  # a suspended shop may preview
    async def preview_draft(self, request: Request) -> Template:
        """What the rule being edited would earn, with the other saved rules, before saving."""
        form = await _read_form(request)
        try:
            draft = RuleCreate(**rule_forms.rule_values(form))
            amount = ff.amount(form, "amount")
        except (ff.FieldError, TypeError, ValueError):
            message = i18n.gettext(request, N_("Fill in the rule to see what it earns."))
            return Template(
                "console/rules/_calculation.html",
                context=_calc_context(request, "", None, message),
            )
        assert amount is not None
        editing = ff.whole(form, "rule_id")
        others = [rule.spec() for rule in await rules.list_rules(active_only=True)]
        specs = [spec for spec in others if spec.id != editing]
        if draft.active:
            specs.append(rule_forms.draft_spec(draft, editing))
        today = datetime.now(rules.zone(await rules.get_policy())).date()
        try:
            calculation = calculate(specs, amount, ff.day(form, "on") or today)
        except (TypeError, ValueError):
            calculation = None
        return Template(
            "console/rules/_calculation.html",
            context=_calc_context(request, form.get("amount", ""), calculation),
        )

    @get("/new")
    async def new_rule(self, request: Request, kind: FromQuery[str] = "ratio") -> Template:
        return _form_page(request, None, rule_forms.blank_form(kind))

    @post("/", status_code=303)
    async def create(self, request: Request) -> Response[Any]:
        form = await _read_form(request)
        try:
            rule = await rules.create_rule(RuleCreate(**rule_forms.rule_values(form)))
        except ff.FieldError as exc:
            errors = ff.messages(request, exc)  # every field with a problem
            return _form_page(request, None, form, errors, HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            errors = rule_forms.rule_errors(request, exc)
            return _form_page(request, None, form, errors, HTTP_400_BAD_REQUEST)
        ui.flash(
            request,
            N_("Rule “%(name)s” saved."),
            "success",
            name=display_for(request).text(rule.name),
        )
        return Redirect("/console/rules", status_code=303)

    @get("/{rule_id:int}", opt=RULE)
    async def edit(self, request: Request, rule_id: PathId) -> Template:
        rule = await _rule_or_404(rule_id)
        return _form_page(request, rule, rule_forms.rule_form(rule))

    @post("/{rule_id:int}", opt=RULE, status_code=303)
    async def update(self, request: Request, rule_id: PathId) -> Response[Any]:
        rule = await _rule_or_404(rule_id)
        form = await _read_form(request)
        try:
            saved = await rules.update_rule(rule.id, RuleUpdate(**rule_forms.rule_values(form)))
        except ff.FieldError as exc:
            errors = ff.messages(request, exc)  # every field with a problem
            return _form_page(request, rule, form, errors, HTTP_400_BAD_REQUEST)
        except DomainError as exc:
            errors = rule_forms.rule_errors(request, exc)
            return _form_page(request, rule, form, errors, HTTP_400_BAD_REQUEST)
        ui.flash(
            request,
            N_("Rule “%(name)s” saved."),
            "success",
            name=display_for(request).text(saved.name),
        )
        return Redirect("/console/rules", status_code=303)

    @post("/{rule_id:int}/delete", opt=RULE, status_code=303)
    async def delete(self, request: Request, rule_id: PathId) -> Redirect:
        rule = await _rule_or_404(rule_id)
        await rules.delete_rule(rule.id)
        ui.flash(
            request,
            N_("Rule “%(name)s” deleted."),
            "success",
            name=display_for(request).text(rule.name),
        )
        return Redirect("/console/rules", status_code=303)

    @post("/policy", status_code=303)
    async def save_policy(self, request: Request) -> Response[Any]:
        form = await ui.form_data(request)
        try:
            await rules.set_policy(PolicyIn(**rule_forms.policy_values(form)))
        except ff.FieldError as exc:
            errors = ff.messages(request, exc)  # every field with a problem
            return await _list_page(
                request, policy_form=form, policy_errors=errors, status_code=HTTP_400_BAD_REQUEST
            )
        except DomainError as exc:
            errors = rule_forms.policy_errors(request, exc)
            return await _list_page(
                request, policy_form=form, policy_errors=errors, status_code=HTTP_400_BAD_REQUEST
            )
        ui.flash(request, N_("Points policy saved."), "success")
        return Redirect("/console/rules#policy", status_code=303)
