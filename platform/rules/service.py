"""Earning rules; with ``rules.policy``, the only writer of the rules tables.

Every function works on the current tenant (``loyalchat.scoping``); another tenant's rule
is simply not found. The arithmetic lives in :mod:`loyalchat.rules.calculator`; this
module validates, stores and audits rules and previews what an amount earns. Crediting a
purchase is ``purchases.service``: the rules know nothing of the ledger.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from loyalchat import db
from loyalchat import texts as text
from loyalchat.bounds import DATE_RANGE_TEXT, in_date_range, storable_text
from loyalchat.domain import DomainError, NotFound
from loyalchat.rules.calculator import Calculation, calculate
from loyalchat.rules.policy import expires_at, get_policy, set_policy, zone
from loyalchat.rules.schemas import MAX_NAME, RuleCreate, RuleOut, RuleUpdate
from loyalchat.rules.tables import EarningRule, ExpiryPolicy, Rounding, RuleKind
from loyalchat.scoping import new_row, save_row, scoped_delete, scoped_select, scoped_update
from loyalchat.tenants import audit

# The policy functions are part of this service's interface (docs/loyalty.md).
__all__ = [
    "create_rule",
    "delete_rule",
    "expires_at",
    "get_policy",
    "get_rule",
    "list_rules",
    "preview",
    "set_policy",
    "update_rule",
    "zone",
]

MAX_POINTS = 100_000_000  # caps and step points: the ledger's per-entry limit
RULE_FIELDS = tuple(RuleCreate.__struct_fields__)


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(message, code="invalid_rule", field=field)


def _decimal_field(values: dict[str, Any], name: str, places: int, below: Decimal) -> None:
    """Check a Decimal column: no floats, finite, at most ``places`` decimals, < ``below``."""
    value = values[name]
    if value is None:
        return
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not float")
    if isinstance(value, int) and not isinstance(value, bool):
        value = values[name] = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _invalid(f"{name} must be a number", name)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise _invalid(f"{name} allows at most {places} decimal places", name)
    if abs(value) >= below:
        raise _invalid(f"{name} must be below {below:,}", name)


def _int_field(values: dict[str, Any], name: str, low: int, *, optional: bool = False) -> None:
    value = values[name]
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_POINTS:
        raise _invalid(f"{name} must be a whole number from {low} to {MAX_POINTS:,}", name)


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """The rule's column values, checked and normalised; raises ``invalid_rule``."""
    values = dict(values)
    given = values["name"]
    for line in [given] if isinstance(given, str) else dict(given or {}).values():
        if isinstance(line, str):
            storable_text(line, "name")  # one line, no control characters
    try:
        name = text.clean(given, max_length=MAX_NAME)
    except ValueError as exc:
        raise _invalid(f"name: {exc}", "name") from None
    if text.is_blank(name):
        raise _invalid(f"a rule needs a name of 1-{MAX_NAME} characters", "name")
    values["name"] = name
    try:
        kind = values["kind"] = RuleKind(values["kind"])
        values["rounding"] = Rounding(values["rounding"])
    except ValueError as exc:
        raise _invalid(str(exc), "kind") from None
    _decimal_field(values, "points_per_unit", 4, Decimal(10) ** 8)
    _decimal_field(values, "step_amount", 2, Decimal(10) ** 12)
    _decimal_field(values, "min_spend", 2, Decimal(10) ** 12)
    _decimal_field(values, "multiplier", 2, Decimal(10) ** 4)
    _int_field(values, "step_points", 0)
    _int_field(values, "per_receipt_cap", 1, optional=True)
    if kind == RuleKind.ratio and not values["points_per_unit"] > 0:
        raise _invalid("a ratio rule needs points per unit above 0", "points_per_unit")
    if kind == RuleKind.threshold:
        if values["step_amount"] is None or not values["step_amount"] > 0:
            raise _invalid("a threshold rule needs a step amount above 0", "step_amount")
        if not values["step_points"] > 0:
            raise _invalid("a threshold rule needs step points above 0", "step_points")
    if kind == RuleKind.campaign and not values["multiplier"] > 0:
        raise _invalid("a campaign needs a multiplier above 0", "multiplier")
    if values["min_spend"] is not None and values["min_spend"] < 0:
        raise _invalid("the minimum spend cannot be negative", "min_spend")
    starts, ends = values["starts_on"], values["ends_on"]
    for field in ("starts_on", "ends_on"):
        day = values[field]
        if day is not None and (not isinstance(day, date) or not in_date_range(day)):
            # PostgreSQL would store year 1 or 9999 as -infinity/infinity.
            raise _invalid(f"{field} must be {DATE_RANGE_TEXT}", field)
    if starts is not None and ends is not None and ends < starts:
        raise _invalid("the end date must be on or after the start date", "ends_on")
    weekdays = values["weekdays"] or []
    if any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in weekdays):
        raise _invalid("weekdays are numbers from 1 (Monday) to 7 (Sunday)", "weekdays")
    if weekdays and kind != RuleKind.campaign:
        raise _invalid("weekdays apply to campaign rules only", "weekdays")
    values["weekdays"] = sorted(set(weekdays))
    return values


