"""Make up the content of one receipt (a ``ReceiptSpec``) from a seed.

Three styles: ``hk`` (Traditional Chinese and English, HK$, sometimes Macau and MOP),
``cn`` (Simplified Chinese, ¥ / RMB / 元) and ``en`` (English only; HK$, S$ or RM).
The same seed, style and ``today`` always give the same spec.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from loyalchat.tools.receipt_synth import vocab
from loyalchat.tools.receipt_synth.payments import make_payments
from loyalchat.tools.receipt_synth.spec import CENT, Charge, Item, ReceiptSpec

STYLES = ("hk", "cn", "en")
LANGS = {"hk": "zh-Hant", "cn": "zh-Hans", "en": "en"}
PRICE_FACTOR = {"HKD": 1.0, "MOP": 1.03, "CNY": 0.7, "SGD": 0.16, "MYR": 0.35}
PRICE_STEPS = {
    "HKD": ("1", "1", "0.5", "0.1"),
    "MOP": ("1", "0.5"),
    "CNY": ("1", "0.5", "0.1", "0.01"),
    "SGD": ("0.1", "0.05"),
    "MYR": ("0.05", "0.1"),
}


def make_spec(seed: int, style: str, *, today: dt.date) -> ReceiptSpec:
    """The receipt for ``seed`` in ``style``, dated on or up to 120 days before ``today``."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}")
    rng = random.Random(f"spec:{seed}:{style}")
    currency, mark, suffix = _currency(rng, style)
    shop = _merchant(rng, style, currency)
    date = today - dt.timedelta(days=rng.randint(0, 120))
    time = dt.time(rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59))
    has_time = rng.random() < 0.85
    items = _items(rng, style, shop["kind"], currency)
    subtotal = sum((i.amount for i in items), Decimal("0.00"))
    pieces = sum(item.qty for item in items)
    charges, total = _charges(rng, style, shop["kind"], currency, subtotal, pieces)
    total_label = rng.choice(vocab.TOTAL_LABELS[style])
    no_label, receipt_no = _receipt_no(rng, style, date)
    qr = None
    if rng.random() < 0.3:
        qr = f"https://receipt.example.com/{style}/{receipt_no}?amt={total}&d={date:%Y%m%d}"
    return ReceiptSpec(
        seed=seed,
        style=style,
        lang=LANGS[style],
        shop_kind=shop["kind"],
        currency=currency,
        currency_mark=mark,
        mark_suffix=suffix,
        thousands=rng.random() < 0.85,
        merchant=shop["name"],
        merchant_aliases=tuple(shop["aliases"]),
        header_lines=tuple(shop["lines"]),
        date=date,
        time=time.replace(second=0) if has_time else None,
        date_text=_date_text(rng, style, date),
        time_text=_time_text(rng, style, time) if has_time else None,
        date_label=rng.choice(vocab.DATE_LABELS[style]),
        receipt_no=receipt_no,
        receipt_no_label=no_label,
        meta_lines=tuple(_meta_lines(rng, style)),
        items=tuple(items),
        charges=tuple(charges),
        total=total,
        total_label=total_label,
        payments=tuple(make_payments(rng, style, currency, total)),
        footer_lines=tuple(rng.sample(vocab.FOOTERS[style], rng.randint(1, 2))),
        qr_payload=qr,
    )


def _currency(rng: random.Random, style: str) -> tuple[str, str, bool]:
    if style == "cn":
        mark = rng.choice(("¥", "¥", "￥", "RMB", "元"))
        return "CNY", mark, mark == "元"
    if style == "hk":
        if rng.random() < 0.1:
            return "MOP", rng.choice(("MOP$", "MOP")), False
        return "HKD", rng.choice(("HK$", "HK$", "$", "HKD")), False
    roll = rng.random()
    if roll < 0.6:
        return "HKD", rng.choice(("HK$", "$", "HKD")), False
    if roll < 0.8:
        return "SGD", rng.choice(("S$", "SGD", "$")), False
    return "MYR", "RM", False


