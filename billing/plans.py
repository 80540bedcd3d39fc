"""Plans: what a merchant may subscribe to. Platform-wide rows, edited by platform admins.

Input is checked here, not in the page: a price is a finite ``Decimal`` from 0 to the
column's range with at most two decimals, limits are whole numbers or None (unlimited).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalchat.billing.tables import Plan
from loyalchat.bounds import INT32_MAX, is_storable
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.i18n import N_
from loyalchat.tenants import audit

CURRENCIES = ("HKD", "CNY", "USD")
# The limits a plan sets, in the order pages show them; None = unlimited.
METRICS = ("members", "receipts_per_month", "channels", "staff_seats", "broadcasts_per_month")
PRICE_MAX = Decimal("9999999999.99")  # Numeric(12, 2)
TRIAL_DAYS_MAX = 365
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
STRIPE_PRICE_RE = re.compile(r"^[A-Za-z0-9_]{0,120}$")


class PlanError(DomainError):
    """A plan form the rules refuse; ``field`` names the input at fault."""

    code = "invalid_plan"


@dataclass(frozen=True, slots=True)
class PlanInput:
    code: str
    name: str
    monthly_price: Decimal | str
    currency: str = "HKD"
    limits: Mapping[str, int | str | None] = field(default_factory=dict)
    trial_days: int | str = 0
    stripe_price_id: str = ""
    active: bool = True


@dataclass(frozen=True, slots=True)
class PlanInfo:
    id: int
    code: str
    name: str
    monthly_price: Decimal
    currency: str
    limits: dict[str, int | None]
    trial_days: int
    stripe_price_id: str
    active: bool

    def limit(self, metric: str) -> int | None:
        return self.limits.get(metric)


def plan_info(row: Mapping[str, Any]) -> PlanInfo:
    limits = row["limits"]
    if isinstance(limits, str):
        import json

        limits = json.loads(limits or "{}")
    return PlanInfo(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        monthly_price=Decimal(row["monthly_price"]).quantize(Decimal("0.01")),
        currency=row["currency"],
        limits={m: _as_limit(limits.get(m)) for m in METRICS},
        trial_days=row["trial_days"],
        stripe_price_id=row["stripe_price_id"],
        active=row["active"],
    )


def _as_limit(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_price(value: Decimal | str) -> Decimal:
    """A monthly price from a form or a caller: finite, 0 to :data:`PRICE_MAX`, cents."""
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise PlanError(
            N_("Enter the price as a number, e.g. 199.00."), field="monthly_price"
        ) from None
    if not price.is_finite():
        raise PlanError(N_("Enter the price as a number, e.g. 199.00."), field="monthly_price")
    if price < 0 or price > PRICE_MAX:
        raise PlanError(N_("The price must be between 0 and 9999999999.99."), field="monthly_price")
    if price != price.quantize(Decimal("0.01")):
        raise PlanError(N_("The price has at most two decimals."), field="monthly_price")
    return price.quantize(Decimal("0.01"))


def _parse_int(value: int | str | None, field_name: str, maximum: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise PlanError(N_("Enter a whole number."), field=field_name)
    try:
        number = value if isinstance(value, int) else int(str(value).strip(), 10)
    except ValueError:
        raise PlanError(N_("Enter a whole number."), field=field_name) from None
    if number < 0 or number > maximum:
        raise PlanError(
            N_("Enter a number from 0 to %(maximum)s."), field=field_name, maximum=maximum
        )
    return number


def validate(data: PlanInput) -> dict[Any, Any]:
    """The column values of a valid plan, or :class:`PlanError`."""
    code = data.code.strip().lower()
    if not CODE_RE.match(code):
        raise PlanError(
            N_("Code: 1-40 lower-case letters, digits, dashes or underscores."), field="code"
        )
    name = data.name.strip()
    if not name or len(name) > 120 or not is_storable(name):
        raise PlanError(N_("Name: 1 to 120 characters."), field="name")
    currency = data.currency.strip().upper()
    if currency not in CURRENCIES:
        raise PlanError(N_("Currency: HKD, CNY or USD."), field="currency")
    unknown = set(data.limits) - set(METRICS)
    if unknown:
        raise PlanError(N_("Unknown limit."), field="limits")
    limits = {m: _parse_int(data.limits.get(m), m, INT32_MAX) for m in METRICS}
    trial = _parse_int(data.trial_days, "trial_days", TRIAL_DAYS_MAX) or 0
    stripe_price_id = data.stripe_price_id.strip()
    if not STRIPE_PRICE_RE.match(stripe_price_id):
        raise PlanError(N_("Stripe price id: letters, digits and underscores."), field="stripe")
    return {
        Plan.code: code,
        Plan.name: name,
        Plan.monthly_price: parse_price(data.monthly_price),
        Plan.currency: currency,
        Plan.limits: limits,
        Plan.trial_days: trial,
        Plan.stripe_price_id: stripe_price_id,
        Plan.active: bool(data.active),
    }


async def list_plans(active_only: bool = True) -> list[PlanInfo]:
    """Plans by price then code; only those offered to merchants unless ``active_only``
    is False (the admin's list)."""
    query = Plan.select().order_by(Plan.monthly_price).order_by(Plan.code)
    if active_only:
        query = query.where(Plan.active == True)  # noqa: E712
    return [plan_info(row) for row in await query]


async def get_plan(plan_id: int) -> PlanInfo:
    row = await Plan.select().where(Plan.id == plan_id).first()
    if row is None:
        raise NotFound(N_("No such plan."))
    return plan_info(row)


async def get_plan_by_code(code: str) -> PlanInfo:
    row = await Plan.select().where(Plan.code == code.strip().lower()[:40]).first()
    if row is None:
        raise NotFound(N_("No such plan."))
    return plan_info(row)


async def create_plan(data: PlanInput) -> PlanInfo:
    """A new plan (platform admin), audited; :class:`Conflict` when the code is taken."""
    values = validate(data)
    if await Plan.exists().where(Plan.code == values[Plan.code]):
        raise Conflict(N_("A plan with this code exists."), code="plan_code_taken")
    row = Plan(**{column._meta.name: value for column, value in values.items()})
    try:
        rows = await Plan.insert(row).returning(*Plan.all_columns())
    except Exception as exc:
        from loyalchat.db import is_unique_violation

        if is_unique_violation(exc):
            raise Conflict(N_("A plan with this code exists."), code="plan_code_taken") from None
        raise
    plan = plan_info(rows[0])
    await audit.record("plan.create", f"plan:{plan.id}", after=_audited(plan), tenant_id=None)
    return plan


async def update_plan(plan_id: int, data: PlanInput) -> PlanInfo:
    """Change a plan (platform admin), audited. The code stays what it was: payments and
    Stripe prices refer to it."""
    before = await get_plan(plan_id)
    values = validate(data)
    values.pop(Plan.code)
    values[Plan.updated_at] = datetime.now(UTC)
    rows = await Plan.update(values).where(Plan.id == plan_id).returning(*Plan.all_columns())
    if not rows:
        raise NotFound(N_("No such plan."))
    plan = plan_info(rows[0])
    await audit.record(
        "plan.update",
        f"plan:{plan.id}",
        before=_audited(before),
        after=_audited(plan),
        tenant_id=None,
    )
    return plan


def _audited(plan: PlanInfo) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "monthly_price": str(plan.monthly_price),
        "currency": plan.currency,
        "limits": ", ".join(f"{k}={v}" for k, v in plan.limits.items()),
        "trial_days": plan.trial_days,
        "stripe_price_id": plan.stripe_price_id,
        "active": plan.active,
    }
