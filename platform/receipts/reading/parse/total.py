"""Choosing the total paid, and how far to trust it.

The total is the amount beside a total label, the bottom-most strong one winning, then
checked against what else the receipt prints: cash tendered minus change, subtotal (or
the total before tax, or a total printed above it) plus the charges, discounts and
rounding printed, the item lines adding up to it (after every discount and rounding),
the largest amount, a card payment of the same amount. Each
agreement raises the confidence and each disagreement lowers it: a doubtful total goes
to staff review rather than being credited.

Lines that only look like the total are never it: cash tendered, change, what is left on
a stored-value card ("八達通餘額", "Octopus balance"), and an amount that was handed over
under a total-like word ("實收 50.00 / 找續 5.00" below "應收 45.00"). The amount before
a discount or rounding loses to the one after it. A refund (a negative total, a "REFUND
TOTAL" or "退款金額" line) comes back negative with the warning "refund"; a receipt
titled as a refund or void whose total is printed as a sale keeps its value, with the
warning and a confidence staff must confirm.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from loyalchat.receipts.reading.parse.amounts import Amount, find_amounts, is_money_like
from loyalchat.receipts.reading.parse.labels import (
    TOTAL,
    Label,
    classify,
    find_labels,
    is_taxable_base,
    label_key,
)
from loyalchat.receipts.reading.parse.rows import Row, row_below
from loyalchat.receipts.reading.parse.text import fold

# The most a total repaired from other printed amounts is trusted.
MISREAD_CONFIDENCE = 0.7
# A total no label names, printed, and proven by both cash less change and the items.
NO_LABEL_PROVEN_CONFIDENCE = 0.85
# The most a total is trusted on a receipt titled as a refund or void but printed as a sale.
REFUND_TITLE_CONFIDENCE = 0.5

# A total label naming money going back ("REFUND TOTAL", "退款金額"), in folded text.
_REFUND_LABEL = re.compile(r"REFUND|退|应退|实退")
# A refund, void or credit note named on a line of its own ("** REFUND **", "退貨單"), not
# a notice about them ("NO REFUND", "貨物出門，恕不退款", "REFUND POLICY").
_REFUND_TITLE = re.compile(
    r"(?<![A-Z])(?:REFUND(?:ED)?|CREDIT\s?NOTE|VOID(?:ED)?)(?![A-Z])|退款|退货|作废|冲正|冲红"
)
_NOTICE = re.compile(
    r"(?<![A-Z])(?:NO|NOT|NON|POLICY|WITHIN|DAYS?|PLEASE|EXCHANGE|ONLY)(?![A-Z])|不|请|须|需|内|恕|如"
)
# A total-like word on what was handed over, when change follows: "實收 50.00 / 找續 5.00".
_RECEIVED_WORDS = ("PAID", "实收", "已收", "RECEIVED")
# "@6 X RM 1.01", "2 x $4.50": a quantity and unit price under an item, not a line amount
# (matched on the text before the amount, whose span already holds its currency mark).
_UNIT_PRICE = re.compile(r"(?:@|(?<![A-Z])[X×*](?![A-Z]))\s*-?$", re.I)
# A whole number at or above this is an id (a phone, an invoice or item code), not money.
_WHOLE_LIMIT = 1_000_000
# Whole units, a space, two digits, ending the row: cents whose point was lost.
_SPACED_CENTS = re.compile(r"(?<![\d.,])(\d{1,6}) (\d{2})\s*$")
# The strength of a plain "TOTAL" label.
_PLAIN_TOTAL = 0.9
# The most a rounding adjustment moves a total: to the nearest unit, half of it.
_MOST_ROUNDING = Decimal("0.50")
# A taxable amount before the tax ("supplies (excl. GST)", "不含税"), in folded text.
_EXCLUSIVE = re.compile(r"EXCL|不含税|未税|税前")
# Leaders printed between a label and its amount ("TOTAL ----- 45.00") are not a minus.
_LEADERS = "-=~_*."


@dataclass(slots=True)
class LineInfo:
    """One visual row as the total logic sees it."""

    index: int
    text: str
    label: Label | None
    amounts: list[Amount]  # money-like amounts from the label onwards, left to right
    confidence: float


@dataclass(frozen=True, slots=True)
class TotalChoice:
    value: Decimal
    confidence: float
    label: str
    currency: str | None
    row: int
    warnings: tuple[str, ...] = field(default_factory=tuple)


def describe_rows(rows: Sequence[Row], masked: Sequence[str]) -> list[LineInfo]:
    """Label and amounts for each row; ``masked`` is each row's text with dates/times blanked."""
    found = [find_amounts(text) for text in masked]
    whole_dollars = _in_whole_dollars(found)
    infos = []
    for i, (row, text) in enumerate(zip(rows, masked, strict=True)):
        label = classify(text)
        amounts = [a for a in found[i] if is_money_like(a)]
        if label is not None and label.kind != TOTAL:
            label = _second_pair(text, label, amounts)
        if label is not None and label.kind == TOTAL and not amounts and not whole_dollars:
            amounts = _point_lost(text, label)
        if (whole_dollars or (label is not None and label.kind == TOTAL)) and not amounts:
            # "合计 120", "TOTAL 45": whole numbers count beside a total label, and on a
            # receipt in whole dollars ("現金 600 / 找錢 29") everywhere.
            amounts = [a for a in found[i] if a.value < _WHOLE_LIMIT and a.start > 0]
        infos.append(LineInfo(i, text, label, amounts, row.confidence))
    return infos


