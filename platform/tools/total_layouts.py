"""Text-level receipts for the total ranker: the ways shops print a total and its rivals.

The photographed training receipts (the development part of ``../shared/receipts`` and the
base-vocabulary synthetic photos) rarely show some layouts the reader must handle: what was
handed over printed under a total-like word ("應收 45.00 / 實收 50.00 / 找續 5.00"), a
subtotal printed after the payment, the amount before rounding or a discount above the
one paid, a stored-value balance. These are generated here directly as OCR lines (no
photo, no OCR), with random items, amounts and wording in English, Chinese and Malay, so
the ranker learns the arithmetic of each layout rather than a vocabulary.
"""

from __future__ import annotations

import random
from decimal import Decimal

from loyalchat.extensions.ocr import OcrLine

TOTALS = (
    "TOTAL",
    "GRAND TOTAL",
    "NETT TOTAL",
    "AMOUNT DUE",
    "合計",
    "總計",
    "應收",
    "合计",
    "应付",
)
RECEIVED = ("實收", "实收", "PAID", "AMOUNT RECEIVED", "已收")
CASH = ("CASH", "TENDERED", "現金", "现金", "TUNAI")
CHANGE = ("CHANGE", "找續", "找零", "BAKI")
SUBTOTAL = ("SUBTOTAL", "SUB-TOTAL", "小計", "小计")
TAX = ("SST 6%", "GST 6%", "SERVICE CHARGE 10%", "服務費 10%")
ROUNDING = ("ROUNDING", "ROUNDING ADJ", "捨入")
BEFORE_ROUNDING = ("TOTAL BEFORE ROUNDING", "TOTAL", "SUBTOTAL")
DISCOUNT = ("DISCOUNT", "折扣", "MEMBER DISCOUNT")
BALANCE = ("OCTOPUS BALANCE", "八達通餘額", "CARD BALANCE", "REMAINING VALUE")
ITEMS = ("NASI LEMAK", "TEH TARIK", "MILK 1L", "BREAD", "三哥米線", "奶茶", "叉燒飯", "COFFEE")
PATTERNS = ("plain", "handed", "subtotal_below", "rounding", "discount", "balance")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _row_lines(rows: list[list[str]], rng: random.Random) -> list[OcrLine]:
    lines = []
    for i, parts in enumerate(rows):
        y = 20 + i * 40 + rng.uniform(-2, 2)
        if len(parts) == 1:
            lines.append(_box(parts[0], 60, y))
            continue
        lines.append(_box(parts[0], 20, y))
        lines.append(_box(parts[-1], 310, y + 1.5, width=110))
    return lines


def _box(text: str, x: float, y: float, width: float | None = None) -> OcrLine:
    w = width if width is not None else 14 * max(len(text), 1)
    return OcrLine(text, ((x, y), (x + w, y), (x + w, y + 24), (x, y + 24)), 0.97)


def layout(rng: random.Random, pattern: str) -> tuple[list[OcrLine], Decimal]:
    """One receipt of ``pattern`` as OCR lines, and the total paid."""
    items = [
        (rng.choice(ITEMS), Decimal(rng.randint(150, 4000)) / 100) for _ in range(rng.randint(1, 4))
    ]
    rows: list[list[str]] = [["SHOP " + str(rng.randint(1, 999))]]
    rows += [[name, _money(price)] for name, price in items]
    sub = sum((p for _, p in items), Decimal(0))
    total = sub
    if pattern == "rounding":
        adj = Decimal(rng.choice((1, 2))) / 100 * rng.choice((1, -1))
        total = sub + adj
        rows += [
            [rng.choice(BEFORE_ROUNDING), _money(sub)],
            [rng.choice(ROUNDING), _money(adj)],
            [rng.choice(TOTALS), _money(total)],
        ]
    elif pattern == "discount":
        off = (sub * Decimal(rng.choice((5, 10, 20))) / 100).quantize(Decimal("0.01"))
        total = sub - off
        rows += [
            [rng.choice(SUBTOTAL), _money(sub)],
            [rng.choice(DISCOUNT), "-" + _money(off)],
            [rng.choice(TOTALS), _money(total)],
        ]
    elif rng.random() < 0.5 and pattern != "subtotal_below":
        tax = (sub * Decimal(rng.choice((6, 10))) / 100).quantize(Decimal("0.01"))
        total = sub + tax
        rows += [
            [rng.choice(SUBTOTAL), _money(sub)],
            [rng.choice(TAX), _money(tax)],
            [rng.choice(TOTALS), _money(total)],
        ]
    else:
        rows.append([rng.choice(TOTALS), _money(total)])
    given = (total / 10).to_integral_value(rounding="ROUND_CEILING") * 10
    if given == total:
        given += 10
    change = given - total
    if pattern == "handed":
        rows += [[rng.choice(RECEIVED), _money(given)], [rng.choice(CHANGE), _money(change)]]
    elif pattern == "balance":
        rows += [[rng.choice(BALANCE), _money(Decimal(rng.randint(1000, 50000)) / 100)]]
    else:
        rows += [[rng.choice(CASH), _money(given)], [rng.choice(CHANGE), _money(change)]]
    if pattern == "subtotal_below":
        rows.append([rng.choice(SUBTOTAL), _money(sub - Decimal(rng.randint(1, 300)) / 100)])
    return _row_lines(rows, rng), total


def layouts(count: int, seed: int) -> list[tuple[list[OcrLine], Decimal]]:
    """``count`` receipts, the patterns in turn."""
    rng = random.Random(seed)
    return [layout(rng, PATTERNS[k % len(PATTERNS)]) for k in range(count)]