def _merchant(rng: random.Random, style: str, currency: str) -> dict:
    """Name lines, aliases and the other header lines (branch, address, phone, ids)."""
    a, b = rng.sample(vocab.NAME_SYLLABLES, 2)
    lines: list[str] = []
    if style == "en":
        suffix, kind = rng.choice(vocab.EN_SHOPS)
        name = f"{rng.choice(vocab.EN_FIRST)} {suffix}"
        name = name.upper() if rng.random() < 0.5 else name
        legal_end = {"SGD": "PTE LTD", "MYR": "SDN BHD"}.get(currency, "LIMITED")
        legal = f"{name.upper()} {legal_end}"
        aliases = [name]
        if rng.random() < 0.5:
            lines.append(legal)
            aliases.append(legal)
        street = rng.choice(vocab.EN_STREETS[currency])
        lines.append(f"{rng.randint(1, 288)} {street}")
        lines.append(rng.choice(("Tel: ", "TEL ", "Phone ")) + _phone(rng, currency))
        reg = {
            "SGD": f"GST Reg No: M2-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9)}",
            "MYR": f"SST ID: W10-{rng.randint(1000, 9999)}-{rng.randint(10000000, 99999999)}",
        }.get(currency, f"BR No. {rng.randint(10000000, 99999999)}")
        if rng.random() < 0.6:
            lines.append(reg)
        return {"name": name, "aliases": aliases, "lines": lines, "kind": kind}
    if style == "hk":
        suffix, english, kind = rng.choice(vocab.HK_SHOPS)
        zh = f"{a[0]}{b[0]}{suffix}"
        en = f"{a[2]} {b[2]} {english}"
        district = rng.choice(vocab.MO_DISTRICTS if currency == "MOP" else vocab.HK_DISTRICTS)
        order = rng.choice(("zh-en", "zh-en", "en-zh", "zh", "zh-legal"))
        if order == "en-zh":
            name, aliases = en, [en, zh]
            lines.append(zh)
        elif order == "zh":
            name, aliases = zh, [zh]
        elif order == "zh-legal":
            legal = f"{a[0]}{b[0]}飲食集團有限公司" if kind == "restaurant" else f"{zh}有限公司"
            name, aliases = zh, [zh, legal]
            lines.append(legal)
        else:
            name, aliases = zh, [zh, en]
            lines.append(en)
        if rng.random() < 0.6:
            lines.append(rng.choice((f"({district[0]}店)", f"{district[1]} Branch")))
        number = rng.randint(1, 388)
        if rng.random() < 0.5:
            lines.append(f"{district[2]}{district[0]}{district[4]}{number}號地下")
        else:
            lines.append(f"G/F, {number} {district[5]}, {district[1]}, {district[3]}")
        lines.append(rng.choice(("電話: ", "Tel: ", "電話 Tel: ")) + _phone(rng, currency))
        if rng.random() < 0.5:
            br = f"{rng.randint(10000000, 99999999)}"
            lines.append(rng.choice((f"商業登記號碼: {br}", f"BR No.: {br}-000")))
        return {"name": name, "aliases": aliases, "lines": lines, "kind": kind}
    suffix, english, kind = rng.choice(vocab.CN_SHOPS)
    city, area, road, code = rng.choice(vocab.CN_CITIES)
    zh = f"{a[1]}{b[1]}{suffix}"
    aliases = [zh]
    if rng.random() < 0.5:
        legal = f"{city[:-1]}{a[1]}{b[1]}{rng.choice(('商贸', '餐饮管理', '贸易'))}有限公司"
        lines.append(legal)
        aliases.append(legal)
    if rng.random() < 0.25:
        pinyin = f"{a[3]}{b[3]} {english}"
        lines.append(pinyin)
        aliases.append(pinyin)
    if rng.random() < 0.5:
        lines.append(f"({area[:-1]}店)")
    lines.append(f"地址: {city}{area}{road}{rng.randint(1, 999)}号")
    lines.append(f"电话: {code}-{rng.randint(10000000, 89999999)}")
    if rng.random() < 0.5:
        tail = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
        lines.append(
            rng.choice(("统一社会信用代码: ", "税号: ")) + f"9144{rng.randint(1000, 9999)}{tail}"
        )
    return {"name": zh, "aliases": aliases, "lines": lines, "kind": kind}


