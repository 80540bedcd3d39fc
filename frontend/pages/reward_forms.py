"""The reward form: names and descriptions in three languages, cost, type with its
options, stock and limits, the active window. Fields to values and back.

Every registered reward type's option fields are on the form (``opt_<type>__<field>``);
CSS shows the chosen type's only, and only the chosen type's options are sent on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar.connection import ASGIConnection

from loyalchat.domain import DomainError
from loyalchat.frontend import i18n
from loyalchat.frontend.i18n import N_
from loyalchat.frontend.pages import form_fields as ff
from loyalchat.frontend.pages.display import error_message
from loyalchat.rewards.schemas import RewardOut

LANGUAGES = (("zh-Hant", "zh_Hant"), ("zh-Hans", "zh_Hans"), ("en", "en"))
# The service's problems by field, as the form shows them.
PROBLEMS = {
    "name": N_("Give the name in at least one language."),
    "description": N_("Check the description."),
    "points_cost": N_("A whole number of points from 1."),
    "stock": N_("A whole number from 0, or empty for unlimited."),
    "per_member_limit": N_("A whole number from 1, or empty for no limit."),
    "validity_days": N_("A whole number of days from 1, or empty: never expires."),
    "position": N_("A whole number."),
    "starts_at": N_("Enter a date and time."),
    "ends_at": N_("The end must be after the start."),
    "type": N_("Choose a reward type."),
    "options": N_("Fill in the details of this reward type: %(detail)s"),
}


def option_name(kind: str, field: str) -> str:
    return f"opt_{kind}__{field}"


def _local_input(value: datetime | None, timezone: str) -> str:
    """A moment as a ``datetime-local`` field shows it, in the shop's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")


def blank_form(kind: str) -> dict[str, str]:
    return {"type": kind, "active": "1", "position": "0"}


def reward_form(reward: RewardOut, timezone: str) -> dict[str, str]:
    """The form's fields filled from a stored reward."""
    form: dict[str, str] = {
        "type": reward.type,
        "points_cost": str(reward.points_cost),
        "stock": "" if reward.stock is None else str(reward.stock),
        "per_member_limit": "" if reward.per_member_limit is None else str(reward.per_member_limit),
        "validity_days": "" if reward.validity_days is None else str(reward.validity_days),
        "starts_at": _local_input(reward.starts_at, timezone),
        "ends_at": _local_input(reward.ends_at, timezone),
        "active": "1" if reward.active else "",
        "position": str(reward.position),
    }
    for locale, suffix in LANGUAGES:
        form[f"name_{suffix}"] = reward.name.get(locale, "")
        form[f"description_{suffix}"] = reward.description.get(locale, "")
    for name, value in reward.options.items():
        form[option_name(reward.type, name)] = "" if value is None else str(value)
    return form


def reward_values(
    form: Mapping[str, str], types: Mapping[str, Any], timezone: str
) -> dict[str, Any]:
    """The fields of ``RewardCreate`` (:class:`ff.FieldError` on a typo)."""
    kind = form.get("type", "")
    if kind not in types:
        raise ff.FieldError("type", PROBLEMS["type"])
    points = ff.whole(form, "points_cost", required=True, minimum=1)
    return {
        "name": {locale: form.get(f"name_{suffix}", "") for locale, suffix in LANGUAGES},
        "description": {
            locale: form.get(f"description_{suffix}", "") for locale, suffix in LANGUAGES
        },
        "points_cost": points,
        "type": kind,
        "options": {
            field.name: form.get(option_name(kind, field.name), "")
            for field in types[kind].option_fields
        },
        "stock": ff.whole(form, "stock", minimum=0),
        "per_member_limit": ff.whole(form, "per_member_limit", minimum=1),
        "validity_days": ff.whole(form, "validity_days", minimum=1),
        "starts_at": ff.moment(form, "starts_at", timezone),
        "ends_at": ff.moment(form, "ends_at", timezone),
        "active": ff.checked(form, "active"),
        "position": ff.whole(form, "position") or 0,
    }


def reward_errors(connection: ASGIConnection, exc: DomainError) -> dict[str, str]:
    """The service's refusal, next to each field it names."""
    problems = (exc.extra or {}).get("errors") or {}
    errors: dict[str, str] = {}
    for field, detail in problems.items():
        if field in PROBLEMS:
            errors[field] = i18n.gettext(connection, PROBLEMS[field], detail=detail)
    if not errors:
        errors["form"] = error_message(connection, exc)
    return errors