def _point_lost(text: str, label: Label) -> list[Amount]:
    """ "GRAND TOTAL 10 00" on a receipt in cents: the decimal point read as a space."""
    m = _SPACED_CENTS.search(text, label.end)
    if m is None:
        return []
    value = Decimal(f"{m.group(1)}.{m.group(2)}")
    return [Amount(value, None, True, m.start(), m.end(), repaired=True)]


def _in_whole_dollars(rows: Iterable[Sequence[Amount]]) -> bool:
    """A receipt that prints no cents at all (NT$ 571, ¥ 38) counts in whole dollars."""
    return not any(a.has_cents for amounts in rows for a in amounts)


def _second_pair(text: str, label: Label, amounts: Sequence[Amount]) -> Label:
    """ "Total Saving 0.00 Total 77.20", "Qty: 6 Total Amount: RM31.60", "Qty 8 Rounding
    0.02": two labels with their amounts printed on one row; a plain or stronger total
    after the first pair, or any label after a count, governs the row (its amount is
    last). The first pair's amount is money, or a count."""
    later = [
        lab
        for lab in find_labels(text)
        if lab.start >= label.end
        and (
            (lab.kind == TOTAL and lab.strength >= _PLAIN_TOTAL)
            or (label.kind == "count" and lab.kind != "count")
        )
    ]
    if later and amounts and amounts[-1].end > later[0].end:  # "Total RM 11.60": RM in both
        between = [a for a in amounts if label.end <= a.start < later[0].start]
        counted = label.kind == "count" and bool(re.search(r"\d", text[label.end : later[0].start]))
        if any(a.has_cents for a in between) or (counted and not between):
            return later[0]
    return label


def _signed_negative(info: LineInfo, amount: Amount) -> bool:
    """A minus printed against the amount ("-45.00"), not the end of a row of leaders."""
    if amount.value >= 0:
        return False
    return not info.text[: amount.start].rstrip().endswith(tuple(_LEADERS))


def _value_of(infos: Sequence[LineInfo], rows: Sequence[Row], info: LineInfo) -> Amount | None:
    if info.amounts:
        return info.amounts[-1]  # the rightmost: "TOTAL 3 45.00" is 3 items, 45.00 paid
    below = row_below(rows, info.index)
    if below is None or len(rows[info.index].boxes) > 2:
        return None  # a row with several headings is a table header, not a label
    under = infos[info.index + 1]
    if under.label is None and under.amounts and len(under.amounts) <= 2:
        return under.amounts[-1]
    return None