def _phone(rng: random.Random, currency: str) -> str:
    if currency == "SGD":
        return f"+65 6{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    if currency == "MYR":
        return f"03-{rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    if currency == "MOP":
        return f"2{rng.randint(800, 899)} {rng.randint(1000, 9999)}"
    return f"{rng.choice('23')}{rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _price(rng: random.Random, low: int, high: int, currency: str) -> Decimal:
    step = Decimal(rng.choice(PRICE_STEPS[currency]))
    raw = Decimal(str(round(rng.uniform(low, high) * PRICE_FACTOR[currency], 2)))
    price = ((raw / step).quantize(Decimal(1), ROUND_HALF_UP) * step).quantize(CENT)
    return max(price, step.quantize(CENT))


def _items(rng: random.Random, style: str, kind: str, currency: str) -> list[Item]:
    catalogue = vocab.ITEMS[kind]
    long_receipt = rng.random() < (0.35 if kind == "supermarket" else 0.08)
    count = rng.randint(12, 36) if long_receipt else rng.choice((1, 2, 2, 3, 3, 4, 5, 6))
    bulk = rng.random() < 0.1  # group orders and stocking up give four-digit totals
    naming = rng.choice(("zh", "zh", "zh+en", "en")) if style == "hk" else style
    items = []
    for _ in range(count):
        trad, simp, english, low, high = rng.choice(catalogue)
        if style == "cn":
            name = simp or english
        elif style == "en" or not trad or naming == "en":
            name = english
        elif naming == "zh+en":
            name = f"{trad} {english}"
        else:
            name = trad
        qty = rng.choice((1, 1, 1, 1, 2, 2, 3)) * (rng.randint(4, 12) if bulk else 1)
        items.append(Item(name=name, qty=qty, unit_price=_price(rng, low, high, currency)))
    return items


