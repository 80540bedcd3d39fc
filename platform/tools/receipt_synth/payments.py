"""Payment lines: cash tendered with change, Octopus with its balance, wallets and cards.

Each adds numbers near the total that are not the total (tendered cash, change, a stored
value balance, card digits), which is what makes them worth generating.
"""

from __future__ import annotations

import random
from decimal import ROUND_CEILING, Decimal

from loyalchat.tools.receipt_synth.spec import CENT, Payment

METHODS = {
    "hk": (("cash", 35), ("octopus", 25), ("alipay", 10), ("wechat", 10), ("card", 20)),
    "mo": (("cash", 45), ("macaupass", 25), ("card", 20), ("alipay", 10)),
    "cn": (("wechat", 40), ("alipay", 35), ("cash", 15), ("card", 10)),
    "en": (("card", 50), ("cash", 40), ("octopus", 10)),
}
LABELS = {
    ("hk", "cash"): ("現金", "CASH", "現金 Cash"),
    ("hk", "change"): ("找續", "找贖", "CHANGE", "找續 Change"),
    ("hk", "octopus"): ("八達通", "八達通 Octopus", "OCTOPUS"),
    ("hk", "alipay"): ("支付寶", "支付寶 AlipayHK", "AlipayHK"),
    ("hk", "wechat"): ("微信支付", "微信支付 WeChat Pay", "WeChat Pay HK"),
    ("hk", "card"): ("VISA", "MASTER", "信用卡 VISA", "銀聯 UnionPay"),
    ("hk", "macaupass"): ("澳門通", "澳門通 Macau Pass"),
    ("cn", "cash"): ("现金", "收现金", "现金支付"),
    ("cn", "change"): ("找零",),
    ("cn", "alipay"): ("支付宝", "支付宝支付"),
    ("cn", "wechat"): ("微信支付", "微信"),
    ("cn", "card"): ("银联卡", "银行卡", "刷卡"),
    ("en", "cash"): ("CASH", "Cash Tendered", "TENDERED"),
    ("en", "change"): ("CHANGE", "Change Due"),
    ("en", "octopus"): ("OCTOPUS",),
    ("en", "card"): ("VISA", "MASTERCARD", "AMEX", "Credit Card"),
}


def make_payments(rng: random.Random, style: str, currency: str, total: Decimal) -> list[Payment]:
    """Zero or one payment (a few receipts print none) that settles ``total`` exactly."""
    if rng.random() < 0.1:
        return []
    methods = METHODS["mo" if currency == "MOP" else style]
    if style == "en" and currency != "HKD":
        methods = methods[:2]  # no Octopus outside Hong Kong
    kind = rng.choices([m for m, _ in methods], weights=[w for _, w in methods])[0]
    lang = "hk" if style == "hk" else style
    label = rng.choice(LABELS[(lang, kind)])
    if kind == "cash":
        tendered = _tendered(rng, total)
        change_label = rng.choice(LABELS[(lang, "change")])
        return [Payment(kind, label, tendered, change_label, tendered - total)]
    extra: list[tuple[str, str]] = []
    if kind in ("octopus", "macaupass"):
        balance = Decimal(rng.randint(500, 90000)) / 100
        no_label = {"hk": "八達通號碼", "en": "Octopus No."}.get(lang, "卡號")
        if kind == "macaupass":
            no_label = "卡號"
        extra.append((no_label, f"{rng.randint(10000000, 99999999)}({rng.randint(0, 9)})"))
        extra.append(({"hk": "餘額", "en": "Remaining Value"}.get(lang, "餘額"), f"{balance:.2f}"))
    elif kind == "card":
        extra.append(
            ("Card No." if lang != "cn" else "卡号", f"************{rng.randint(0, 9999):04d}")
        )
        if rng.random() < 0.6:
            auth = {"hk": "授權號碼", "cn": "授权码"}.get(lang, "Auth Code")
            extra.append((auth, f"{rng.randint(0, 999999):06d}"))
    else:
        txn = {"hk": "交易編號", "cn": "交易单号"}.get(lang, "Txn No.")
        extra.append((txn, "".join(rng.choice("0123456789") for _ in range(rng.randint(12, 20)))))
    return [Payment(kind, label, total, extra=tuple(extra))]


def _tendered(rng: random.Random, total: Decimal) -> Decimal:
    """A plausible note or sum of notes strictly larger than ``total``."""
    steps = [Decimal(s) for s in ("10", "20", "50", "100", "500", "1000")]
    options = []
    for step in steps:
        amount = (total / step).to_integral_value(ROUND_CEILING) * step
        if amount == total:
            amount += step
        if amount < total * 3 + 100:
            options.append(amount.quantize(CENT))
    return rng.choice(options) if options else (total + 100).quantize(CENT)