def _first(infos: Sequence[LineInfo], kind: str, after: int = -1) -> list[Decimal]:
    return [
        abs(i.amounts[-1].value)
        for i in infos
        if i.label and i.label.kind == kind and i.amounts and i.index > after
    ]


def _subtotals(infos: Sequence[LineInfo]) -> list[LineInfo]:
    """Rows printing a subtotal or the total before tax, with their amount."""
    return [
        i for i in infos if i.label and i.label.kind in ("subtotal", "total_excl") and i.amounts
    ]


def _arithmetic_ok(value: Decimal, infos: Sequence[LineInfo], row: int | None = None) -> bool:
    """``value`` is a subtotal or the total before tax ("TOTAL EXCL. GST") with some of the
    tax, service, discount and rounding lines applied; or, given the total's ``row``, a
    total printed above it with some of the lines printed between them ("TOTAL 25.44 /
    ROUNDING 0.01 / AMOUNT TO BE PAID 25.45")."""
    subtotals = _subtotals(infos)
    adjust = _adjustments(infos)
    if subtotals and row is not None:
        rounding = _unlabelled_rounding(infos, subtotals[-1].index, row)
        adjust += [rounding, -rounding] if rounding is not None else []
    bases = [abs(i.amounts[-1].value) for i in subtotals[-2:]]
    if bases and _adds_up(bases, adjust, value, at_least=0):
        return True
    if row is None:
        return False
    above = [i for i in infos[:row] if i.label and i.label.kind == TOTAL and i.amounts]
    return any(
        _adds_up([abs(i.amounts[-1].value)], _adjustments(infos[i.index + 1 : row]), value)
        for i in above[-2:]
    )


def _supplies_add_up(value: Decimal, infos: Sequence[LineInfo]) -> bool:
    """ "Total 6% supplies (Inc. GST): 40.18 / Total 0% supplies: 25.32 / Total Payable:
    65.50": the supplies at each tax rate, tax included, add up to the total."""
    parts = {
        i.amounts[0].value  # signed: goods returned are negative supplies
        for i in infos
        if i.label
        and i.label.kind == "tax"
        and len(i.amounts) == 1
        and is_taxable_base(i.text)
        and not _EXCLUSIVE.search(fold(i.text))
    }
    return any(abs(a + b) == value for a, b in itertools.combinations(sorted(parts), 2))


def _adjustments(
    infos: Sequence[LineInfo], kinds: Sequence[str] = ("tax", "service", "discount", "rounding")
) -> list[Decimal]:
    """The tax, service, discount and rounding amounts printed (of ``kinds``), signed both
    ways where the receipt may print either ("ROUNDING 0.02" taken off or added)."""
    adjust = []
    for kind, sign in (
        ("tax", 1),
        ("service", 1),
        ("discount", -1),
        ("rounding", 1),
        ("rounding", -1),
    ):
        if kind in kinds:
            adjust += [sign * v for v in _first(infos, kind)[:2]]
    return adjust


def _unlabelled_rounding(infos: Sequence[LineInfo], after: int, before: int) -> Decimal | None:
    """The size of the first small amount alone on an unlabelled row between a subtotal and
    the total: "SUBTOTAL 39.37 / 零头 (0.07) / TOTAL 39.30" in a word the labels do not know."""
    for i in infos[after + 1 : before]:
        if i.label is None and len(i.amounts) == 1 and i.amounts[0].has_cents:
            size = abs(i.amounts[0].value)
            if Decimal(0) < size <= _MOST_ROUNDING:
                return size
    return None


def _adds_up(
    bases: Sequence[Decimal], adjust: Sequence[Decimal], value: Decimal, at_least: int = 1
) -> bool:
    """One of ``bases`` plus ``at_least`` (and at most three) of ``adjust`` is ``value``;
    with ``at_least`` 1, the adjustments must change something."""
    for base in bases:
        for n in range(at_least, min(3, len(adjust)) + 1):
            for combo in itertools.combinations(adjust, n):
                change = sum(combo, Decimal(0))
                if base + change == value and (change or not at_least):
                    return True
    return False


