"""The generic receipt parser: OCR lines in, fields with confidences out.

It knows no POS layout; it works from geometry (rows, label beside or above value) and
vocabulary (labels in Chinese and English), helped by the tenant's receipt profile. With
``LOYALCHAT_TOTAL_RANKER=on`` the total the rules choose is checked by a learned ranker
(``parse.rank``) that also sets its confidence; by default the rules' choice stands.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from loyalchat.extensions.ocr import OcrLine
from loyalchat.extensions.receipts import Found, ReceiptFields, ReceiptProfile
from loyalchat.receipts.reading.parse.amounts import currency_marks, find_amounts, is_money_like
from loyalchat.receipts.reading.parse.dates import (
    DateHit,
    TimeHit,
    default_order,
    find_dates,
    find_times,
)
from loyalchat.receipts.reading.parse.merchant import guess_merchant
from loyalchat.receipts.reading.parse.payment import find_payment_method
from loyalchat.receipts.reading.parse.rank import ranked_total
from loyalchat.receipts.reading.parse.receipt_no import find_receipt_number
from loyalchat.receipts.reading.parse.rows import Row, group_rows
from loyalchat.receipts.reading.parse.text import fold
from loyalchat.receipts.reading.parse.total import LineInfo, choose_total, describe_rows

_DOLLARS = {"HKD", "SGD", "USD", "MOP", "TWD", "AUD", "CAD", "NZD"}
_NOT_PURCHASE_DATE = re.compile(r"EXP|VALID|BEST BEFORE|USE BY|DUE|有效|到期|截止|届满|PRINT")
_DATE_LABEL = re.compile(r"DATE|日期|时间|交易日|(?<![A-Z])TIME(?![A-Z])")
# Rows whose numbers are of another kind: a date-like run of digits there is a phone, a
# registration or card number unless the row also names a date.
_NUMBER_ROW = re.compile(
    r"(?<![A-Z])(?:TEL|PHONE|FAX|MOBILE|HP|REG|BRN|TIN|GST\s?(?:ID|NO)|SST\s?(?:ID|NO))(?![A-Z])"
    r"|电话|传真|税号|信用代码|卡号|会员号|登记号"
)
# Two different dates whose scores are this close, neither named by a label: doubt both.
_DATE_RIVAL_MARGIN = 0.1
_RIVAL_DATE_CONFIDENCE = 0.6


class GenericParser:
    """Reads any receipt layout; the fallback when no POS-specific parser applies."""

    name = "generic"
    label = "Generic receipt parser"

    async def parse(self, lines: Sequence[OcrLine], profile: ReceiptProfile) -> ReceiptFields:
        return parse_lines(lines, profile)


def _now(profile: ReceiptProfile) -> datetime:
    try:
        return datetime.now(ZoneInfo(profile.timezone)).replace(tzinfo=None)
    except (KeyError, ValueError):
        return datetime.now()


def parse_lines(
    lines: Sequence[OcrLine],
    profile: ReceiptProfile | None = None,
    now: datetime | date | None = None,
) -> ReceiptFields:
    """Every field the receipt shows, each with a 0-1 confidence; None where nothing fits.

    ``now`` is the shop's local time when the photo arrived: dates after it, or more
    than about two years before it, are doubted.
    """
    profile = profile or ReceiptProfile()
    now = now or _now(profile)
    rows, dates, times, infos = read_rows(lines, profile, now)
    if not rows:
        return ReceiptFields()

    date_found, time_found, date_warnings = _pick_date(rows, dates, times)
    rules = choose_total(rows, infos, profile.total_labels, profile.amount_range)
    total = ranked_total(rows, infos, rules)
    currency = _currency(rows, total.currency if total else None, profile)
    first_amount = min(
        [i for i, info in enumerate(infos) if any(a.has_cents for a in info.amounts)] + [len(rows)]
    )
    stop = min([i for i, ds in enumerate(dates) if ds] + [first_amount])
    # Past a date or amount near the top (a stamp, the tail of another slip: "Z = 0% 4.00
    # / [19/06/17]"), the name may be read down to the first amount below it.
    reach = min(
        [
            i
            for i, info in enumerate(infos)
            if i >= max(stop, 2) and any(a.has_cents for a in info.amounts)
        ]
        + [len(rows)]
    )
    merchant = guess_merchant(rows, max(stop, 2), profile.merchant_names, reach=reach)
    number = find_receipt_number(rows)
    payment = find_payment_method(rows)

    issued_at = None
    if date_found is not None:
        clock = time_found.value if time_found else datetime.min.time()
        issued_at = Found(datetime.combine(date_found.value, clock), date_found.confidence)
    return ReceiptFields(
        merchant_name=Found(merchant.name, merchant.confidence) if merchant else None,
        issued_at=issued_at,
        total=Found(total.value, total.confidence) if total else None,
        currency=currency,
        receipt_number=Found(number.value, number.confidence) if number else None,
        date=Found(date_found.value, date_found.confidence) if date_found else None,
        time=Found(time_found.value, 0.8 if date_found else 0.5) if time_found else None,
        payment_method=Found(*payment) if payment else None,
        merchant_candidates=merchant.candidates if merchant else (),
        total_label=total.label if total else "",
        warnings=(total.warnings if total else ("no_total",)) + date_warnings,
    )


def read_rows(
    lines: Sequence[OcrLine], profile: ReceiptProfile, now: datetime | date
) -> tuple[list[Row], list[list[DateHit]], list[list[TimeHit]], list[LineInfo]]:
    """Rows, their dates and times, and each row's label and amounts (dates blanked out)."""
    rows = group_rows(lines)
    order = profile.date_order or default_order(profile.timezone)
    dates = [find_dates(r.text, now, order) for r in rows]
    times = [find_times(r.text) for r in rows]
    masked = [_blank(r.text, ds, ts) for r, ds, ts in zip(rows, dates, times, strict=True)]
    return rows, dates, times, describe_rows(rows, masked)


