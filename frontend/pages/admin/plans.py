"""Plans (/admin/plans): platform admins create and edit what merchants may subscribe to.

The form is checked by the billing service (a price is a finite Decimal with at most two
decimals, limits whole numbers or empty for unlimited); a refused form comes back with
its message, never a server error.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT

from loyalchat import i18n
from loyalchat.billing import service as billing
from loyalchat.billing.usage import TITLES
from loyalchat.bounds import PathId, is_storable
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.i18n import N_
from loyalchat.tenants.auth import platform_admin_required

PLATFORM = {"platform_admin": True}
FIELDS = ("code", "name", "monthly_price", "currency", "trial_days", "stripe_price_id")
SAVED = N_("The plan %(name)s is saved.")


def blank_form() -> dict[str, str]:
    return {"currency": "HKD", "trial_days": "0", "active": "1", "monthly_price": "0.00"}


def plan_form(plan: billing.PlanInfo) -> dict[str, str]:
    form = {
        "code": plan.code,
        "name": plan.name,
        "monthly_price": str(plan.monthly_price),
        "currency": plan.currency,
        "trial_days": str(plan.trial_days),
        "stripe_price_id": plan.stripe_price_id,
        "active": "1" if plan.active else "",
    }
    for metric, limit in plan.limits.items():
        form[f"limit_{metric}"] = "" if limit is None else str(limit)
    return form


def plan_input(form: dict[str, str]) -> billing.PlanInput:
    return billing.PlanInput(
        code=form.get("code", ""),
        name=form.get("name", ""),
        monthly_price=form.get("monthly_price", ""),
        currency=form.get("currency", ""),
        limits={metric: form.get(f"limit_{metric}", "") for metric in billing.METRICS},
        trial_days=form.get("trial_days", "") or "0",
        stripe_price_id=form.get("stripe_price_id", ""),
        active=form.get("active") == "1",
    )


def _form_of(raw: dict[str, str]) -> dict[str, str]:
    """What was typed, kept to show again; text that cannot be stored is dropped."""
    keys = (*FIELDS, "active", *(f"limit_{m}" for m in billing.METRICS))
    return {k: raw.get(k, "")[:200] for k in keys if is_storable(raw.get(k, ""))}


async def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    editing: billing.PlanInfo | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "admin/plans.html",
        context={
            "plans": await billing.list_plans(active_only=False),
            "form": form or (plan_form(editing) if editing else blank_form()),
            "errors": errors or {},
            "editing": editing,
            "metrics": [(m, TITLES[m]) for m in billing.METRICS],
            "currencies": billing.CURRENCIES,
        },
        status_code=status_code,
    )


def _error(request: Request, exc: DomainError) -> dict[str, str]:
    field = str(exc.extra.get("field", "form"))
    if field in billing.METRICS:
        field = f"limit_{field}"
    variables = {k: v for k, v in exc.extra.items() if k != "field"}
    return {field: i18n.gettext(request, exc.message, **variables)}


class AdminPlansController(Controller):
    path = "/admin/plans"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt=PLATFORM)
    async def index(self, request: Request) -> Template:
        return await _page(request)

    @post("/", opt=PLATFORM, status_code=303)
    async def create(self, request: Request) -> Response[Any]:
        raw = await ui.form_data(request)
        try:
            plan = await billing.create_plan(plan_input(raw))
        except Conflict as exc:
            return await _page(
                request,
                form=_form_of(raw),
                errors=_error(request, exc),
                status_code=HTTP_409_CONFLICT,
            )
        except DomainError as exc:
            return await _page(
                request,
                form=_form_of(raw),
                errors=_error(request, exc),
                status_code=HTTP_400_BAD_REQUEST,
            )
        ui.flash(request, SAVED, "success", name=plan.name)
        return Redirect("/admin/plans", status_code=303)

    @get("/{plan_id:int}", opt=PLATFORM)
    async def edit(self, request: Request, plan_id: PathId) -> Template:
        return await _page(request, editing=await _plan_or_404(plan_id))

    @post("/{plan_id:int}", opt=PLATFORM, status_code=303)
    async def update(self, request: Request, plan_id: PathId) -> Response[Any]:
        plan = await _plan_or_404(plan_id)
        raw = await ui.form_data(request)
        raw["code"] = plan.code  # the code never changes
        try:
            saved = await billing.update_plan(plan.id, plan_input(raw))
        except DomainError as exc:
            return await _page(
                request,
                form=_form_of(raw),
                errors=_error(request, exc),
                editing=plan,
                status_code=HTTP_400_BAD_REQUEST,
            )
        ui.flash(request, SAVED, "success", name=saved.name)
        return Redirect("/admin/plans", status_code=303)


async def _plan_or_404(plan_id: int) -> billing.PlanInfo:
    try:
        return await billing.get_plan(plan_id)
    except NotFound:
        raise NotFoundException() from None