def _item_sums(infos: Sequence[LineInfo]) -> set[Decimal]:
    """What the item lines add up to, as the total may print it.

    "2 D15 8.90 17.80 / FR01 12.90 12.90 / TOTAL 30.70": the last amount of each unlabelled
    row above the first total or subtotal (not a lone unit price: "@6 X RM 1.01"), with
    every discount and rounding printed applied (the amount paid is after them) and each
    tax or service charge included or added (one amount on its row: a tax table's rows
    are not charges). Empty with fewer than two item lines.
    """
    whole_dollars = _in_whole_dollars(i.amounts for i in infos)
    items: list[Decimal] = []
    end = None  # the row that closed the items, when it was a subtotal of them
    for info in infos:
        if info.label is not None:
            if info.amounts and (
                info.label.kind in (TOTAL, "subtotal")
                or (info.label.kind == "count" and any(a.has_cents for a in info.amounts))
            ):
                if info.label.kind != TOTAL:
                    end = info.index
                break  # "TOTAL 30.70", "SUBTOTAL", "ITEM TOTAL 682.70" (not "9 ITEMS")
            continue
        if whole_dollars:
            line = _whole_item(info.amounts)
        else:
            cents = [a for a in info.amounts if a.has_cents]
            unit_price = len(cents) == 1 and _UNIT_PRICE.search(info.text[: cents[0].start])
            line = cents[-1].value if cents and not unit_price else None
        if line is None:
            continue
        if len(items) >= 2 and line == sum(items, Decimal(0)):
            end = info.index
            break  # a row printing the sum of the rows above is their subtotal
        items.append(line)
    if len(items) < 2:
        return set()

    def one_amount(kind: str) -> list[Decimal]:
        return [
            i.amounts[0].value
            for i in infos
            if i.label
            and i.label.kind == kind
            and len(i.amounts) == 1
            and i.amounts[0].value
            and not is_taxable_base(i.text)
        ]

    # The same discount printed again below ("YOU SAVED 80.20") is taken off once.
    discounts = list(dict.fromkeys(abs(v) for v in one_amount("discount")))
    # "ROUNDING RM 22.90" prints the rounded total, not an adjustment.
    roundings = [abs(v) for v in one_amount("rounding") if abs(v) <= _MOST_ROUNDING]
    # A charge keeps its sign: the tax on goods returned is negative.
    charges = one_amount("tax")[:2] + one_amount("service")[:2]
    if end is not None and not roundings:
        totals = [i.index for i in infos[end + 1 :] if i.label and i.label.kind == TOTAL]
        rounding = _unlabelled_rounding(infos, end, totals[0]) if totals else None
        roundings = [rounding] if rounding is not None else []
    if len(roundings) > 1:
        return set()  # which one applies is anybody's guess
    base = sum(items, Decimal(0)) - sum(discounts, Decimal(0))
    starts = [base + r for r in roundings] + [base - r for r in roundings] or [base]
    return {
        start + sum(combo, Decimal(0))
        for start in starts
        for n in range(len(charges) + 1)
        for combo in itertools.combinations(charges, n)
    }


def _whole_item(amounts: Sequence[Amount]) -> Decimal | None:
    """An item line in whole dollars: its amount is quantity times unit price, printed
    before it ("鐵板麵 3@70 210", "1 235 235"); a phone or table number is not."""
    values = [a.value for a in amounts]
    if len(values) < 3 or values[-1] <= 0:
        return None
    return values[-1] if values[-3] * values[-2] == values[-1] else None


