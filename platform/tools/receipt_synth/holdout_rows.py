"""Printed rows for held-out receipts: POS templates that ``rows`` never produces.

Totals on the line under their label, inline after a colon, centred, or boxed between
double rules; a title above the shop's name; items with a unit-price column, a shelf
code or "x2"; the date next to the receipt number or at the bottom; negative amounts as
``-12.00``, ``(12.00)`` or ``12.00-``. Drawing is ``layout``'s, as for every receipt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from loyalchat.tools.receipt_synth import vocab_holdout as words
from loyalchat.tools.receipt_synth.holdout import HoldoutSpec
from loyalchat.tools.receipt_synth.rows import Row


@dataclass
class HoldoutTemplate:
    """Per-receipt layout choices, drawn once from the render rng."""

    item_format: str  # at_price, code_lines, name_x_qty, unit_col
    column_header: tuple[str, str, str, str] | None
    sep_char: str
    total_layout: str  # right, below, inline, centered, boxed
    total_emphasis: str
    date_position: str  # top, with_number, bottom
    money_on_total: bool
    negative: str  # minus, parens, trailing


def choose_template(spec: HoldoutSpec, rng: random.Random) -> HoldoutTemplate:
    item_format = rng.choice(("at_price", "code_lines", "name_x_qty", "unit_col"))
    header = rng.choice(words.COLUMN_HEADERS[spec.region]) if rng.random() < 0.6 else None
    layout = rng.choice(("right", "right", "below", "inline", "centered", "boxed"))
    emphasis = rng.choice(("", "bold", "large", "tall"))
    if layout == "right" and not spec.refund and rng.random() < 0.1:
        emphasis = "hand"
    return HoldoutTemplate(
        item_format=item_format,
        column_header=header,
        sep_char=rng.choice(("-", "=", "~", "_", "line", "*")),
        total_layout=layout,
        total_emphasis=emphasis,
        date_position=rng.choice(("top", "top", "with_number", "bottom")),
        money_on_total=rng.random() < 0.6,
        negative=rng.choice(("minus", "minus", "parens", "trailing")),
    )


def amount(spec: HoldoutSpec, tpl: HoldoutTemplate, value: Decimal, money: bool = False) -> str:
    """An amount as this receipt prints it, negatives in the template's way."""
    text = spec.money_text(abs(value)) if money else spec.amount_text(abs(value))
    if value >= 0:
        return text
    return {"minus": f"-{text}", "parens": f"({text})", "trailing": f"{text}-"}[tpl.negative]


def build_rows(spec: HoldoutSpec, rng: random.Random) -> list[Row]:
    """All rows of the receipt, top to bottom."""
    tpl = choose_template(spec, rng)
    sep = Row(kind="sep", sep_char=tpl.sep_char)
    rows = [Row(center=title, scale=rng.choice((1.0, 1.15)), emphasis="bold")
            for title in spec.title_lines]  # fmt: skip
    rows.append(Row(center=spec.merchant, scale=rng.choice((1.2, 1.4, 1.6)), emphasis="bold"))
    rows += [Row(center=line, scale=rng.choice((0.85, 0.9, 1.0))) for line in spec.header_lines]
    rows += [Row(kind="gap"), sep]
    rows += _meta_rows(spec, tpl, rng)
    rows.append(sep)
    rows += _item_rows(spec, tpl, rng)
    rows.append(sep)
    for charge in spec.charges:
        if charge.kind == "count":
            rows.append(Row(left=charge.label))
        else:
            rows.append(Row(left=charge.label, right=amount(spec, tpl, charge.amount)))
    rows += _total_rows(spec, tpl, sep)
    if spec.payments:
        rows.append(sep)
    for payment in spec.payments:
        rows.append(Row(left=payment.label, right=amount(spec, tpl, payment.amount)))
        if payment.change is not None and payment.change_label:
            rows.append(Row(left=payment.change_label, right=amount(spec, tpl, payment.change)))
        for label, value in payment.extra:
            rows.append(Row(left=label, right=value, scale=0.9))
    for label, value in spec.extra_lines:
        if rng.random() < 0.5:
            rows.append(Row(left=f"{label}: {value}", scale=0.9))
        else:
            rows.append(Row(left=label, right=value, scale=0.9))
    if tpl.date_position == "bottom":
        rows += [sep, *_date_rows(spec, rng)]
    rows += [sep, Row(kind="gap")]
    rows += [Row(center=line) for line in spec.footer_lines]
    if spec.qr_payload:
        rows += [Row(kind="gap"), Row(kind="qr", payload=spec.qr_payload)]
    return [*rows, Row(kind="gap"), Row(kind="gap")]


