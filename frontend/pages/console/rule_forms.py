"""The earning-rule and points-policy forms: fields to values and back, and the
service's refusals as messages next to the right field.

A rule form shows the fields of its kind only (CSS hides the rest); fields of the other
kinds are sent as their defaults, so changing a rule's kind leaves nothing behind.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar.connection import ASGIConnection

from loyalchat import i18n
from loyalchat.domain import DomainError
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common import localized
from loyalchat.frontend.pages.common.display import error_message, field_of
from loyalchat.i18n import N_
from loyalchat.rules.calculator import RuleSpec
from loyalchat.rules.schemas import PolicyOut, RuleCreate, RuleOut
from loyalchat.rules.tables import ExpiryPolicy, Rounding, RuleKind

KINDS = {
    RuleKind.ratio.value: N_("Points per amount spent"),
    RuleKind.threshold.value: N_("Points for every full step spent"),
    RuleKind.campaign.value: N_("Campaign: multiply points on some days"),
}
ROUNDINGS = {
    Rounding.down.value: N_("Round down"),
    Rounding.half_up.value: N_("Round to the nearest"),
    Rounding.up.value: N_("Round up"),
}
# What each field needs, as the form says it when the service refuses a value.
RULE_PROBLEMS = {
    "name": N_("Give the rule a name of at most 120 characters."),
    "kind": N_("Choose a kind of rule."),
    "points_per_unit": N_("A number above 0, with at most 4 decimals."),
    "rounding": N_("Choose how to round."),
    "step_amount": N_("An amount above 0, with at most 2 decimals."),
    "step_points": N_("A whole number of points above 0."),
    "min_spend": N_("An amount of 0 or more, with at most 2 decimals, or empty."),
    "per_receipt_cap": N_("A whole number of points from 1, or empty."),
    "multiplier": N_("A number above 0, with at most 2 decimals (2 = double points)."),
    "starts_on": N_("Enter a date."),
    "ends_on": N_("The last day must be on or after the first day."),
    "weekdays": N_("Weekdays apply to campaigns only."),
}
WEEKDAYS = frozenset("1234567")  # the form's check boxes: ISO weekdays, Monday = 1
POLICY_PROBLEMS = {
    "expiry": N_("Choose when points expire."),
    "expiry_months": N_("From 1 to 120 months."),
    "expiry_month": N_("Choose a month."),
    "expiry_day": N_("This day does not exist in that month every year."),
    "daily_cap": N_("A whole number of points from 1, or empty for no cap."),
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def blank_form(kind: str = "ratio") -> dict[str, Any]:
    kind = kind if kind in KINDS else RuleKind.ratio.value
    return {
        "kind": kind,
        "active": "1",
        "rounding": Rounding.down.value,
        "multiplier": "2" if kind == RuleKind.campaign.value else "",
        "weekdays": [],
    }


def rule_form(rule: RuleOut) -> dict[str, Any]:
    """The form's fields filled from a stored rule."""
    return {
        "rule_id": str(rule.id),
        **localized.form_fields("name", rule.name),
        "kind": rule.kind.value,
        "active": "1" if rule.active else "",
        "points_per_unit": _text(rule.points_per_unit.normalize()) if rule.points_per_unit else "",
        "rounding": rule.rounding.value,
        "step_amount": _text(rule.step_amount),
        "step_points": _text(rule.step_points or ""),
        "min_spend": _text(rule.min_spend),
        "per_receipt_cap": _text(rule.per_receipt_cap),
        "multiplier": _text(rule.multiplier),
        "starts_on": rule.starts_on.isoformat() if rule.starts_on else "",
        "ends_on": rule.ends_on.isoformat() if rule.ends_on else "",
        "weekdays": [str(day) for day in rule.weekdays],
    }