def _paid_minus_change(infos: Sequence[LineInfo]) -> Decimal | None:
    for info in reversed(infos):
        if info.label and info.label.kind == "change" and info.amounts:
            change = abs(info.amounts[-1].value)
            tendered = [
                i
                for i in infos[: info.index]
                if i.label and i.label.kind == "tendered" and i.amounts
            ]
            if not tendered:
                # "TOTAL PAID 50.00 / CHANGE 34.60": what was handed over, named as paid.
                above = [i for i in infos[: info.index] if i.amounts][-1:]
                tendered = [
                    i for i in above if i.label and any(w in i.label.text for w in _RECEIVED_WORDS)
                ]
            if tendered:
                return abs(tendered[-1].amounts[-1].value) - change
    return None


def _tax_table_total(infos: Sequence[LineInfo], info: LineInfo) -> bool:
    """ "SR 6% 10.94 0.66 / TOTAL 10.94 0.66": the footer of a tax summary table."""
    if len(info.amounts) < 2 or info.amounts[-1].value >= info.amounts[0].value:
        return False
    values = [a.value for a in info.amounts]
    for above in infos[max(0, info.index - 4) : info.index]:
        if (above.label is None or above.label.kind == "tax") and [
            a.value for a in above.amounts[-len(values) :]
        ] == values:
            return True
    return False


def _tax_summary_row(infos: Sequence[LineInfo]) -> int:
    """The row of a "GST SUMMARY" heading, or past the last row when none is printed."""
    for i in infos:
        if (
            i.label is not None
            and i.label.kind == "tax"
            and not i.amounts
            and ("SUMMARY" in i.text.upper() or "汇总" in i.text or "匯總" in i.text)
        ):
            return i.index
    return len(infos)


def _after_tax_summary(infos: Sequence[LineInfo], row: int) -> bool:
    """Below a "GST SUMMARY" heading totals are per tax code, not the amount paid."""
    return _tax_summary_row(infos) < row


def _superseded(
    infos: Sequence[LineInfo],
    candidates: Sequence[tuple[LineInfo, Amount]],
    info: LineInfo,
    value: Decimal,
) -> bool:
    """ "TOTAL 11.60 / DISCOUNT 1.16 / TOTAL INCL GST 10.45": adjustments printed between
    two totals make the lower one the amount after them."""
    for later, amount in candidates:
        if later.index <= info.index or amount.value == value:
            continue
        assert later.label is not None
        if later.label.strength < 0.8 or _tax_table_total(infos, later):
            continue
        between = infos[info.index + 1 : later.index]
        if any(
            i.label
            and i.label.kind in ("discount", "tax", "service", "rounding")
            and any(a.value != 0 for a in i.amounts)
            for i in between
        ):
            return True
    return False