def _blank(text: str, dates: Sequence[DateHit], times: Sequence[TimeHit]) -> str:
    # Dates and times are never amounts: replace them by spaces, keeping offsets.
    chars = list(text)
    for hit in [*dates, *times]:
        for k in range(hit.start, min(hit.end, len(chars))):
            chars[k] = " "
    return "".join(chars)


def _pick_date(
    rows: Sequence[Row], dates: Sequence[list[DateHit]], times: Sequence[list[TimeHit]]
) -> tuple[DateHit | None, TimeHit | None, tuple[str, ...]]:
    """The purchase date, its time, and warnings ("competing_dates") if it is doubted."""
    scored: list[tuple[float, int, DateHit]] = []
    for i, hits in enumerate(dates):
        folded = fold(rows[i].text)
        labelled = bool(_DATE_LABEL.search(folded))
        # "24 NOVEMBER 2017 - 4 MARCH 2018", "1/12至31/12": a period (an offer, a stay).
        period = len({h.value for h in hits}) > 1
        for hit in hits:
            score = hit.confidence - 0.01 * i / max(len(rows), 1)
            if labelled:
                score += 0.1
            elif _NUMBER_ROW.search(folded):
                score -= 0.3
            if _NOT_PURCHASE_DATE.search(folded):
                score -= 0.4
            if period:
                score -= 0.3
            elif times[i]:
                score += 0.05  # stamped with its time, as a till prints the sale
            scored.append((score, i, hit))
    if not scored:
        first_time = next((t[0] for t in times if t), None)
        return None, first_time, ()
    warnings: tuple[str, ...] = ()
    best_score, row_index, hit = max(scored, key=lambda s: s[0])  # the first of equals
    if any(
        other.value != hit.value and best_score - score < _DATE_RIVAL_MARGIN
        for score, _, other in scored
    ):
        # "06/05/2026 ... 2026-05-08": two dates, no label says which: ask, don't guess.
        hit = replace(hit, confidence=min(hit.confidence, _RIVAL_DATE_CONFIDENCE))
        warnings = ("competing_dates",)
    nearby = [
        t
        for k in (row_index, row_index + 1, row_index - 1)
        if 0 <= k < len(times)
        for t in times[k]
    ]
    anywhere = next((t[0] for t in times if t), None)
    return hit, (nearby[0] if nearby else anywhere), warnings


def _currency(rows: Sequence[Row], on_total: str | None, profile: ReceiptProfile) -> Found[str]:
    def resolve(code: str) -> str:
        if code != "$":
            return code
        # A bare "$" is the local dollar; even where the currency is not a dollar, the
        # shop's own currency is a better guess than USD.
        return profile.currency

    if on_total:
        dollar_ok = profile.currency in _DOLLARS
        return Found(resolve(on_total), 0.9 if on_total != "$" else (0.75 if dollar_ok else 0.6))
    marks = Counter(code for r in rows for code in currency_marks(r.text))
    marks.update(
        a.currency for r in rows for a in find_amounts(r.text) if a.currency and is_money_like(a)
    )
    if marks:
        code, _ = marks.most_common(1)[0]
        resolved = resolve(code)
        return Found(resolved, 0.8 if code != "$" else 0.65)
    return Found(profile.currency, 0.5)