def _charges(
    rng: random.Random, style: str, kind: str, currency: str, subtotal: Decimal, count: int
) -> tuple[list[Charge], Decimal]:
    """Subtotal, discount, service, tax and rounding lines, and the resulting total."""
    charges: list[Charge] = []
    running = subtotal
    if rng.random() < 0.2:
        rate = Decimal(rng.choice(("0.05", "0.1", "0.12", "0.2")))
        off = (subtotal * rate).quantize(Decimal("0.1"), ROUND_DOWN).quantize(CENT)
        if 0 < off < subtotal:
            charges.append(Charge("discount", rng.choice(vocab.DISCOUNT_LABELS[style]), -off))
            running -= off
    service_odds = {"hk": 0.7, "en": 0.35, "cn": 0.05}[style] if kind == "restaurant" else 0.03
    if kind == "cafe":
        service_odds = 0.3
    if rng.random() < service_odds:
        service = (running * Decimal("0.1")).quantize(Decimal("0.1"), ROUND_HALF_UP)
        service = service.quantize(CENT)
        charges.append(Charge("service", rng.choice(vocab.SERVICE_LABELS[style]), service))
        running += service
    if currency in ("SGD", "MYR") and rng.random() < 0.7:
        rate, name = (
            (Decimal("0.09"), "GST 9%") if currency == "SGD" else (Decimal("0.06"), "SST 6%")
        )
        if rng.random() < 0.5:
            tax = (running * rate).quantize(CENT, ROUND_HALF_UP)
            charges.append(Charge("tax", name, tax))
            running += tax
        else:
            tax = (running * rate / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
            charges.append(Charge("tax_included", f"{name} incl.", tax))
    rounding_step = {"HKD": "0.1", "MOP": "0.1", "CNY": "1", "MYR": "0.05"}.get(currency)
    if rounding_step and rng.random() < 0.3:
        step = Decimal(rounding_step)
        mode = ROUND_DOWN if currency == "CNY" else ROUND_HALF_UP  # 抹零 always rounds down
        rounded = ((running / step).quantize(Decimal(1), mode) * step).quantize(CENT)
        if rounded != running and rounded > 0:
            label = rng.choice(vocab.ROUNDING_LABELS[style])
            charges.append(Charge("rounding", label, rounded - running))
            running = rounded
    if style == "cn" and rng.random() < 0.3:
        rate = Decimal(rng.choice(("0.13", "0.06")))
        tax = (running * rate / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
        charges.append(Charge("tax_included", rng.choice(("税额", "其中税额")), tax))
    if charges or rng.random() < 0.5:
        label = rng.choice(vocab.SUBTOTAL_LABELS[style])
        charges.insert(0, Charge("subtotal", label, subtotal))
    if rng.random() < 0.3:
        charges.insert(0, Charge("count", rng.choice(vocab.COUNT_LABELS[style]), Decimal(count)))
    return charges, running.quantize(CENT)


def _receipt_no(rng: random.Random, style: str, date: dt.date) -> tuple[str, str]:
    label = rng.choice(vocab.RECEIPT_NO_LABELS[style])
    n = rng.randint(1, 999999)
    if style == "cn":
        number = rng.choice((f"{date:%Y%m%d}{n:06d}", f"{n:08d}", f"NO{n:07d}"))
    elif style == "hk":
        number = rng.choice((f"{n:06d}", f"R{n:07d}", f"{rng.randint(1, 40):03d}-{n:06d}"))
    else:
        number = rng.choice((f"INV-{n:06d}", f"{n}", f"{n:08d}", f"S{rng.randint(1, 9)}-{n:05d}"))
    return label, number


def _date_text(rng: random.Random, style: str, d: dt.date) -> str:
    mon = vocab.MONTHS[d.month - 1]
    formats = {
        "iso": f"{d:%Y-%m-%d}",
        "dmy": f"{d:%d/%m/%Y}",
        "dmy2": f"{d:%d/%m/%y}",
        "ymd/": f"{d:%Y/%m/%d}",
        "ymd.": f"{d:%Y.%m.%d}",
        "cjk": f"{d.year}年{d.month}月{d.day}日",
        "cjk0": f"{d:%Y}年{d:%m}月{d:%d}日",
        "d-mon-y": f"{d:%d}-{mon}-{d:%Y}",
        "dmony": f"{d:%d}{mon.upper()}{d:%y}",
        "d mon y": f"{d.day} {mon} {d:%Y}",
        "dmy-": f"{d:%d-%m-%Y}",
    }
    choices = {
        "hk": ("dmy", "dmy", "iso", "ymd/", "cjk", "d-mon-y", "dmony", "dmy2", "dmy-"),
        "cn": ("iso", "iso", "ymd/", "cjk", "cjk0", "ymd."),
        "en": ("dmy", "d-mon-y", "d mon y", "dmony", "iso", "dmy2", "dmy-"),
    }[style]
    return formats[rng.choice(choices)]


def _time_text(rng: random.Random, style: str, t: dt.time) -> str:
    twelve = f"{(t.hour - 1) % 12 + 1:02d}:{t.minute:02d} {'PM' if t.hour >= 12 else 'AM'}"
    options = [f"{t:%H:%M}", f"{t:%H:%M:%S}", f"{t:%H:%M}"]
    if style != "cn":
        options.append(twelve)
    return rng.choice(options)


def _meta_lines(rng: random.Random, style: str) -> list[tuple[str, str]]:
    pool = {
        "hk": (("收銀員", "Cashier"), ("枱號", "Table"), ("人數", "Pax"), ("機號", "POS")),
        "cn": (("收银员", "收银员"), ("桌号", "桌号"), ("人数", "人数"), ("机号", "机号")),
        "en": (("Cashier", "Cashier"), ("Table", "Table"), ("Pax", "Pax"), ("POS", "Terminal")),
    }[style]
    lines = []
    for zh, en in rng.sample(pool, rng.randint(0, 3)):
        label = zh if style != "hk" or rng.random() < 0.6 else en
        lines.append((label, f"{rng.randint(1, 40):02d}"))
    return lines
