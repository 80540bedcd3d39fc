"""Turn a ``ReceiptSpec`` into printed rows: which text goes left, right or centred.

This is the POS "template": column headers, item line formats, where the date sits,
how the total is emphasised. The drawing itself is in ``layout``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from loyalchat.tools.receipt_synth.spec import ReceiptSpec

COLUMN_HEADERS = {
    "hk": (("品名", "數量", "金額"), ("Item", "Qty", "Amount"), ("貨品 Item", "數量", "金額 Amt")),
    "cn": (("商品名称", "数量", "金额"), ("品名", "数量", "小计")),
    "en": (("ITEM", "QTY", "AMOUNT"), ("Description", "Qty", "Amt")),
}


@dataclass
class Row:
    """One printed line. ``emphasis``: "", "bold", "large", "tall" or "hand"."""

    left: str = ""
    right: str = ""
    center: str = ""
    mid: str = ""  # a quantity column, right-aligned at ``mid_x`` of the width
    kind: str = "text"  # text, sep, gap, qr
    scale: float = 1.0
    emphasis: str = ""
    sep_char: str = "-"
    payload: str = ""


@dataclass
class Template:
    """Per-receipt layout choices, drawn once from the render rng."""

    item_format: str  # columns, two_line, qty_first
    column_header: tuple[str, str, str] | None
    sep_char: str
    total_emphasis: str
    date_layout: str  # one_line, split, labelled
    money_on_items: bool


def choose_template(spec: ReceiptSpec, rng: random.Random) -> Template:
    headers = COLUMN_HEADERS[spec.style]
    emphasis = rng.choices(("", "bold", "large", "tall", "hand"), weights=(3, 3, 3, 2, 1))[0]
    return Template(
        item_format=rng.choice(("columns", "columns", "two_line", "qty_first")),
        column_header=rng.choice(headers) if rng.random() < 0.5 else None,
        sep_char=rng.choice(("-", "-", "=", "*", ".", "line")),
        total_emphasis=emphasis,
        date_layout=rng.choice(("one_line", "split", "labelled")),
        money_on_items=rng.random() < 0.15,
    )


def build_rows(spec: ReceiptSpec, tpl: Template, rng: random.Random) -> list[Row]:
    """All rows of the receipt, top to bottom."""
    sep = Row(kind="sep", sep_char=tpl.sep_char)
    rows = [Row(center=spec.merchant, scale=rng.choice((1.3, 1.5, 1.7)), emphasis="bold")]
    for line in spec.header_lines:
        rows.append(Row(center=line, scale=rng.choice((0.85, 0.9, 1.0))))
    rows += [Row(kind="gap"), sep]
    rows += _meta_rows(spec, tpl, rng)
    rows.append(sep)
    if tpl.column_header:
        name, qty, amount = tpl.column_header
        rows.append(Row(left=name, mid=qty if tpl.item_format == "columns" else "", right=amount))
        rows.append(sep)
    for item in spec.items:
        amount = spec.amount_text(item.amount)
        if tpl.money_on_items:
            amount = spec.money_text(item.amount)
        if tpl.item_format == "columns":
            rows.append(Row(left=item.name, mid=str(item.qty), right=amount))
        elif tpl.item_format == "qty_first":
            rows.append(Row(left=f"{item.qty} {item.name}", right=amount))
        elif item.qty == 1 and rng.random() < 0.7:
            rows.append(Row(left=item.name, right=amount))
        else:
            rows.append(Row(left=item.name))
            unit = spec.amount_text(item.unit_price)
            rows.append(Row(left=f"   {item.qty} x {unit}", right=amount))
    rows.append(sep)
    for charge in spec.charges:
        if charge.kind == "count":
            rows.append(Row(left=f"{charge.label}: {int(charge.amount)}"))
            continue
        value = spec.amount_text(charge.amount)
        if charge.kind == "discount" and rng.random() < 0.3:
            value = f"({spec.amount_text(-charge.amount)})"
        rows.append(Row(left=charge.label, right=value))
    with_mark = rng.random() < (0.4 if tpl.total_emphasis == "hand" else 0.75)
    total_text = spec.money_text(spec.total) if with_mark else spec.amount_text(spec.total)
    scale = {"large": 1.35, "tall": 1.0, "hand": 1.0}.get(tpl.total_emphasis, 1.0)
    if tpl.total_emphasis in ("large", "tall") and rng.random() < 0.5:
        rows.append(sep)
    rows.append(
        Row(left=spec.total_label, right=total_text, scale=scale, emphasis=tpl.total_emphasis)
    )
    if spec.payments:
        rows.append(sep)
    for payment in spec.payments:
        rows.append(Row(left=payment.label, right=spec.amount_text(payment.amount)))
        if payment.change is not None and payment.change_label:
            rows.append(Row(left=payment.change_label, right=spec.amount_text(payment.change)))
        for label, value in payment.extra:
            rows.append(Row(left=f"{label}: {value}", scale=0.9))
    rows += [sep, Row(kind="gap")]
    for line in spec.footer_lines:
        rows.append(Row(center=line))
    if spec.qr_payload:
        rows += [Row(kind="gap"), Row(kind="qr", payload=spec.qr_payload)]
    rows += [Row(kind="gap"), Row(kind="gap")]
    return rows


def _meta_rows(spec: ReceiptSpec, tpl: Template, rng: random.Random) -> list[Row]:
    rows = []
    number = f"{spec.receipt_no_label}: {spec.receipt_no}"
    date = f"{spec.date_label}: {spec.date_text}" if spec.date_label else spec.date_text
    meta = [f"{label}: {value}" for label, value in spec.meta_lines]
    if tpl.date_layout == "one_line":
        when = f"{date} {spec.time_text}" if spec.time_text else date
        rows.append(Row(left=number))
        rows.append(Row(left=when))
    elif tpl.date_layout == "split":
        rows.append(Row(left=date, right=spec.time_text or ""))
        rows.append(Row(left=number, right=meta.pop(0) if meta else ""))
    else:
        time_label = {"hk": "時間", "cn": "时间", "en": "Time"}[spec.style]
        rows.append(Row(left=number))
        rows.append(Row(left=date))
        if spec.time_text:
            rows.append(Row(left=f"{time_label}: {spec.time_text}"))
    rng.shuffle(meta)
    rows += [Row(left=text) for text in meta]
    return rows