def _rule_out(row: dict[str, Any]) -> RuleOut:
    return msgspec.convert({k: v for k, v in row.items() if k != "tenant"}, RuleOut)


def _audit_view(rule: RuleOut) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


async def _rule_row(rule_id: int) -> dict[str, Any]:
    row = (
        await scoped_select(EarningRule)
        .where(EarningRule.id == rule_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("earning rule not found", code="not_found")
    return row


async def list_rules(active_only: bool = False) -> list[RuleOut]:
    """The tenant's rules, oldest first (the order the calculator applies campaigns in)."""
    query = scoped_select(EarningRule).order_by(EarningRule.id).output(load_json=True)
    if active_only:
        query = query.where(EarningRule.active == True)  # noqa: E712 (a column expression)
    return [_rule_out(row) for row in await query]


async def get_rule(rule_id: int) -> RuleOut:
    """One rule of the current tenant; ``NotFound`` otherwise."""
    return _rule_out(await _rule_row(rule_id))


async def create_rule(data: RuleCreate) -> RuleOut:
    """Validate and store a new rule (``invalid_rule`` with a message saying what is wrong)."""
    values = _validated(msgspec.structs.asdict(data))
    async with db.write_transaction():
        row = new_row(EarningRule, **{k: _column_value(v) for k, v in values.items()})
        await save_row(row)
        rule = await get_rule(row.id)
        await audit.record("rule.create", f"earning_rule:{rule.id}", after=_audit_view(rule))
    return rule


async def update_rule(rule_id: int, data: RuleUpdate) -> RuleOut:
    """Change the fields ``data`` sets; the whole rule is validated again."""
    async with db.write_transaction():
        before = _rule_out(await _rule_row(rule_id))
        values = _audit_view(before)
        values.update(
            {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        )
        values = _validated(values)
        changes = {getattr(EarningRule, k): _column_value(v) for k, v in values.items()}
        changes[EarningRule.updated_at] = datetime.now(UTC)
        await scoped_update(EarningRule, changes).where(EarningRule.id == rule_id)
        rule = await get_rule(rule_id)
        await audit.record(
            "rule.update",
            f"earning_rule:{rule_id}",
            before=_audit_view(before),
            after=_audit_view(rule),
        )
    return rule


async def delete_rule(rule_id: int) -> None:
    """Delete a rule of the current tenant; ``NotFound`` when it is not ours."""
    async with db.write_transaction():
        before = await get_rule(rule_id)
        await scoped_delete(EarningRule).where(EarningRule.id == rule_id)
        await audit.record("rule.delete", f"earning_rule:{rule_id}", before=_audit_view(before))


def _column_value(value: Any) -> Any:
    # Enums go to the database as their plain string values.
    return value.value if isinstance(value, (RuleKind, Rounding, ExpiryPolicy)) else value


async def preview(amount: Decimal, on: date | None = None) -> Calculation:
    """What ``amount`` would earn on ``on`` (default: today) under the active rules.

    For the console's calculator: the daily cap is left out (it depends on the member).
    """
    policy = await get_policy()
    on = on or datetime.now(zone(policy)).date()
    rules = [rule.spec() for rule in await list_rules(active_only=True)]
    return calculate(rules, amount, on)
