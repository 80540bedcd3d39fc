"""Receipt profiles: what a tenant's own receipts look like, learned from samples.

At onboarding a merchant uploads a few receipts; each is read with the generic parser,
and what is common to them becomes the profile: the names printed in the header (every
language), the label beside the total, the date order, the currency, a plausible range
for totals and the start of the QR payload its POS prints. The parser then prefers
these, and the verification step uses the aliases to tell this shop's receipts apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from loyalchat.extensions.ocr import OcrLine
from loyalchat.extensions.receipts import ReceiptFields, ReceiptProfile
from loyalchat.receipts.reading.parse.dates import orders_consistent
from loyalchat.receipts.reading.parse.labels import label_key
from loyalchat.receipts.reading.parse.merchant import is_noise, strip_registration
from loyalchat.receipts.reading.parse.rows import group_rows
from loyalchat.receipts.reading.parse.text import name_key, similarity

Reading = tuple[Sequence[OcrLine], ReceiptFields, Sequence[str]]  # lines, fields, QR payloads
_CENT = Decimal("0.01")


def build_profile(
    readings: Sequence[Reading], pos_system: str = "", *, base: ReceiptProfile | None = None
) -> ReceiptProfile:
    """A proposed profile from sample receipts already read by the generic parser.

    ``base`` carries what the tenant told us (timezone, default currency); what the
    samples show overrides its currency only when a currency is printed on them.
    """
    base = base or ReceiptProfile()
    return ReceiptProfile(
        merchant_names=_aliases(readings),
        pos_system=pos_system,
        currency=_currency(readings, base.currency),
        timezone=base.timezone,
        hints=dict(base.hints),
        total_labels=_total_labels(readings),
        date_order=_date_order(readings),
        amount_range=_amount_range(readings),
        qr_prefix=_qr_prefix(readings),
    )


# Header lines that are a label, a payment word or a column heading, never a shop's name:
# proposed as a name, "CASH" would make every receipt paid in cash this shop's.
_NOT_A_NAME = re.compile(
    r"(?<![A-Z])(?:CASH|CARD|VISA|MASTER(?:CARD)?|CHANGE|ITEMS?|QTY|QUANTITY|TOTAL|SUBTOTAL|"
    r"AMOUNT|PRICE|DESC(?:RIPTION)?|BILL|OWNED|PAYMENT|ROUNDING|DISCOUNT|BALANCE|SERVER|"
    r"STAFF|OPERATOR|CUSTOMER)(?![A-Z])|現金|现金|合計|合计|總計|总计|找續|找零|數量|数量|"
    r"單價|单价|金額|金额|[:：]|[,，]$"
)


def _header_lines(lines: Sequence[OcrLine]) -> list[str]:
    rows = group_rows(lines)
    texts = [strip_registration(r.text) for r in rows[:10]]
    return [
        t
        for t in texts
        if not is_noise(t) and len(name_key(t)) >= 2 and not _NOT_A_NAME.search(t.upper())
    ]


def _aliases(readings: Sequence[Reading]) -> tuple[str, ...]:
    """Header lines printed on most samples (a name in each language), as printed."""
    clusters: list[dict[str, Any]] = []  # {"key", "texts": Counter, "readings": set, "first": pos}
    for n, (lines, fields, _) in enumerate(readings):
        texts = _header_lines(lines)
        if fields.merchant_name and fields.merchant_name.value not in texts:
            texts.insert(0, fields.merchant_name.value)
        for pos, text in enumerate(texts):
            key = name_key(text)
            cluster = next((c for c in clusters if similarity(c["key"], key) >= 0.85), None)
            if cluster is None:
                cluster = {"key": key, "texts": Counter(), "readings": set(), "first": pos}
                clusters.append(cluster)
            cluster["texts"][text] += 1
            cluster["readings"].add(n)
    needed = 1 if len(readings) == 1 else max(2, math.ceil(len(readings) / 2))
    common = [c for c in clusters if len(c["readings"]) >= needed]
    if len(readings) == 1:
        common = common[:3]  # one sample: only the top of the header is safely the name
    common.sort(key=lambda c: (-len(c["readings"]), c["first"]))
    return tuple(c["texts"].most_common(1)[0][0] for c in common[:6])


def _total_labels(readings: Sequence[Reading]) -> tuple[str, ...]:
    counts = Counter(label_key(f.total_label) for _, f, _ in readings if f.total_label)
    needed = max(1, math.ceil(len(readings) / 2))
    return tuple(label for label, count in counts.most_common() if count >= needed)


def _date_order(readings: Sequence[Reading]) -> str:
    consistent: set[str] | None = None
    for lines, fields, _ in readings:
        if fields.date is None:
            continue
        orders = orders_consistent(
            [line.text for line in lines], fields.date.value, fields.date.value
        )
        if orders:
            consistent = orders if consistent is None else consistent & orders
    return next(iter(consistent)) if consistent and len(consistent) == 1 else ""


def _currency(readings: Sequence[Reading], default: str) -> str:
    printed = Counter(
        f.currency.value for _, f, _ in readings if f.currency and f.currency.confidence > 0.5
    )
    return printed.most_common(1)[0][0] if printed else default


def _amount_range(readings: Sequence[Reading]) -> tuple[Decimal, Decimal] | None:
    totals = [f.total.value for _, f, _ in readings if f.total and f.total.value > 0]
    if not totals:
        return None
    # Wide on purpose: a few samples say little about a shop's spread of bills.
    low = (min(totals) / 5).quantize(_CENT, rounding=ROUND_DOWN)
    high = (max(totals) * 5).quantize(_CENT, rounding=ROUND_UP)
    return low, high


def _qr_prefix(readings: Sequence[Reading]) -> str:
    payloads = [p for _, _, qrs in readings for p in qrs if p]
    if not payloads:
        return ""
    prefix = _common_prefix(payloads)
    if len(payloads) == 1 or prefix != payloads[0]:
        cut = max(prefix.rfind(ch) for ch in "/?=&:")
        prefix = prefix[: cut + 1] if cut >= 0 else prefix
    return prefix if len(prefix) >= 8 else ""


def _common_prefix(texts: Sequence[str]) -> str:
    first, last = min(texts), max(texts)  # the lexical extremes bound every common prefix
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def qr_matches(profile: ReceiptProfile, payloads: Sequence[str]) -> bool | None:
    """Whether a receipt's QR payloads carry the tenant's prefix; None if it has none."""
    if not profile.qr_prefix:
        return None
    return any(p.startswith(profile.qr_prefix) for p in payloads)


def profile_to_dict(profile: ReceiptProfile) -> dict[str, Any]:
    """A JSON-ready dict (money as decimal strings)."""
    return {
        "merchant_names": list(profile.merchant_names),
        "pos_system": profile.pos_system,
        "currency": profile.currency,
        "timezone": profile.timezone,
        "hints": dict(profile.hints),
        "total_labels": list(profile.total_labels),
        "date_order": profile.date_order,
        "amount_range": [str(v) for v in profile.amount_range] if profile.amount_range else None,
        "qr_prefix": profile.qr_prefix,
    }


def profile_from_dict(data: Mapping[str, Any]) -> ReceiptProfile:
    """The inverse of :func:`profile_to_dict`; missing keys take their defaults."""
    default = ReceiptProfile()
    amount_range = data.get("amount_range")
    order = data.get("date_order", "")
    if order not in ("", "dmy", "mdy", "ymd"):
        raise ValueError(f"date_order must be dmy, mdy or ymd, not {order!r}")
    return ReceiptProfile(
        merchant_names=tuple(str(n) for n in data.get("merchant_names", ())),
        pos_system=str(data.get("pos_system", "")),
        currency=str(data.get("currency", default.currency)),
        timezone=str(data.get("timezone", default.timezone)),
        hints=dict(data.get("hints") or {}),
        total_labels=tuple(str(t) for t in data.get("total_labels", ())),
        date_order=order,
        amount_range=(Decimal(amount_range[0]), Decimal(amount_range[1])) if amount_range else None,
        qr_prefix=str(data.get("qr_prefix", "")),
    )
