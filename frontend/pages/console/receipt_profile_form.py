"""The receipt profile form: a tenant's receipt settings as fields, and back.

Lists (names as printed, branch names, total labels) are text areas, one entry a line, so
a name in any language or script is typed as it is printed. Whole numbers are checked
against the bounds ``receipts.settings`` enforces, with the bounds in the message; money is
read as ``Decimal``. Every problem is found at once and shown at its field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.i18n import N_
from loyalchat.media import store
from loyalchat.receipts import samples as receipt_samples
from loyalchat.receipts.reading.parse.labels import label_key
from loyalchat.receipts.samples import SampleRead
from loyalchat.receipts.settings import BOUNDS, MAX_LIMIT, ReceiptRules

MAX_LINES = 20
MAX_LINE = 100
MAX_QR_PREFIX = 200
DATE_ORDERS = {
    "": N_("Automatic (usual for the shop's time zone)"),
    "dmy": N_("Day, month, year (31/12/2026)"),
    "mdy": N_("Month, day, year (12/31/2026)"),
    "ymd": N_("Year, month, day (2026-12-31)"),
}
# The fields a proposal from samples fills (the rest are the shop's settings, kept).
PROFILE_FIELDS = (
    "names",
    "branches",
    "total_labels",
    "date_order",
    "pos_system",
    "currency",
    "amount_low",
    "amount_high",
    "qr_prefix",
)
WHOLE_FIELDS = tuple(BOUNDS)  # window_days, ask_hours, review_hours, per_hour, per_day
SAMPLE_KEY = "sample_key"  # the kept photos (media keys), one field each
SAMPLE_READ = "sample_read"  # what was read off each, JSON, in the same order

WHOLE_RANGE = N_("A whole number from %(low)s to %(high)s.")
TOO_MANY_LINES = N_("At most %(count)s lines.")
LINE_TOO_LONG = N_("At most %(count)s characters a line.")
NEED_A_NAME = N_("Give at least one name the receipts print.")
CURRENCY = N_("Three letters, such as HKD.")
CONFIDENCE = N_("A number from 0 to 1, such as 0.8.")
REVIEW_LIMIT = N_("An amount above 0 and up to %(high)s, or empty for none.")
RANGE_ORDER = N_("The lowest amount must not be above the highest.")
RANGE_BOTH = N_("Give both amounts, or neither.")
RANGE_HIGH = N_("At most %(high)s.")
QR_PREFIX = N_("At most %(count)s characters, no spaces.")
CHOOSE = N_("Choose one of the list.")

Problem = tuple[str, dict[str, Any]]  # (N_ message, its placeholders)


class ProfileFormErrors(ValueError):
    """Every problem of the form: field -> (message, placeholders)."""

    def __init__(self, errors: dict[str, Problem]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _lines(values: Sequence[str]) -> str:
    return "\n".join(values)


def rules_form(rules: ReceiptRules) -> dict[str, str]:
    """The fields of the form for ``rules``."""
    p = rules.profile
    low, high = p.amount_range or ("", "")
    return {
        "names": _lines(p.merchant_names),
        "branches": _lines(receipt_samples.branches_of(p)),
        "total_labels": _lines(p.total_labels),
        "date_order": p.date_order,
        "pos_system": p.pos_system,
        "currency": p.currency,
        "amount_low": str(low),
        "amount_high": str(high),
        "qr_prefix": p.qr_prefix,
        "review_limit": "" if rules.review_limit is None else str(rules.review_limit),
        "confirm_below": f"{rules.confirm_below:g}",
        **{name: str(getattr(rules, name)) for name in WHOLE_FIELDS},
    }


def _text_list(form: Mapping[str, str], name: str, errors: dict[str, Problem]) -> list[str]:
    found = []
    for line in form.get(name, "").splitlines():
        text = " ".join(line.split())
        if text and text not in found:
            found.append(text)
    if len(found) > MAX_LINES:
        errors[name] = (TOO_MANY_LINES, {"count": MAX_LINES})
    elif any(len(text) > MAX_LINE for text in found):
        errors[name] = (LINE_TOO_LONG, {"count": MAX_LINE})
    return found


def _amount(form: Mapping[str, str], name: str, errors: dict[str, Problem]) -> Decimal | None:
    try:
        value = ff.amount(dict(form), name, required=False)
    except ff.FieldError as exc:
        errors[name] = (exc.message, {})
        return None
    if value is not None and value > MAX_LIMIT:
        errors[name] = (RANGE_HIGH, {"high": MAX_LIMIT})
        return None
    return value


def rules_from_form(
    form: Mapping[str, str],
    current: ReceiptRules,
    pos_systems: Mapping[str, str],
    samples: Sequence[SampleRead],
) -> ReceiptRules:
    """The rules the form asks for, with ``samples``, on top of ``current`` (its time zone
    and other hints are kept); :class:`ProfileFormErrors` naming every field with a problem."""
    errors: dict[str, Problem] = {}
    names = _text_list(form, "names", errors)
    if not names and "names" not in errors:
        errors["names"] = (NEED_A_NAME, {})
    branches = _text_list(form, "branches", errors)
    labels = [
        key for key in (label_key(t) for t in _text_list(form, "total_labels", errors)) if key
    ]
    order = form.get("date_order", "")
    if order not in DATE_ORDERS:
        errors["date_order"] = (CHOOSE, {})
    pos = form.get("pos_system", "")
    if pos not in pos_systems:
        errors["pos_system"] = (CHOOSE, {})
    currency = form.get("currency", "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = (CURRENCY, {})
    low = _amount(form, "amount_low", errors)
    high = _amount(form, "amount_high", errors)
    amount_range = None
    if low is not None and high is not None:
        if low > high:
            errors["amount_low"] = (RANGE_ORDER, {})
        amount_range = (low, high)
    elif (low is None) != (high is None) and not {"amount_low", "amount_high"} & set(errors):
        errors["amount_high" if high is None else "amount_low"] = (RANGE_BOTH, {})
    qr_prefix = form.get("qr_prefix", "").strip()
    if len(qr_prefix) > MAX_QR_PREFIX or any(ch.isspace() for ch in qr_prefix):
        errors["qr_prefix"] = (QR_PREFIX, {"count": MAX_QR_PREFIX})
    review_limit = _amount(form, "review_limit", errors)
    if "review_limit" in errors or review_limit == 0:
        errors["review_limit"] = (REVIEW_LIMIT, {"high": MAX_LIMIT})
    try:
        confirm = ff.decimal(dict(form), "confirm_below", required=True)
    except ff.FieldError:
        confirm = None
    if confirm is None or not 0 <= confirm <= 1:
        errors["confirm_below"] = (CONFIDENCE, {})
    wholes: dict[str, int] = {}
    for name, (least, most) in BOUNDS.items():
        try:
            value = ff.whole(dict(form), name, required=True, minimum=least, maximum=most)
        except ff.FieldError:
            value = None
        if value is None:
            errors[name] = (WHOLE_RANGE, {"low": least, "high": most})
        else:
            wholes[name] = value
    if errors:
        raise ProfileFormErrors(errors)
    profile = replace(
        current.profile,
        merchant_names=tuple(names),
        pos_system=pos,
        currency=currency,
        total_labels=tuple(dict.fromkeys(labels)),
        date_order=order,
        amount_range=amount_range,
        qr_prefix=qr_prefix,
    )
    return replace(
        current,
        profile=receipt_samples.with_extras(profile, branches=branches, samples=samples),
        review_limit=review_limit,
        confirm_below=float(confirm),
        **wholes,
    )


def posted_samples(lists: Mapping[str, Sequence[str]]) -> list[SampleRead]:
    """The samples the form carries (their keys and what was read), at most five; a key
    that is not a media key is dropped here, one the shop does not have by the caller."""
    keys = list(lists.get(SAMPLE_KEY, ()))[: receipt_samples.MAX_SAMPLES]
    reads = list(lists.get(SAMPLE_READ, ()))
    found: list[SampleRead] = []
    for n, key in enumerate(keys):
        try:
            data = json.loads(reads[n]) if n < len(reads) else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        sample = SampleRead.from_dict({**data, "key": key})
        if sample is not None:
            found.append(sample)
    return found


async def own_samples(found: Sequence[SampleRead]) -> list[SampleRead]:
    """Only the samples whose photos are in this shop's media store (another shop's key
    is dropped, as is a prepared image that is not the shop's)."""
    kept = []
    for sample in found:
        if not await store.exists(sample.key):
            continue
        if sample.ocr_key and not await store.exists(sample.ocr_key):
            sample = replace(sample, ocr_key="")
        kept.append(sample)
    return kept


def sample_json(sample: SampleRead) -> str:
    """What was read off a sample, for its hidden field."""
    data = sample.to_dict()
    data.pop("key")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
