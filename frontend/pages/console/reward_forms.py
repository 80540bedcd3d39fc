"""The reward form: names and descriptions in three languages, a picture, cost, type with
its options, stock and limits, the active window. Fields to values and back.

Every registered reward type's option fields are on the form (``opt_<type>__<field>``);
CSS shows the chosen type's only, and only the chosen type's options are sent on.

The picture is a file input (the form is ``multipart/form-data``): a new upload is checked,
made web-sized and stored at once (``media.images``), and its key travels in the hidden
``image_key`` field, so a form shown again for another mistake keeps the picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile

from loyalchat import i18n
from loyalchat.domain import DomainError
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common import localized
from loyalchat.frontend.pages.common.display import error_message
from loyalchat.i18n import N_
from loyalchat.media import images
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
    "image": N_("This picture is no longer available. Choose it again."),
}
OPTION_INVALID = N_("Check this value.")
OPTIONS_INVALID = N_("Check the details of this reward type.")
IMAGE_FIELD = "image"  # the file input
IMAGE_KEY_FIELD = "image_key"  # the picture kept: the reward's, or one uploaded before
REMOVE_IMAGE_FIELD = "remove_image"
# The console's form posts may carry a picture; larger bodies are refused (413) before
# they are read, uploads between the picture limit and this one get the form's message.
MAX_BODY_BYTES = 20 * 1024 * 1024


def option_name(kind: str, field: str) -> str:
    return f"opt_{kind}__{field}"


def _local_input(value: datetime | None, timezone: str) -> str:
    """A moment as a ``datetime-local`` field shows it, in the shop's time zone."""
    if value is None:
        return ""
    try:
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
    except OverflowError:  # an infinity stored before the range was enforced
        return ""


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
        IMAGE_KEY_FIELD: reward.image,
    }
    form.update(localized.form_fields("name", reward.name))
    form.update(localized.form_fields("description", reward.description))
    for name, value in reward.options.items():
        field = option_name(reward.type, name)
        if isinstance(value, Mapping):  # a text in three languages (a coupon's benefit)
            form.update(localized.form_fields(field, value))
            continue
        form[field] = "" if value is None else str(value)
        form.update(localized.form_fields(field, form[field]))  # stored before: one language
    return form


def reward_values(
    form: Mapping[str, str], types: Mapping[str, Any], timezone: str
) -> dict[str, Any]:
    """The fields of ``RewardCreate``; :class:`ff.FormErrors` listing every field with a
    problem (all of them, not the first), so the form shows them together."""
    check = ff.Collect()
    kind = form.get("type", "")
    if kind not in types:
        check.add("type", PROBLEMS["type"])
    names = localized.form_value(form, "name")
    if not localized.has_text(names):
        check.add("name", PROBLEMS["name"])
    points = check(ff.whole, form, "points_cost", required=True, minimum=1)
    options: dict[str, Any] = {}
    for field in types[kind].option_fields if kind in types else ():
        if field.localized:
            value = localized.form_value(form, option_name(kind, field.name))
        else:
            value = form.get(option_name(kind, field.name), "")
        if field.required and not localized.has_text(value):
            check.add(option_name(kind, field.name), ff.REQUIRED)
        options[field.name] = value
    values = {
        "name": names,
        "description": localized.form_value(form, "description"),
        "points_cost": points,
        "type": kind,
        "options": options,
        "stock": check(ff.whole, form, "stock", minimum=0),
        "per_member_limit": check(ff.whole, form, "per_member_limit", minimum=1),
        "validity_days": check(ff.whole, form, "validity_days", minimum=1),
        "starts_at": check(
            lambda: ff.in_window("starts_at", ff.moment(form, "starts_at", timezone))
        ),
        "ends_at": check(lambda: ff.in_window("ends_at", ff.moment(form, "ends_at", timezone))),
        "active": ff.checked(form, "active"),
        "position": check(ff.whole, form, "position") or 0,
    }
    if values["starts_at"] and values["ends_at"] and values["ends_at"] <= values["starts_at"]:
        check.add("ends_at", PROBLEMS["ends_at"])
    check.done()
    return values


async def image_value(request: Request, form: dict[str, str]) -> str:
    """The picture to save: a new upload's key, the picture kept, or "" when removed.

    A new upload is stored now (:class:`images.InvalidImage` when it is refused, and then
    nothing is stored) and its key put in ``form``, so the form shown again keeps it.
    The kept key is checked by the rewards service: it must be this shop's file.
    """
    upload = (await request.form()).get(IMAGE_FIELD)
    if isinstance(upload, UploadFile) and upload.filename:  # browsers send "" for none
        # One byte over the limit is enough to refuse it as too large.
        data = await upload.read(images.MAX_UPLOAD_BYTES + 1)
        key = await images.save_web_image(data, kind="reward_image")
        form[IMAGE_KEY_FIELD] = key
        form.pop(REMOVE_IMAGE_FIELD, None)
        return key
    if ff.checked(form, REMOVE_IMAGE_FIELD):
        form[IMAGE_KEY_FIELD] = ""
        form.pop(REMOVE_IMAGE_FIELD, None)
        return ""
    return form.get(IMAGE_KEY_FIELD, "").strip()


def reward_errors(
    connection: ASGIConnection,
    exc: DomainError,
    kind: str = "",
    types: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The service's refusal, next to each field it names, in the request's language.

    A reward type's refused option ("amount: ...") is shown at that option's field, with
    the message the type declares for it (``SettingField.invalid``).
    """
    if exc.code == images.InvalidImage.code:
        reason = str(exc.extra.get("reason", ""))
        message = images.MESSAGES.get(reason, images.MESSAGES["not_an_image"])
        return {IMAGE_FIELD: i18n.gettext(connection, message, **exc.extra)}
    problems = (exc.extra or {}).get("errors") or {}
    errors: dict[str, str] = {}
    for field, detail in problems.items():
        if field == "options":
            errors.update(_option_errors(connection, str(detail), kind, types or {}))
        elif field in PROBLEMS:
            errors[field] = i18n.gettext(connection, PROBLEMS[field], detail=detail)
    if not errors:
        errors["form"] = error_message(connection, exc)
    return errors


def _option_errors(
    connection: ASGIConnection, detail: str, kind: str, types: Mapping[str, Any]
) -> dict[str, str]:
    fields = types[kind].option_fields if kind in types else ()
    for field in fields:
        if detail.startswith((f"{field.name}:", f"{field.label}:")):
            required = detail.endswith(": required")
            message = ff.REQUIRED if required else (field.invalid or OPTION_INVALID)
            return {option_name(kind, field.name): i18n.gettext(connection, message)}
    return {"type": i18n.gettext(connection, OPTIONS_INVALID)}
