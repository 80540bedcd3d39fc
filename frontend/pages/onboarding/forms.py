"""The wizard's forms: business details (step 1), the names receipts print (step 4) and
the channels (step 5), parsed into the service's values or per-field messages.

Messages are marked with ``N_`` and translated by the page; a message with variables
comes as (message, variables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import available_timezones

from loyalchat.bounds import is_storable
from loyalchat.i18n import N_
from loyalchat.onboarding import validators
from loyalchat.onboarding.service import ApplicationInfo

Problem = tuple[str, dict[str, object]]

REGIONS = {"HK": N_("Hong Kong"), "CN": N_("Mainland China")}
INDUSTRIES = {
    "restaurant": N_("Restaurant or café"),
    "retail": N_("Shop or retail"),
    "beauty": N_("Beauty, hair or wellness"),
    "fitness": N_("Fitness or sport"),
    "education": N_("Education or tutoring"),
    "services": N_("Other services"),
    "other": N_("Other"),
}
TIMEZONES = ("Asia/Hong_Kong", "Asia/Shanghai", "Asia/Macau", "Asia/Taipei", "Asia/Singapore")
LIMITS = {
    "legal_name_zh": 200,
    "legal_name_en": 200,
    "display_name_zh": 200,
    "display_name_en": 200,
    "address": 500,
    "registration_number": 40,
    "phone": 40,
}
MAX_NAMES = 10
MAX_NAME_LENGTH = 100

REQUIRED = N_("Required.")
TOO_LONG = N_("At most %(limit)s characters.")
CONTROL = N_("Remove the control characters.")
ONE_LEGAL_NAME = N_("Give the legal name in Chinese or in English (or both).")
CHOOSE = N_("Choose one of the options.")


class FormErrors(Exception):
    def __init__(self, errors: dict[str, Problem]) -> None:
        super().__init__("form errors")
        self.errors = errors


def details_form(application: ApplicationInfo | None) -> dict[str, str]:
    """The details as the form shows them."""
    if application is None:
        return {"region": "HK", "timezone": "Asia/Hong_Kong"}
    return {
        "legal_name_zh": application.legal_name_zh,
        "legal_name_en": application.legal_name_en,
        "display_name_zh": application.display_name_zh,
        "display_name_en": application.display_name_en,
        "region": application.region,
        "registration_number": application.registration_number,
        "address": application.address,
        "phone": application.phone,
        "industry": application.industry,
        "timezone": application.timezone,
    }


def parse_details(form: Mapping[str, str]) -> dict[str, str]:
    """Step 1's values (numbers normalised), or :class:`FormErrors`."""
    errors: dict[str, Problem] = {}
    values: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = (form.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = (TOO_LONG, {"limit": limit})
        elif not is_storable(value, multiline=name == "address"):
            errors[name] = (CONTROL, {})
        values[name] = value
    if (
        not errors.get("legal_name_zh")
        and not values["legal_name_zh"]
        and not values["legal_name_en"]
    ):
        errors["legal_name_zh"] = (ONE_LEGAL_NAME, {})
    for name in ("address",):
        if not values[name] and name not in errors:
            errors[name] = (REQUIRED, {})
    region = form.get("region", "")
    if region not in REGIONS:
        errors["region"] = (CHOOSE, {})
    values["region"] = region
    if "registration_number" not in errors and region in REGIONS:
        try:
            values["registration_number"] = validators.registration_number(
                values["registration_number"], region
            )
        except validators.InvalidNumber as exc:
            errors["registration_number"] = (exc.message, {})
    if "phone" not in errors:
        try:
            values["phone"] = validators.e164(
                values["phone"], region if region in REGIONS else "HK"
            )
        except validators.InvalidNumber as exc:
            errors["phone"] = (exc.message, {})
    industry = form.get("industry", "")
    if industry not in INDUSTRIES:
        errors["industry"] = (CHOOSE, {})
    values["industry"] = industry
    timezone = form.get("timezone", "")
    if timezone not in TIMEZONES or timezone not in available_timezones():
        errors["timezone"] = (CHOOSE, {})
    values["timezone"] = timezone
    if errors:
        raise FormErrors(errors)
    return values


def parse_names(text: str) -> tuple[str, ...]:
    """The shop's names as printed, one a line (step 4), or :class:`FormErrors`."""
    names: list[str] = []
    for line in (text or "").splitlines():
        name = line.strip()
        if not name or name in names:
            continue
        if len(name) > MAX_NAME_LENGTH:
            raise FormErrors({"names": (TOO_LONG, {"limit": MAX_NAME_LENGTH})})
        if not is_storable(name):
            raise FormErrors({"names": (CONTROL, {})})
        names.append(name)
    if not names:
        raise FormErrors({"names": (N_("Give at least one name your receipts print."), {})})
    if len(names) > MAX_NAMES:
        raise FormErrors({"names": (N_("At most %(limit)s names."), {"limit": MAX_NAMES})})
    return tuple(names)


def parse_channels(chosen: Sequence[str], installed: Mapping[str, str]) -> list[str]:
    """The channel kinds ticked, in the installed order; unknown kinds are an error."""
    unknown = [kind for kind in chosen if kind not in installed]
    if unknown:
        raise FormErrors({"channels": (CHOOSE, {})})
    return [kind for kind in installed if kind in chosen]
