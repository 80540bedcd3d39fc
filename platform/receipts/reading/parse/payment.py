"""How the customer paid, when the receipt says so."""

from __future__ import annotations

import re
from collections.abc import Sequence

from loyalchat.receipts.reading.parse.rows import Row
from loyalchat.receipts.reading.parse.text import fold

# Canonical method -> folded spellings (Traditional folds to Simplified first).
_METHODS: tuple[tuple[str, str], ...] = (
    ("octopus", r"OCTOPUS|八达通"),
    ("alipay", r"ALIPAY|支付宝"),
    ("wechat_pay", r"WECHAT\s?PAY|微信支付|微信"),
    ("payme", r"(?<![A-Z])PAYME(?![A-Z])"),  # not "PAYMENT"
    ("fps", r"(?<![A-Z])FPS(?![A-Z])|转数快"),
    ("unionpay", r"UNION\s?PAY|银联|云闪付"),
    ("visa", r"(?<![A-Z])VISA(?![A-Z])"),
    ("mastercard", r"MASTER\s?CARD|(?<![A-Z])MASTER(?![A-Z])|(?<![A-Z])MC(?![A-Z])"),
    ("amex", r"AMEX|AMERICAN EXPRESS"),
    ("jcb", r"(?<![A-Z])JCB(?![A-Z])"),
    ("card", r"CREDIT\s?CARD|DEBIT\s?CARD|(?<![A-Z])CARD(?![A-Z])|信用卡|刷卡"),
    ("cash", r"(?<![A-Z])CASH(?![A-Z])|现金|现款"),
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _METHODS)


def find_payment_method(rows: Sequence[Row]) -> tuple[str, float] | None:
    """The most specific method printed, searching from the bottom; with a confidence."""
    found: dict[str, int] = {}
    for i in range(len(rows) - 1, -1, -1):
        text = fold(rows[i].text)
        if "CASHIER" in text or "CASH BILL" in text:
            text = text.replace("CASHIER", "").replace("CASH BILL", "")
        for name, pattern in _COMPILED:
            if pattern.search(text):
                found.setdefault(name, i)
    if not found:
        return None
    # An electronic method beats "cash" (a "CASH" column header or "cash or card" note).
    for name, _ in _COMPILED:
        if name in found:
            return name, 0.8 if name != "card" else 0.6
    return None