def choose_total(
    rows: Sequence[Row],
    infos: Sequence[LineInfo],
    known_labels: Sequence[str] = (),
    amount_range: tuple[Decimal, Decimal] | None = None,
) -> TotalChoice | None:
    """The total paid with a 0-1 confidence, or None if nothing looks like money."""
    candidates: list[tuple[LineInfo, Amount]] = []
    refunds: set[int] = set()  # rows whose total is money going back
    for info in infos:
        if info.label and info.label.kind == TOTAL and not _tax_table_total(infos, info):
            amount = _value_of(infos, rows, info)
            if amount is None or amount.value == 0:
                continue
            if amount.value < 0:
                printed_on = (
                    info if any(a is amount for a in info.amounts) else infos[info.index + 1]
                )
                if _signed_negative(printed_on, amount):
                    refunds.add(info.index)
                amount = _with_value(amount, -amount.value)
            if _REFUND_LABEL.search(info.label.text):
                refunds.add(info.index)
            candidates.append((info, amount))
    handed = _handed_over(infos, candidates)
    candidates = [c for c in candidates if c[0].index not in handed] or candidates
    excluded = {"tendered", "change", "count", "balance"}
    summary = _tax_summary_row(infos)
    pool = [
        a.value
        for i in infos
        if not (i.label and i.label.kind in excluded)
        and i.index not in handed
        and i.index <= summary  # a tax summary's rates and bases are not amounts paid
        for a in i.amounts
        if a.has_cents
    ]
    largest = max(pool, default=None)
    paid = _paid_minus_change(infos)
    payments = {
        abs(a.value) for i in infos if i.label and i.label.kind == "tendered" for a in i.amounts
    }
    known = {label_key(k) for k in known_labels}
    item_sums = _item_sums(infos)
    if not candidates:
        exact = None
        if paid is None and len(payments) == 1 and not _first(infos, "change"):
            exact = next(iter(payments))  # "SUBTOTAL 20.40 / CASH 20.40": paid exactly
        return _fallback(infos, paid, largest, item_sums, exact)

    def evidence(value: Decimal, row: int) -> list[str]:
        found = []
        if paid is not None and paid == value:
            found.append("paid_minus_change")
        if _arithmetic_ok(value, infos, row) or _supplies_add_up(value, infos):
            found.append("subtotal_arithmetic")
        if largest is not None and value == largest:
            found.append("largest_amount")
        if value in payments and "paid_minus_change" not in found:
            found.append("payment_amount")
        if value in item_sums and not any(
            a.value != value and a.value in item_sums for _, a in candidates
        ):
            # Two totals both reachable from the items (before and after the tax): no proof.
            found.append("items_sum")
        return found

    bottom = max(i.index for i, _ in candidates)
    scored = []
    for info, amount in candidates:
        assert info.label is not None
        agree = evidence(amount.value, info.index)
        same = sum(1 for _, a in candidates if a.value == amount.value)
        score = info.label.strength + 0.12 * len(agree) + 0.05 * (same - 1)
        score += 0.08 * info.index / max(bottom, 1)  # prefer the last strong label
        if label_key(info.label.text) in known:
            score += 0.15
        if len(info.amounts) > 2:
            score -= 0.2  # a table row (GST summary), not a total line
        if _superseded(infos, candidates, info, amount.value):
            score -= 0.15
        if _after_tax_summary(infos, info.index):
            score -= 0.2
        scored.append((score, info, amount, agree))
    scored.sort(key=lambda s: -s[0])
    score, info, amount, agree = scored[0]
    assert info.label is not None
    warnings: list[str] = []
    rounded = _rounded(infos, info.index, amount.value, paid)
    if rounded is not None:
        amount = _with_value(amount, rounded)
        agree = [*evidence(rounded, info.index), "rounding_applied"]
    else:
        rounded = _after_discount(infos, info.index, amount.value, paid)
        if rounded is not None:
            amount = _with_value(amount, rounded)
            agree = [*evidence(rounded, info.index), "discount_applied"]
    misread = rounded is None and _misread_digit(amount.value, paid, infos)
    if misread:
        assert paid is not None
        amount = Amount(paid, amount.currency, True, amount.start, amount.end, True)
        agree = evidence(paid, info.index)
        warnings.append("total_misread")
    elif rounded is None and not amount.has_cents and not agree:
        # "NETT AMOUNT HK$3550" on a receipt in cents: the decimal point was lost, as
        # the items, the subtotal or the payment of 355.50 say.
        cents = (amount.value / 100).quantize(Decimal("0.01"))
        proofs = set(evidence(cents, info.index)) - {"largest_amount"}
        if proofs and not _in_whole_dollars(i.amounts for i in infos):
            misread = True
            amount = Amount(cents, amount.currency, True, amount.start, amount.end, True)
            agree = sorted(proofs)
            warnings.append("total_misread")
    weights = {
        "paid_minus_change": 0.15,
        "subtotal_arithmetic": 0.15,
        "items_sum": 0.15,
        "payment_amount": 0.12,
    }
    confidence = (
        0.4 + 0.3 * info.label.strength + min(0.26, sum(weights.get(a, 0.06) for a in agree))
    )
    if label_key(info.label.text) in known:
        confidence += 0.08
    rivals = [s for s in scored[1:] if s[2].value != amount.value and s[1].label.strength >= 0.85]
    if rivals and score - rivals[0][0] < 0.15:
        confidence -= 0.25
        warnings.append("competing_totals")
    if paid is not None and paid != amount.value and paid > 0:
        confidence -= 0.25
        warnings.append("disagrees_with_change")
    if _charged_after(infos, info.index, amount.value):
        confidence -= 0.25
        warnings.append("charge_after_total")
    if (
        largest is not None
        and largest > amount.value
        and not {"subtotal_arithmetic", "items_sum", "paid_minus_change"} & set(agree)
        and info.index not in refunds
    ):
        confidence -= 0.12
        warnings.append("larger_amount_printed")
    if info.confidence < 0.8 or amount.repaired:
        confidence -= 0.12
        warnings.append("poorly_read")
    if amount_range is not None and not amount_range[0] <= amount.value <= amount_range[1]:
        confidence -= 0.3
        warnings.append("amount_outside_usual_range")
    if misread:
        confidence = min(confidence, MISREAD_CONFIDENCE)  # repaired: staff confirm it
    value = amount.value
    if info.index in refunds:
        value = -value  # money going back: never a purchase to credit
        warnings.append("refund")
    elif _refund_title(infos):
        warnings.append("refund")
        confidence = min(confidence, REFUND_TITLE_CONFIDENCE)
    confidence = max(0.05, min(0.98, confidence))
    return TotalChoice(
        value,
        round(confidence, 2),
        info.label.text,
        amount.currency,
        info.index,
        tuple(warnings),
    )


