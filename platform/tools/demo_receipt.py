"""Photos of the demo shop's receipts (Demo Café 示範咖啡), drawn with the receipt synthesiser.

The demo's month of history sends these through the real receipt pipeline, and outside
scripts and the e2e tests send them to the demo shop (``loyalchat demo receipt --total
123.40 --out receipt.jpg``): a Hong Kong café receipt, Traditional Chinese and English,
the total and date asked for, photographed on a table. ``merchant="other"`` draws another
shop's receipt (the merchant check rejects it). Needs Debian's ``fonts-noto-cjk``.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from loyalchat.tools.receipt_synth.augment import photograph
from loyalchat.tools.receipt_synth.layout import render_receipt
from loyalchat.tools.receipt_synth.spec import CENT, Item, Payment, ReceiptSpec

# What the demo shop's receipt profile knows it by (commands/demo_receipts.py).
DEMO_NAMES = ("DEMO CAFE", "Demo Café", "示範咖啡")
DEMO_BRANCHES = ("示範咖啡 中環店", "Demo Café Central")


@dataclass(frozen=True)
class Shop:
    name: str  # the big line at the top
    header: tuple[str, ...]  # the other names, branch, address, phone
    items: tuple[tuple[str, Decimal], ...]  # the menu drawn from, (name, price)
    footer: tuple[str, ...]


SHOPS = {
    "demo": Shop(
        name="示範咖啡",
        header=(
            "DEMO CAFE",
            "(中環店) Central Branch",
            "中環士丹利街 28 號地下",
            "電話 Tel: 2123 4567",
        ),
        items=(
            ("手沖咖啡 Hand-drip", Decimal("48.00")),
            ("鮮奶咖啡 Latte", Decimal("38.00")),
            ("芝士蛋糕 Cheesecake", Decimal("42.00")),
            ("牛角包 Croissant", Decimal("22.00")),
            ("火腿三文治 Sandwich", Decimal("45.00")),
        ),
        footer=("多謝惠顧 Thank you!",),
    ),
    "other": Shop(
        name="麥田麵包工房",
        header=(
            "WHEATFIELD BAKERY",
            "旺角彌敦道 612 號地下",
            "電話 Tel: 2388 1188",
        ),
        items=(
            ("菠蘿包 Pineapple bun", Decimal("9.50")),
            ("蛋撻 Egg tart", Decimal("8.00")),
            ("生日蛋糕 Birthday cake", Decimal("168.00")),
        ),
        footer=("歡迎再次光臨",),
    ),
}
# The synthesiser's drawing choices (font, paper width, columns, how the total stands out)
# come from a seed: these read well with rapidocr (tests/test_demo_receipts.py). Receipts
# of one shop drawn alike have close perceptual hashes, which the duplicate check sends to
# review ("looks_alike"); the demo's month varies the look from photo to photo among
# HISTORY_LOOKS and leaves LOOK, the default, to the receipts people and scripts send.
LOOK = 0
SET_MEAL = "套餐 Set meal"  # an unpaid bill's one line
HISTORY_LOOKS = (3, 5, 8, 11)


def demo_receipt_spec(
    total: Decimal,
    on: date,
    *,
    at: time = time(12, 34),
    receipt_no: str = "",
    shop: str = "demo",
    paid: bool = True,
) -> ReceiptSpec:
    """The receipt's content: items that add up to ``total``, paid by Octopus. Without
    ``paid`` it is a bill of one line (a set meal) with no payment line: nothing else on
    it repeats or adds up to the total, so the reader is less sure of it (the pipeline
    then asks the member to confirm the amount)."""
    total = Decimal(total).quantize(CENT)
    if total <= 0:
        raise ValueError("a receipt's total is above 0")
    kind = SHOPS[shop]
    items: list[Item] = []
    left = total
    for name, price in kind.items:
        if left - price < Decimal("10.00"):
            break
        items.append(Item(name, 1, price))
        left -= price
    items.append(Item(kind.items[-1][0] if items else kind.items[0][0], 1, left))
    if not paid:
        items = [Item(SET_MEAL, 1, total)]
    number = receipt_no or f"{on:%y%m%d}-{int(total * 100) % 10000:04d}"
    return ReceiptSpec(
        seed=0,
        style="hk",
        lang="zh-Hant",
        shop_kind="cafe",
        currency="HKD",
        currency_mark="HK$",
        mark_suffix=False,
        thousands=True,
        merchant=kind.name,
        merchant_aliases=(kind.name, kind.header[0]),
        header_lines=kind.header,
        date=on,
        time=at,
        date_text=f"{on:%Y-%m-%d}",
        time_text=f"{at:%H:%M}",
        date_label="日期 Date",
        receipt_no=number,
        receipt_no_label="單號 No.",
        meta_lines=(("收銀員 Cashier", "03"),),
        items=tuple(items),
        charges=(),
        total=total,
        # An unpaid bill says what is due, under a label the demo's profile does not know.
        total_label="總計 TOTAL" if paid else "應付 AMOUNT DUE",
        payments=(
            (Payment("octopus", "八達通 Octopus", total, extra=(("八達通號碼", "12345678(3)"),)),)
            if paid
            else ()
        ),
        footer_lines=kind.footer,
        qr_payload=None,
    )


def draw_demo_receipt(
    total: Decimal | str,
    on: date,
    *,
    at: time = time(12, 34),
    receipt_no: str = "",
    shop: str = "demo",
    paid: bool = True,
    look: int = LOOK,
    photo_seed: int = 0,
    difficulty: float = 0.2,
) -> bytes:
    """A JPEG photo of the receipt. The same arguments give the same bytes; another
    ``photo_seed`` is another photo of the same paper (its hash differs), another
    ``look`` (:data:`LOOK` or one of :data:`HISTORY_LOOKS`) the same receipt from another till's printer."""
    spec = demo_receipt_spec(Decimal(total), on, at=at, receipt_no=receipt_no, shop=shop, paid=paid)
    paper = render_receipt(spec, random.Random(f"demo-cafe-look-{look}"))
    picture, _ = photograph(paper, random.Random(f"photo:{photo_seed}"), difficulty)
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()
