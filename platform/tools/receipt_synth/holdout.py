"""Receipts for a held-out benchmark (``--vocab holdout``): new shops, wording and formats.

Same three styles as ``content`` (hk, cn, en), but every word comes from
``vocab_holdout`` and the formats are ones ``content`` never prints: eight-digit and
unpadded dates, ROC (民國) years on Taiwanese receipts of the hk style, weekdays, 上午 /
下午 times, whole-dollar NT$ amounts, lines with the amount before a discount or rounding,
stored-value balances, loyalty points and savings after the payment, titles above the
shop's name, and refunds (a negative total). The seed space is separate from
``make_spec``'s: the same seed gives unrelated receipts in the two vocabularies.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from loyalchat.tools.receipt_synth import vocab_holdout as words
from loyalchat.tools.receipt_synth.payments import _tendered
from loyalchat.tools.receipt_synth.spec import CENT, Charge, Item, Payment, ReceiptSpec

LANGS = {"hk": "zh-Hant", "tw": "zh-Hant", "cn": "zh-Hans", "en": "en"}
PRICE_FACTOR = {"HKD": 1.0, "TWD": 4.1, "CNY": 0.92, "SGD": 0.17, "MYR": 0.6}
PRICE_STEPS = {
    "HKD": ("1", "0.5", "0.1"),
    "TWD": ("1", "5", "5", "10"),
    "CNY": ("0.1", "0.5", "1", "0.01"),
    "SGD": ("0.05", "0.1", "0.01"),
    "MYR": ("0.1", "0.05", "0.01"),
}
RESTAURANTS = frozenset({"noodle", "dimsum", "hotpot", "dumpling", "dessert"})
REFUND_SHARE = 0.06


@dataclass(frozen=True)
class HoldoutSpec(ReceiptSpec):
    """A ``ReceiptSpec`` with the held-out extras; a refund has a negative total."""

    vocab: str = "holdout"
    region: str = "hk"  # hk, tw, cn, en
    refund: bool = False
    title_lines: tuple[str, ...] = ()  # printed above the shop's name
    extra_lines: tuple[tuple[str, str], ...] = ()  # after the payment: points, savings
    whole_units: bool = False  # NT$: amounts printed without cents

    def is_consistent(self) -> bool:
        counted = sum((c.amount for c in self.charges if c.counted), Decimal("0.00"))
        if self.subtotal + counted != self.total or not self.total:
            return False
        if self.refund != (self.total < 0):
            return False
        for charge in self.charges:
            if charge.kind == "subtotal" and charge.amount != self.subtotal:
                return False
        paid = sum((p.amount - (p.change or 0) for p in self.payments), Decimal("0.00"))
        return not self.payments or paid == self.total

    def amount_text(self, value: Decimal) -> str:
        if not self.whole_units:
            return super().amount_text(value)
        text = f"{abs(value):,.0f}" if self.thousands else f"{abs(value):.0f}"
        return f"-{text}" if value < 0 else text


def make_holdout_spec(seed: int, style: str, *, today: dt.date) -> HoldoutSpec:
    """The held-out receipt for ``seed`` in ``style`` (hk, cn, en), dated up to 120 days back."""
    if style not in ("hk", "cn", "en"):
        raise ValueError(f"unknown style {style!r}; expected hk, cn or en")
    rng = random.Random(f"holdout:{seed}:{style}")
    region = "tw" if style == "hk" and rng.random() < 0.3 else style
    currency, mark, suffix = _currency(rng, region)
    shop = _merchant(rng, region, currency)
    date = today - dt.timedelta(days=rng.randint(0, 120))
    time = dt.time(rng.randint(6, 23), rng.randint(0, 59), rng.randint(0, 59))
    has_time = rng.random() < 0.85
    refund = rng.random() < REFUND_SHARE
    items = _items(rng, region, shop["kind"], currency, refund)
    subtotal = sum((i.amount for i in items), Decimal("0.00"))
    pieces = sum(abs(item.qty) for item in items)
    if refund:
        charges, total, saved = _refund_charges(rng, region, subtotal), subtotal, None
    else:
        charges, total, saved = _charges(rng, region, shop["kind"], currency, subtotal, pieces)
    labels = words.REFUND_TOTAL_LABELS if refund else words.TOTAL_LABELS
    total_label = rng.choice(labels[region])
    no_label, receipt_no = _receipt_no(rng, region, date)
    titles = _titles(rng, region, refund)
    if region == "tw" and not refund and rng.random() < 0.3:
        # Taiwan's e-invoice: a two-month period under the title, which is not the date.
        first = date.month - (date.month + 1) % 2
        period = f"{date.year - 1911}年{first:02d}-{first + 1:02d}月"
        titles = (words.TW_EINVOICE, period)
    qr = None
    if rng.random() < 0.25:
        qr = f"https://e-receipt.example.org/r/{receipt_no}?t={total}&d={date:%Y%m%d}"
    payments = _payments(rng, region, currency, total, refund)
    return HoldoutSpec(
        seed=seed,
        style=style,
        lang=LANGS[region],
        shop_kind=shop["kind"],
        currency=currency,
        currency_mark=mark,
        mark_suffix=suffix,
        thousands=rng.random() < 0.8,
        merchant=shop["name"],
        merchant_aliases=tuple(shop["aliases"]),
        header_lines=tuple(shop["lines"]),
        date=date,
        time=time.replace(second=0) if has_time else None,
        date_text=_date_text(rng, region, date),
        time_text=_time_text(rng, region, time) if has_time else None,
        date_label=rng.choice(words.DATE_LABELS[region]),
        receipt_no=receipt_no,
        receipt_no_label=no_label,
        meta_lines=tuple(_meta_lines(rng, region)),
        items=tuple(items),
        charges=tuple(charges),
        total=total,
        total_label=total_label,
        payments=tuple(payments),
        footer_lines=tuple(rng.sample(words.FOOTERS[region], rng.randint(1, 2))),
        qr_payload=qr,
        region=region,
        refund=refund,
        title_lines=titles,
        extra_lines=tuple(_extra_lines(rng, region, currency, total, saved, refund)),
        whole_units=currency == "TWD",
    )


def _currency(rng: random.Random, region: str) -> tuple[str, str, bool]:
    if region == "tw":
        mark = rng.choice(("NT$", "$", "元", "NTD"))
        return "TWD", mark, mark == "元"
    if region == "cn":
        mark = rng.choice(("¥", "￥", "CNY", "元"))
        return "CNY", mark, mark == "元"
    if region == "hk":
        return "HKD", rng.choice(("HK$", "$", "HKD")), False
    roll = rng.random()
    if roll < 0.4:
        return "HKD", rng.choice(("HK$", "$")), False
    if roll < 0.7:
        return "SGD", rng.choice(("S$", "SGD")), False
    return "MYR", rng.choice(("RM", "MYR")), False


def _name_parts(rng: random.Random) -> tuple[tuple[str, ...], tuple[str, ...]]:
    a, b = rng.sample(words.NAME_SYLLABLES, 2)
    if rng.random() < 0.25:
        trad, simp, roman = rng.choice(words.NICKNAMES)
        return (trad, simp, roman), ("", "", "")
    return (f"{a[0]}{b[0]}", f"{a[1]}{b[1]}", f"{a[2]} {b[2]}"), (a[3], b[3], "")


def _merchant(rng: random.Random, region: str, currency: str) -> dict:
    """Name lines, aliases and the other header lines (branch, address, phone, ids)."""
    (trad, simp, roman), pinyin = _name_parts(rng)
    lines: list[str] = []
    if region == "en":
        suffix, kind = rng.choice(words.EN_SHOPS)
        name = f"{rng.choice(words.EN_FIRST)} {suffix}"
        name = name.upper() if rng.random() < 0.6 else name
        legal_end = {"SGD": "PTE. LTD.", "MYR": "SDN. BHD."}.get(currency, "CO. LTD.")
        aliases = [name]
        if rng.random() < 0.5:
            legal = f"{name.upper().replace('.', '')} {legal_end}"
            lines.append(legal)
            aliases.append(legal)
        street = rng.choice(words.EN_STREETS[currency])
        number = rng.randint(2, 399)
        if currency == "SGD":
            lines.append(f"#01-{rng.randint(2, 88):02d}, {number} {street}")
            lines.append(f"Singapore {rng.randint(100000, 829999)}")
        elif currency == "MYR":
            lines.append(f"No. {number}, {street},")
            lines.append(f"{rng.randint(40000, 59999)} Kuala Lumpur")
        else:
            lines.append(f"Shop {rng.randint(1, 30)}, G/F, {number} {street}")
        lines.append(rng.choice(("Tel/WhatsApp ", "Call ", "Ph: ")) + _phone(rng, currency))
        if rng.random() < 0.6:
            lines.append(
                {
                    "SGD": f"Co. Reg. 20{rng.randint(10, 24)}{rng.randint(10000, 99999)}K",
                    "MYR": f"SST Reg: B16-{rng.randint(1000, 9999)}-{rng.randint(10**7, 10**8 - 1)}",
                }.get(currency, f"Business Reg. {rng.randint(30000000, 79999999)}")
            )
        return {"name": name, "aliases": aliases, "lines": lines, "kind": kind}
    if region == "cn":
        suffix, english, kind = rng.choice(words.CN_SHOPS)
        city, area, road, code = rng.choice(words.CN_CITIES)
        name = f"{simp}{suffix}"
        aliases = [name]
        if rng.random() < 0.45:
            trade = rng.choice(("食品", "文化用品", "餐饮服务", "商业"))
            legal = f"{city[:-1]}{simp}{trade}有限公司"
            lines.append(legal)
            aliases.append(legal)
        if pinyin[0] and rng.random() < 0.3:
            latin = f"{pinyin[0]} {pinyin[1]} {english}"
            lines.append(latin)
            aliases.append(latin)
        if rng.random() < 0.5:
            lines.append(f"{area[:-1]}{rng.choice(('分店', '旗舰店', '万达店'))}")
        lines.append(f"{city}{area}{road}{rng.randint(1, 888)}号")
        lines.append(rng.choice(("联系电话: ", "TEL: ", "订餐电话 ")) + _phone(rng, "CNY", code))
        if rng.random() < 0.5:
            tail = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
            lines.append(f"纳税人识别号: 9132{rng.randint(1000, 9999)}{tail}")
        return {"name": name, "aliases": aliases, "lines": lines, "kind": kind}
    shops = words.TW_SHOPS if region == "tw" else words.HK_SHOPS
    suffix, english, kind = rng.choice(shops)
    zh = f"{trad}{suffix}"
    en = f"{roman} {english}"
    aliases = [zh]
    order = rng.choice(("zh", "zh+en", "en-first", "legal"))
    name = zh
    if order == "zh+en":
        lines.append(en)
        aliases.append(en)
    elif order == "en-first" and region == "hk":
        name = en
        lines.append(zh)
        aliases = [en, zh]
    elif order == "legal":
        legal = f"{trad}{'企業' if region == 'tw' else '貿易'}有限公司"
        lines.append(legal)
        aliases.append(legal)
    if region == "tw":
        city, area, road, code = rng.choice(words.TW_CITIES)
        if rng.random() < 0.5:
            lines.append(f"{area[:-1]}門市")
        lines.append(f"{city}{area}{road}{rng.randint(1, 300)}號")
        lines.append(f"電話: ({code}){rng.randint(2000, 2999)}-{rng.randint(1000, 9999)}")
        if rng.random() < 0.6:
            lines.append(f"統一編號: {rng.randint(10000000, 99999999)}")
        return {"name": name, "aliases": aliases, "lines": lines, "kind": kind}
    district = rng.choice(words.HK_DISTRICTS)
    if rng.random() < 0.5:
        lines.append(rng.choice((f"{district[0]}分店", f"{district[1]} Shop")))
    number = rng.randint(1, 288)
    if rng.random() < 0.5:
        lines.append(f"{district[2]}{district[0]}{district[4]}{number}號{rng.randint(1, 40)}號舖")
    else:
        lines.append(f"Shop {rng.randint(1, 40)}, {number} {district[5]}, {district[1]}")
    lines.append(rng.choice(("WhatsApp: ", "訂座 ", "電話 ")) + _phone(rng, "HKD"))
    if rng.random() < 0.4:
        lines.append(f"商業登記 BR {rng.randint(30000000, 79999999)}")
    return {"name": name, "aliases": aliases, "lines": lines, "kind": kind}


def _phone(rng: random.Random, currency: str, code: str = "") -> str:
    if currency == "SGD":
        return f"{rng.choice('689')}{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    if currency == "MYR":
        return f"012-{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    if currency == "CNY":
        return f"{code} {rng.randint(10000000, 89999999)}"
    return f"{rng.choice('569')}{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"


def _price(rng: random.Random, low: int, high: int, currency: str) -> Decimal:
    step = Decimal(rng.choice(PRICE_STEPS[currency]))
    raw = Decimal(str(round(rng.uniform(low, high) * PRICE_FACTOR[currency], 2)))
    price = ((raw / step).quantize(Decimal(1), ROUND_HALF_UP) * step).quantize(CENT)
    return max(price, step.quantize(CENT))


def _items(rng: random.Random, region: str, kind: str, currency: str, refund: bool) -> list[Item]:
    catalogue = words.ITEMS[kind]
    if refund:
        count = rng.choice((1, 1, 2))
    elif rng.random() < 0.08:
        count = rng.randint(10, 24)
    else:
        count = rng.choice((1, 2, 2, 3, 3, 4, 5, 7))
    bulk = not refund and rng.random() < 0.08
    coded = kind in ("grocery", "stationery", "hardware", "books", "fruit", "dried")
    coded = coded and rng.random() < 0.5
    if count <= len(catalogue):
        picks = rng.sample(catalogue, count)
    else:
        picks = [rng.choice(catalogue) for _ in range(count)]
    items = []
    for trad, simp, english, low, high in picks:
        if region == "cn":
            name = simp or english
        elif region == "en" or not trad:
            name = english
        elif region == "hk" and rng.random() < 0.25:
            name = f"{trad} {english}"
        else:
            name = trad
        if coded:  # a barcode or shelf code before the name: a long number, not a date
            name = f"{rng.randint(10**7, 10**8 - 1)} {name}"
        qty = rng.choice((1, 1, 1, 2, 2, 3, 4)) * (rng.randint(3, 10) if bulk else 1)
        qty = -1 if refund else qty
        items.append(Item(name=name, qty=qty, unit_price=_price(rng, low, high, currency)))
    return items


def _refund_charges(rng: random.Random, region: str, subtotal: Decimal) -> list[Charge]:
    if rng.random() < 0.5:
        return [Charge("subtotal", rng.choice(words.SUBTOTAL_LABELS[region]), subtotal)]
    return []


def _charges(
    rng: random.Random,
    region: str,
    kind: str,
    currency: str,
    subtotal: Decimal,
    count: int,
) -> tuple[list[Charge], Decimal, Decimal | None]:
    """Subtotal or the amount before a discount, discount, service, tax, rounding; the total
    and the discount given (for a "you saved" line)."""
    charges: list[Charge] = []
    running = subtotal
    saved = None
    unit = Decimal("1") if currency == "TWD" else Decimal("0.1")
    first = None
    if rng.random() < 0.25:
        rate = Decimal(rng.choice(("0.05", "0.08", "0.1", "0.15", "0.3")))
        off = (subtotal * rate).quantize(unit, ROUND_DOWN).quantize(CENT)
        if 0 < off < subtotal:
            if rng.random() < 0.5:  # "原價總額 120.00" instead of a subtotal line
                label = rng.choice(words.BEFORE_DISCOUNT_LABELS[region])
                first = Charge("info", label, subtotal)
            charges.append(Charge("discount", rng.choice(words.DISCOUNT_LABELS[region]), -off))
            running -= off
            saved = off
    service_odds = 0.6 if kind in RESTAURANTS and region != "cn" else 0.05
    if rng.random() < service_odds:
        step = Decimal("1") if currency == "TWD" else Decimal("0.1")
        service = (running * Decimal("0.1")).quantize(step, ROUND_HALF_UP).quantize(CENT)
        charges.append(Charge("service", rng.choice(words.SERVICE_LABELS[region]), service))
        running += service
    if currency in words.TAX_LABELS and rng.random() < 0.7:
        rate = Decimal("0.09") if currency == "SGD" else Decimal("0.08")
        name = rng.choice(words.TAX_LABELS[currency])
        if rng.random() < 0.5:
            tax = (running * rate).quantize(CENT, ROUND_HALF_UP)
            charges.append(Charge("tax", name, tax))
            running += tax
        else:
            tax = (running * rate / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
            charges.append(Charge("tax_included", f"Incl. {name}", tax))
    step = {"HKD": "0.1", "CNY": "0.1", "MYR": "0.05", "SGD": "0.05"}.get(currency)
    if step and rng.random() < 0.35:
        step_value = Decimal(step)
        mode = ROUND_DOWN if currency == "CNY" else ROUND_HALF_UP
        rounded = ((running / step_value).quantize(Decimal(1), mode) * step_value).quantize(CENT)
        if rounded != running and rounded > 0:
            if rng.random() < 0.5:  # the unrounded amount printed as a line of its own
                label = rng.choice(words.BEFORE_ROUNDING_LABELS[region])
                charges.append(Charge("info", label, running))
            label = rng.choice(words.ROUNDING_LABELS[region])
            charges.append(Charge("rounding", label, rounded - running))
            running = rounded
    if first is not None:
        charges.insert(0, first)
    elif charges or rng.random() < 0.5:
        charges.insert(0, Charge("subtotal", rng.choice(words.SUBTOTAL_LABELS[region]), subtotal))
    if rng.random() < 0.25:
        label = {"hk": "共{n}件", "tw": "共{n}項", "cn": "共{n}件", "en": "{n} item(s)"}[region]
        charges.insert(0, Charge("count", label.format(n=count), Decimal(count)))
    return charges, running.quantize(CENT), saved


def _receipt_no(rng: random.Random, region: str, date: dt.date) -> tuple[str, str]:
    label = rng.choice(words.RECEIPT_NO_LABELS[region])
    n = rng.randint(1, 999999)
    if region == "tw":  # uniform invoice numbers: two letters and eight digits
        letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(2))
        number = f"{letters}-{rng.randint(10**7, 10**8 - 1)}"
    elif region == "cn":
        number = rng.choice((f"T{date:%y%m%d}{n:05d}", f"{rng.randint(10**11, 10**12 - 1)}"))
    elif region == "hk":
        number = rng.choice((f"A{n:07d}", f"{rng.randint(1, 99):02d}{n:06d}", f"HK-{n:06d}"))
    else:
        number = rng.choice((f"TXN{n:06d}", f"CS{rng.randint(10**7, 10**8 - 1)}", f"{n:07d}"))
    return label, number


def _titles(rng: random.Random, region: str, refund: bool) -> tuple[str, ...]:
    if refund:
        return (rng.choice(words.REFUND_TITLES[region]),)
    if rng.random() < 0.35:
        return (rng.choice(words.TITLES[region]),)
    return ()


def _date_text(rng: random.Random, region: str, d: dt.date) -> str:
    roc = d.year - 1911
    mon = words.MONTHS_LONG[d.month - 1]
    formats = {
        "ymd8": f"{d:%Y%m%d}",
        "dmy.": f"{d:%d.%m.%Y}",
        "ymd/nopad": f"{d.year}/{d.month}/{d.day}",
        "ymd-nopad": f"{d.year}-{d.month}-{d.day}",
        "cjk-wd": f"{d.year}年{d.month}月{d.day}日({words.WEEKDAYS_ZH[d.weekday()]})",
        "cjk-week": f"{d.year}年{d.month}月{d.day}日 星期{words.WEEKDAYS_ZH[d.weekday()]}",
        "cjk0-week": f"{d:%Y}年{d:%m}月{d:%d}日 周{words.WEEKDAYS_ZH[d.weekday()]}",
        "d-mon-y": f"{d:%d}-{mon[:3]}-{d:%Y}",
        "d MON y": f"{d.day} {mon[:3].upper()} {d:%Y}",
        "mon d, y": f"{mon[:3]} {d:%d}, {d:%Y}",
        "d month y": f"{d.day} {mon} {d:%Y}",
        "wd dmy": f"{words.WEEKDAYS_EN[d.weekday()]} {d:%d/%m/%Y}",
        "iso": f"{d:%Y-%m-%d}",
        "roc-cjk": f"民國{roc}年{d.month}月{d.day}日",
        "roc/": f"{roc}/{d:%m}/{d:%d}",
        "roc.": f"{roc}.{d:%m}.{d:%d}",
        "roc-cjk0": f"{roc}年{d:%m}月{d:%d}日",
    }
    choices = {
        "hk": ("ymd8", "dmy.", "ymd/nopad", "cjk-wd", "d MON y", "d-mon-y", "mon d, y"),
        "tw": ("roc-cjk", "roc/", "roc.", "roc-cjk0", "iso", "ymd8"),
        "cn": ("ymd8", "ymd/nopad", "cjk-week", "ymd-nopad", "cjk0-week"),
        "en": ("mon d, y", "d month y", "dmy.", "ymd8", "d-mon-y", "wd dmy"),
    }[region]
    return formats[rng.choice(choices)]


def _time_text(rng: random.Random, region: str, t: dt.time) -> str:
    hour12 = (t.hour - 1) % 12 + 1
    half = "下午" if t.hour >= 12 else "上午"
    am_pm = "PM" if t.hour >= 12 else "AM"
    options = {
        "hk": (
            f"{half} {hour12:02d}:{t.minute:02d}",
            f"{half}{hour12}:{t.minute:02d}",
            f"{t.hour}時{t.minute:02d}分",
            f"{am_pm} {hour12:02d}:{t.minute:02d}",
            f"{t:%H:%M}",
        ),
        "tw": (
            f"{half} {hour12:02d}:{t.minute:02d}:{t.second:02d}",
            f"{half}{hour12}:{t.minute:02d}",
            f"{t:%H:%M:%S}",
        ),
        "cn": (
            f"{half} {hour12}:{t.minute:02d}",
            f"{t:%H:%M:%S}",
            f"{t.hour}时{t.minute:02d}分",
            f"{t:%H:%M}",
        ),
        "en": (
            f"{hour12}:{t.minute:02d} {am_pm}",
            f"{t:%H:%M} HRS",
            f"{hour12:02d}:{t.minute:02d}{am_pm.lower()}",
            f"{t:%H:%M:%S}",
        ),
    }[region]
    return rng.choice(options)


def _meta_lines(rng: random.Random, region: str) -> list[tuple[str, str]]:
    lines = []
    for zh, en in rng.sample(words.META[region], rng.randint(0, 3)):
        label = en if en and rng.random() < 0.4 else zh
        if zh == "統一編號":
            value = f"{rng.randint(10000000, 99999999)}"  # the buyer's tax number
        else:
            value = f"{rng.randint(1, 60):02d}"
        lines.append((label, value))
    return lines


PAYMENT_METHODS = {
    "hk": (("cash", 35), ("octopus", 25), ("alipay", 10), ("wechat", 10), ("card", 20)),
    "tw": (("cash", 50), ("easycard", 20), ("linepay", 15), ("card", 15)),
    "cn": (("wechat", 40), ("alipay", 35), ("cash", 10), ("card", 5), ("stored", 10)),
    "en": (("card", 45), ("cash", 35), ("octopus", 10), ("wallet", 10)),
}
CARD_LABELS = {"hk": "卡號", "tw": "卡號末四碼", "cn": "卡号后四位", "en": "Card ending"}
REFERENCE_LABELS = {"hk": "交易參考號", "tw": "交易序號", "cn": "支付单号", "en": "Txn Ref"}


def _payments(
    rng: random.Random, region: str, currency: str, total: Decimal, refund: bool
) -> list[Payment]:
    """Zero or one payment that settles ``total`` (a refund is paid back)."""
    if rng.random() < 0.1:
        return []
    if refund:
        return [Payment("refund", rng.choice(words.REFUND_PAYMENTS[region]), total)]
    methods = PAYMENT_METHODS[region]
    if region == "en":  # Octopus in Hong Kong, wallets elsewhere
        unwanted = "wallet" if currency == "HKD" else "octopus"
        methods = tuple(m for m in methods if m[0] != unwanted)
    kind = rng.choices([m for m, _ in methods], weights=[w for _, w in methods])[0]
    label = rng.choice(words.PAYMENT_LABELS[(region, kind)])
    if kind == "cash":
        tendered = _tendered(rng, total)
        change_label = rng.choice(words.PAYMENT_LABELS[(region, "change")])
        return [Payment(kind, label, tendered, change_label, tendered - total)]
    extra: list[tuple[str, str]] = []
    if (region, kind) in words.BALANCE_LABELS:  # a stored value left on the card
        balance = Decimal(rng.randint(300, 80000)) / 100
        extra.append((rng.choice(words.BALANCE_LABELS[(region, kind)]), _plain(balance, currency)))
    elif kind == "card":
        extra.append((CARD_LABELS[region], f"**** {rng.randint(0, 9999):04d}"))
    else:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(14, 22)))
        extra.append((REFERENCE_LABELS[region], digits))
    return [Payment(kind, label, total, extra=tuple(extra))]


def _plain(value: Decimal, currency: str) -> str:
    """An amount as a balance or savings line prints it: whole NT$, else with cents."""
    return f"{value:.0f}" if currency == "TWD" else f"{value:.2f}"


def _extra_lines(
    rng: random.Random,
    region: str,
    currency: str,
    total: Decimal,
    saved: Decimal | None,
    refund: bool,
) -> list[tuple[str, str]]:
    if refund:
        return []
    lines = []
    if saved is not None and rng.random() < 0.6:
        lines.append((rng.choice(words.SAVED_LABELS[region]), _plain(saved, currency)))
    if rng.random() < 0.35:
        label = rng.choice(words.POINTS_LABELS[region])
        lines.append((label, f"{max(int(total), 1) * rng.choice((1, 1, 2, 10)):,}"))
    return lines