def rule_values(form: dict[str, Any]) -> dict[str, Any]:
    """The fields of :class:`RuleCreate` from the form; :class:`ff.FormErrors` listing
    every field with a problem (all of them, not the first)."""
    check = ff.Collect()
    kind = form.get("kind", "")
    if kind not in KINDS:
        check.add("kind", RULE_PROBLEMS["kind"])
    rounding = form.get("rounding") or Rounding.down.value
    if rounding not in ROUNDINGS:
        check.add("rounding", RULE_PROBLEMS["rounding"])
        rounding = Rounding.down.value
    # The check boxes offer ISO weekdays 1-7; anything else did not come from the form,
    # even on a kind that ignores weekdays.
    weekdays = form.get("weekdays") or []
    weekdays = [weekdays] if isinstance(weekdays, str) else weekdays
    if any(day not in WEEKDAYS for day in weekdays):
        check.add("weekdays", N_("Choose days from the list."))
        weekdays = []
    # Every field, the other kinds' at their defaults: an edit that changes the kind
    # leaves nothing of the old kind behind.
    values: dict[str, Any] = {
        "points_per_unit": Decimal(0),
        "rounding": Rounding.down,
        "step_amount": None,
        "step_points": 0,
        "multiplier": Decimal(1),
        "weekdays": [],
        "name": localized.form_value(form, "name"),
        "kind": RuleKind(kind) if kind in KINDS else None,
        "active": ff.checked(form, "active"),
        "min_spend": check(ff.amount, form, "min_spend", required=False),
        "per_receipt_cap": check(ff.whole, form, "per_receipt_cap"),
        "starts_on": check(lambda: ff.in_window("starts_on", ff.day(form, "starts_on"))),
        "ends_on": check(lambda: ff.in_window("ends_on", ff.day(form, "ends_on"))),
    }
    if kind == RuleKind.ratio.value:
        values["points_per_unit"] = check(ff.decimal, form, "points_per_unit", required=True)
        values["rounding"] = Rounding(rounding)
    elif kind == RuleKind.threshold.value:
        values["step_amount"] = check(ff.amount, form, "step_amount")
        values["step_points"] = check(ff.whole, form, "step_points", required=True)
    elif kind in KINDS:
        values["multiplier"] = check(ff.decimal, form, "multiplier", required=True)
        values["weekdays"] = sorted({int(day) for day in weekdays})
    if values["starts_on"] and values["ends_on"] and values["ends_on"] < values["starts_on"]:
        check.add("ends_on", RULE_PROBLEMS["ends_on"])
    check.done()
    return values


def draft_spec(draft: RuleCreate, rule_id: int | None) -> RuleSpec:
    """A rule being typed, as the calculator takes it."""
    return RuleSpec(
        id=rule_id,
        name=draft.name if localized.has_text(draft.name) else "—",
        kind=draft.kind,
        active=draft.active,
        points_per_unit=draft.points_per_unit,
        rounding=draft.rounding,
        step_amount=draft.step_amount,
        step_points=draft.step_points,
        min_spend=draft.min_spend,
        per_receipt_cap=draft.per_receipt_cap,
        multiplier=draft.multiplier,
        starts_on=draft.starts_on,
        ends_on=draft.ends_on,
        weekdays=tuple(draft.weekdays),
    )


def rule_errors(connection: ASGIConnection, exc: DomainError) -> dict[str, str]:
    """The service's refusal of a rule, next to the field it is about."""
    field = field_of(exc)
    if exc.code == "invalid_rule" and field in RULE_PROBLEMS:
        return {field: i18n.gettext(connection, RULE_PROBLEMS[field])}
    return {"form": error_message(connection, exc)}


def policy_form(policy: PolicyOut) -> dict[str, str]:
    return {
        "expiry": policy.expiry.value,
        "expiry_months": str(policy.expiry_months),
        "expiry_month": str(policy.expiry_month),
        "expiry_day": str(policy.expiry_day),
        "daily_cap": _text(policy.daily_cap),
    }


def policy_values(form: dict[str, str]) -> dict[str, Any]:
    """The fields of :class:`PolicyIn` from the form; blank numbers keep the defaults."""
    check = ff.Collect()
    expiry = form.get("expiry", "")
    if expiry not in {policy.value for policy in ExpiryPolicy}:
        check.add("expiry", POLICY_PROBLEMS["expiry"])
    values: dict[str, Any] = {
        "expiry": ExpiryPolicy(expiry) if "expiry" not in check.errors else None
    }
    for name in ("expiry_months", "expiry_month", "expiry_day"):
        number = check(ff.whole, form, name)
        if number is not None:
            values[name] = number
    values["daily_cap"] = check(ff.whole, form, "daily_cap")
    check.done()
    return values


def policy_errors(connection: ASGIConnection, exc: DomainError) -> dict[str, str]:
    field = field_of(exc)
    if exc.code == "invalid_policy" and field in POLICY_PROBLEMS:
        return {field: i18n.gettext(connection, POLICY_PROBLEMS[field])}
    return {"form": error_message(connection, exc)}
