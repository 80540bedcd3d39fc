"""What the receipt review page shows: the photo with the OCR boxes, the fields read, the
check results in words, and the labels of statuses, channels and reasons.

Pure shaping of a ``receipt`` row's JSON (``Receipt.fields`` / ``Receipt.checks``, shapes
in notes/spec11.md) for the templates; the controller (``receipts.py``) does the reading.
Boxes are fractions of the prepared image the OCR read (``fields.ocr_media_key``): they
are drawn only on that image, never on the original photo (it may be turned or cropped
differently), so a photo without a prepared image is shown without boxes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from litestar.connection import ASGIConnection

from loyalchat import i18n
from loyalchat.extensions.receipts import CheckResult, Outcome
from loyalchat.i18n import N_
from loyalchat.media import store
from loyalchat.receipts.checks import texts as check_texts

STATUS_LABELS = {
    "needs_review": N_("To review"),
    "awaiting_member": N_("Asked the member"),
    "credited": N_("Credited"),
    "rejected": N_("Rejected"),
    "received": N_("Received"),
    "reading": N_("Reading"),
    "checking": N_("Checking"),
    "all": N_("All"),
}
CHANNEL_LABELS = {
    "whatsapp": N_("WhatsApp"),
    "wechat": N_("WeChat"),
    "webchat": N_("Web chat"),
    "console": N_("Console"),
}
# The fields read, in the order the page lists them; the first three get boxes on the photo.
FIELD_LABELS = {
    "total": N_("Total"),
    "date": N_("Date"),
    "merchant": N_("Shop"),
    "time": N_("Time"),
    "receipt_no": N_("Receipt number"),
    "currency": N_("Currency"),
    "payment_method": N_("Payment"),
}
BOXED = ("total", "date", "merchant")
CHECK_LABELS = {
    "merchant": N_("Shop"),
    "date": N_("Date"),
    "duplicate": N_("Duplicate"),
    "amount": N_("Amount"),
    "velocity": N_("Receipts per member"),
    "screenshot": N_("Screenshot or edited"),
}
# Reasons as staff need them: what the member is told ("the shop will check this receipt")
# says nothing to the person checking it. Codes of the pipeline and review; the checks'
# codes with a text of their own use it (``receipts.checks.texts``).
STAFF_REASONS = {
    "looks_alike": N_("Looks like the photo of another receipt"),
    "refund": N_("A refund, void or credit note"),
    "velocity": N_("Many receipts from this member in a short time"),
    "check_error": N_("A check could not run"),
    "amount_disputed": N_("The member typed another amount"),
    "no_answer": N_("The member did not confirm the total"),
    "confirm_total": N_("Waiting for the member to confirm the total"),
    "clearer_photo": N_("Asked for a clearer photo"),
    "processing_failed": N_("The photo could not be processed"),
    "quota_reached": N_("The plan's receipt limit was reached"),
    "shop_paused": N_("Received while the shop was suspended"),
    "unreadable": N_("Could not be read"),
    "no_member": N_("No member to credit"),
    "photo_missing": N_("The photo is missing"),
    "not_a_receipt": N_("Not a receipt"),
    "other": N_("Other reason"),
}
OUTCOME_LABELS = {"pass": N_("Pass"), "warn": N_("Check"), "fail": N_("Fail")}
PASSED = N_("Nothing to note.")
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


@dataclass(frozen=True, slots=True)
class Box:
    """A field's place on the prepared image, in per-mille of its width and height (the
    overlay's SVG viewBox is 1000 x 1000, stretched over the picture)."""

    name: str
    label: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class FieldRead:
    name: str
    label: str
    value: str
    confidence: int | None  # percent; None when the reader gave none
    boxed: bool


@dataclass(frozen=True, slots=True)
class CheckRow:
    check: str
    label: str
    outcome: str
    outcome_label: str
    text: str
    detail: str