def _charged_after(infos: Sequence[LineInfo], row: int, value: Decimal) -> bool:
    """ "貨品總額 331.10 / 服務費(10%) 33.10 / 八達通 364.20": a charge printed below, and
    the amount with it printed further down, say the total read is before the charge."""
    after = infos[row + 1 :]
    for i, info in enumerate(after):
        if not (info.label and info.label.kind in ("service", "tax") and len(info.amounts) == 1):
            continue
        charge = info.amounts[0].value
        if charge > 0 and not is_taxable_base(info.text):
            if any(a.value == value + charge for later in after[i + 1 :] for a in later.amounts):
                return True
    return False


def _with_value(amount: Amount, value: Decimal) -> Amount:
    return Amount(value, amount.currency, True, amount.start, amount.end, amount.repaired)


def _handed_over(
    infos: Sequence[LineInfo], candidates: Sequence[tuple[LineInfo, Amount]]
) -> set[int]:
    """Rows of total-labelled amounts that are what was handed over: "應收 45.00 /
    實收 50.00 / 找續 5.00", where 50.00 less the change below it is another total."""
    changes = [
        (i.index, abs(i.amounts[-1].value))
        for i in infos
        if i.label and i.label.kind == "change" and i.amounts
    ]

    def handed_over(info: LineInfo, amount: Amount) -> bool:
        return any(
            row > info.index
            and change > 0
            and any(o is not info and a.value == amount.value - change for o, a in candidates)
            for row, change in changes
        )

    return {info.index for info, amount in candidates if handed_over(info, amount)}


def _after_discount(
    infos: Sequence[LineInfo],
    row: int,
    value: Decimal,
    paid: Decimal | None,
) -> Decimal | None:
    """ "TOTAL 100.00 / DISCOUNT 10.00 / CASH 100.00 / CHANGE 10.00": a discount printed
    below the total, and what was paid says it was taken off."""
    discounts = [
        abs(a.value)
        for i in infos
        if i.index > row and i.label and i.label.kind == "discount"
        for a in i.amounts[-1:]
        if a.value != 0
    ]
    paid_after = {
        abs(a.value)
        for i in infos
        if i.index > row and i.label and i.label.kind == "tendered"
        for a in i.amounts
    }
    for n in (1, 2):
        for combo in itertools.combinations(discounts, n):
            option = value - sum(combo, Decimal(0))
            if option > 0 and (option == paid or option in paid_after):
                return option
    return None


def _refund_title(infos: Sequence[LineInfo]) -> bool:
    """A line of its own names a refund, a void or a credit note (not a notice about them)."""
    for info in infos:
        folded = fold(info.text)
        if (
            _REFUND_TITLE.search(folded)
            and not _NOTICE.search(folded)
            and not info.amounts
            and len(folded) <= 24
        ):
            return True
    return False