def _total_rows(spec: HoldoutSpec, tpl: HoldoutTemplate, sep: Row) -> list[Row]:
    text = amount(spec, tpl, spec.total, money=tpl.money_on_total)
    emphasis = tpl.total_emphasis
    scale = 1.35 if emphasis == "large" else 1.0
    label = spec.total_label
    if tpl.total_layout == "below":
        return [Row(left=label), Row(right=text, scale=max(scale, 1.2), emphasis=emphasis)]
    if tpl.total_layout == "inline":
        inline = "bold" if emphasis == "hand" else emphasis
        return [Row(left=f"{label}: {text}", scale=scale, emphasis=inline)]
    if tpl.total_layout == "centered":
        return [Row(center=label), Row(center=text, scale=1.4, emphasis="bold")]
    if tpl.total_layout == "boxed":
        double = Row(kind="sep", sep_char="=")
        return [double, Row(left=label, right=text, emphasis="tall"), double]
    return [Row(left=label, right=text, scale=scale, emphasis=emphasis)]


def _item_rows(spec: HoldoutSpec, tpl: HoldoutTemplate, rng: random.Random) -> list[Row]:
    rows = []
    if tpl.column_header and tpl.item_format in ("unit_col", "at_price"):
        name, qty, unit, total = tpl.column_header
        rows += [Row(left=name, mid=f"{qty}  {unit}", right=total), Row(kind="sep", sep_char=".")]
    elif tpl.column_header:
        rows += [Row(left=tpl.column_header[0], right=tpl.column_header[3])]
    for item in spec.items:
        value = amount(spec, tpl, item.amount)
        unit = spec.amount_text(item.unit_price)
        if tpl.item_format == "unit_col":
            rows.append(Row(left=item.name, mid=f"{item.qty}  {unit}", right=value))
        elif tpl.item_format == "at_price":
            rows.append(Row(left=item.name, mid=f"{item.qty}@{unit}", right=value))
        elif tpl.item_format == "name_x_qty":
            rows.append(Row(left=f"{item.name} x{abs(item.qty)}", right=value))
        else:
            rows.append(Row(left=item.name))
            rows.append(Row(left=f"    {item.qty} X {unit}", right=value))
        if rng.random() < 0.05 and not spec.refund:  # a free add-on printed at zero
            extra = rng.choice(("走冰", "少甜", "No Ice", "加辣"))
            rows.append(Row(left=f"  +{extra}", right=spec.amount_text(Decimal(0))))
    return rows


def _date_rows(spec: HoldoutSpec, rng: random.Random) -> list[Row]:
    date = f"{spec.date_label}: {spec.date_text}" if spec.date_label else spec.date_text
    if not spec.time_text:
        return [Row(left=date)]
    if rng.random() < 0.5:
        return [Row(left=f"{date} {spec.time_text}")]
    if rng.random() < 0.5:
        return [Row(left=date, right=spec.time_text)]
    return [Row(left=date), Row(left=f"{words.TIME_LABELS[spec.region]}: {spec.time_text}")]


def _meta_rows(spec: HoldoutSpec, tpl: HoldoutTemplate, rng: random.Random) -> list[Row]:
    number = f"{spec.receipt_no_label}: {spec.receipt_no}"
    rows = []
    if tpl.date_position == "with_number":
        when = f"{spec.date_text} {spec.time_text}" if spec.time_text else spec.date_text
        rows.append(Row(left=when, right=f"#{spec.receipt_no}"))
    elif tpl.date_position == "top":
        rows += [*_date_rows(spec, rng), Row(left=number)]
    else:
        rows.append(Row(left=number))
    meta = [f"{label}: {value}" for label, value in spec.meta_lines]
    rng.shuffle(meta)
    if len(meta) >= 2 and rng.random() < 0.5:
        rows.append(Row(left=meta.pop(), right=meta.pop()))
    return [*rows, *(Row(left=text) for text in meta)]