def as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _fraction_box(value: Any) -> tuple[float, float, float, float] | None:
    """``[x0, y0, x1, y1]`` fractions, or None for anything that is not such a box."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    try:
        x0, y0, x1, y1 = (float(part) for part in value)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return None
    x0, x1 = sorted((min(max(x0, 0.0), 1.0), min(max(x1, 0.0), 1.0)))
    y0, y1 = sorted((min(max(y0, 0.0), 1.0), min(max(y1, 0.0), 1.0)))
    if x1 - x0 <= 0 or y1 - y0 <= 0:
        return None
    return x0, y0, x1, y1


async def photo_and_boxes(
    connection: ASGIConnection, media_key: str, fields: Mapping[str, Any]
) -> tuple[str, list[Box]]:
    """The key of the picture to show and the boxes to draw on it: the prepared image with
    the total, date and shop boxes when it is stored, else the photo as sent, bare."""
    prepared = fields.get("ocr_media_key")
    if not (isinstance(prepared, str) and store.is_key(prepared) and await store.exists(prepared)):
        return media_key, []
    boxes = []
    for name in BOXED:
        read = fields.get(name)
        box = _fraction_box(read.get("box")) if isinstance(read, dict) else None
        if box is None:
            continue
        x0, y0, x1, y1 = box
        label = i18n.gettext(connection, FIELD_LABELS[name])
        boxes.append(
            Box(
                name,
                label,
                round(x0 * 1000, 1),
                round(y0 * 1000, 1),
                round((x1 - x0) * 1000, 1),
                round((y1 - y0) * 1000, 1),
            )
        )
    return prepared, boxes


def fields_read(connection: ASGIConnection, fields: Mapping[str, Any]) -> list[FieldRead]:
    """The fields the reader found, with their confidences, in the page's order."""
    found = []
    for name, label in FIELD_LABELS.items():
        read = fields.get(name)
        if not isinstance(read, dict) or read.get("value") in (None, ""):
            continue
        confidence = read.get("confidence")
        try:
            percent = round(float(confidence) * 100) if confidence is not None else None
        except (TypeError, ValueError):
            percent = None
        if percent is not None and not 0 <= percent <= 100:
            percent = None
        found.append(
            FieldRead(
                name,
                i18n.gettext(connection, label),
                str(read["value"])[:200],
                percent,
                name in BOXED and _fraction_box(read.get("box")) is not None,
            )
        )
    return found


def _result(entry: Mapping[str, Any]) -> CheckResult:
    try:
        outcome = Outcome(str(entry.get("outcome", "")))
    except ValueError:
        outcome = Outcome.warn
    params = entry.get("params")
    return CheckResult(
        outcome,
        str(entry.get("reason") or ""),
        str(entry.get("detail") or ""),
        params if isinstance(params, dict) else {},
        str(entry.get("check") or ""),
    )


def check_rows(connection: ASGIConnection, checks: Any) -> list[CheckRow]:
    """Each check's answer in words (the members' texts, ``receipts.checks.texts``), in the
    reader's language, with the detail staff see and members never do."""
    locale = i18n.locale_of(connection)
    rows = []
    for entry in checks or ():
        if not isinstance(entry, Mapping):
            continue
        result = _result(entry)
        if result.outcome is Outcome.passed and not result.reason:
            text = i18n.gettext(connection, PASSED)
        else:
            text = check_texts.reason_text(result, locale)
        label = CHECK_LABELS.get(result.check)
        rows.append(
            CheckRow(
                result.check,
                i18n.gettext(connection, label) if label else result.check,
                result.outcome.value,
                i18n.gettext(connection, OUTCOME_LABELS[result.outcome.value]),
                text,
                result.detail[:300],
            )
        )
    return rows


def reason_label(connection: ASGIConnection, code: str, checks: Any = ()) -> str:
    """A status reason in words for staff: their own wording of the pipeline's codes, else
    the text of the check that gave it (its figures filled in), the plain text of the
    code, or the code itself for a code with no text (a plugin's)."""
    if code in STAFF_REASONS:
        return i18n.gettext(connection, STAFF_REASONS[code])
    for entry in checks or ():
        if isinstance(entry, Mapping) and entry.get("reason") == code:
            return check_texts.reason_text(_result(entry), i18n.locale_of(connection))
    text = check_texts.REASONS.get(code)
    if not text:
        return code
    # A figure the text needs and no check gave ("older than %(days)s days"): "…".
    return _PLACEHOLDER.sub("…", i18n.gettext(connection, text))


def reason_choices(connection: ASGIConnection, seen: list[str]) -> list[tuple[str, str]]:
    """Reason codes to filter by: every code a check has a text for, plus those seen."""
    codes = sorted(set(check_texts.REASONS) | set(STAFF_REASONS) | set(seen))
    return [(code, reason_label(connection, code)) for code in codes]


def age_text(connection: ASGIConnection, age: timedelta) -> str:
    """ "2 hours ago" in the reader's language."""
    if age < timedelta(minutes=1):
        return i18n.gettext(connection, N_("just now"))
    locale = i18n.babel_locale(i18n.locale_of(connection))
    return format_timedelta(-age, add_direction=True, format="short", locale=locale)