def _misread_digit(value: Decimal, paid: Decimal | None, infos: Sequence[LineInfo]) -> bool:
    """ "NET TOTAL 35.20 / CASH 100.20 / CHANGE 15.00" under "SUBTOTAL 85.20": one digit of
    the total was misread (3 for 8), as cash minus change and the subtotal both say."""
    if paid is None or paid <= 0 or paid == value:
        return False
    a, b = f"{value:.2f}", f"{paid:.2f}"
    if len(a) != len(b) or sum(x != y for x, y in zip(a, b, strict=True)) != 1:
        return False
    return _arithmetic_ok(paid, infos)


def _rounded(
    infos: Sequence[LineInfo], row: int, value: Decimal, paid: Decimal | None
) -> Decimal | None:
    # "TOTAL 14.38 / ROUNDING ADJ 0.02 / (ROUNDED) 14.40": the amount paid is the rounded
    # one, if it is printed below the total or equals cash tendered minus change (or, with
    # no change printed, the payment: "TOTAL 71.02 / ROUNDING -0.02 / CASH 71.00").
    after = [i for i in infos if i.index > row]
    payments = {
        abs(a.value)
        for i in after
        if paid is None and i.label and i.label.kind == "tendered"
        for a in i.amounts
    }
    adjustments = [
        abs(a.value) for i in after if i.label and i.label.kind == "rounding" for a in i.amounts
    ]
    printed = {
        a.value
        for i in after
        if not (i.label and i.label.kind in ("tendered", "change"))
        for a in i.amounts
    }
    for adj in adjustments:
        if Decimal(0) < adj <= _MOST_ROUNDING:
            for option in (value + adj, value - adj):
                if option in printed or option == paid or option in payments:
                    return option
    # Cash rounded to 5 cents: "ROUNDING -0.02 / TOTAL 112.46 / CASH 112.45 / CHANGE 0.00".
    has_rounding = any(i.label and i.label.kind == "rounding" for i in infos)
    if (
        has_rounding
        and paid is not None
        and paid > 0
        and paid != value
        and abs(paid - value) < Decimal("0.05")
        and paid % Decimal("0.05") == 0
    ):
        return paid
    return None


def _fallback(
    infos: Sequence[LineInfo],
    paid: Decimal | None,
    largest: Decimal | None,
    item_sums: set[Decimal],
    exact: Decimal | None = None,
) -> TotalChoice | None:
    # No total label with an amount: a guess for staff to confirm; confident only when
    # what was paid (cash less change, or the one payment when no change is printed) is
    # printed as an amount the item lines add up to, or is the amount before tax with the
    # tax: proofs that do not depend on the payment ("SUBTOTAL 96.20 / CASH 100.00 /
    # CHANGE 3.80", "SUBTOTAL 20.40 / CASH 20.40").
    bases = [abs(i.amounts[-1].value) for i in _subtotals(infos)]
    charges = [a for a in _adjustments(infos, ("tax", "service", "discount")) if a]

    def proven(value: Decimal) -> bool:
        printed = any(
            a.value == value
            for i in infos
            if not (i.label and i.label.kind in ("tendered", "change"))
            for a in i.amounts
        )
        # "TOTAL EXCL.GST 28.11 / GST 1.69 / CASH 50.00 / CHANGE 20.20": the amount before
        # tax with the tax (or a discount) is what was paid. (Not a rounding: which side
        # of it the shop calls its total is for staff to say.)
        return (printed and value in item_sums) or _adds_up(bases[-2:], charges, value)

    if paid is None and exact is not None and exact > 0 and proven(exact):
        paid = exact
    if paid is not None and paid > 0:
        confidence = NO_LABEL_PROVEN_CONFIDENCE if proven(paid) else 0.45
        return TotalChoice(paid, confidence, "", None, -1, ("no_total_label",))
    if largest is not None and largest > 0:
        return TotalChoice(largest, 0.25, "", None, -1, ("no_total_label",))
    return None
