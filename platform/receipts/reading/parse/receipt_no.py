"""Receipt, invoice or transaction numbers printed next to a label."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from loyalchat.receipts.reading.parse.rows import Row
from loyalchat.receipts.reading.parse.text import fold

_STRONG = (
    r"单号|收据编号|收据号|单据号|票号|小票号|流水号|交易号|订单号|发票号码?|账单号|结账单号|"
    r"INV(?:OICE)?\.?\s?(?:NO|NUMBER|#)?|RECEIPT\s?(?:NO|NUMBER|#)|RCPT\.?\s?(?:NO|#)?|"
    r"BILL\s?(?:NO|#)|DOC(?:UMENT)?\.?\s?(?:NO|#)|TRANS(?:ACTION)?\.?\s?(?:NO|#|ID)|TRX\.?\s?(?:NO|ID)?|"
    r"ORDER\s?(?:NO|#)|CHECK\s?(?:NO|#)|SLIP\s?(?:NO|#)|CS\s?NO|REF\.?\s?(?:NO|#)"
)
_LABEL = re.compile(rf"(?P<strong>{_STRONG})|(?<![A-Z])(?P<weak>NO(?![A-Z])|#)")
_VALUE = re.compile(r"[:#.\s]*(?P<v>[A-Z0-9][A-Z0-9\-/]{2,24})")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$|^\d{1,2}:\d{2}")


@dataclass(frozen=True, slots=True)
class NumberHit:
    value: str
    confidence: float


def _value_after(text: str, alone: bool = False) -> str | None:
    """The number at the start of ``text``; with ``alone``, only if nothing but punctuation
    follows it ("No. 187, Jalan Petaling", "#01-40, 392 Bukit Timah Road" are addresses)."""
    m = _VALUE.match(text)
    if not m:
        return None
    if alone and re.search(r"\w", text[m.end() :]):
        return None
    value = m.group("v").strip("-/")
    if sum(ch.isdigit() for ch in value) < 2 or _DATE_LIKE.match(value):
        return None
    return value


def find_receipt_number(rows: Sequence[Row]) -> NumberHit | None:
    """The first labelled number on the receipt ("Invoice No: CS67832", "单号:0012")."""
    weak: NumberHit | None = None
    for i, row in enumerate(rows):
        text = fold(row.text)
        for m in _LABEL.finditer(text):
            # A bare "NO" or "#" is trusted only before a number ending its row.
            value = _value_after(text[m.end() :], alone=not m.group("strong"))
            if value is None and i + 1 < len(rows) and m.end() >= len(text.rstrip(" :#")) - 1:
                value = _value_after(fold(rows[i + 1].text))  # value printed below the label
            if value is None:
                continue
            if m.group("strong"):
                return NumberHit(value, 0.85 if row.confidence > 0.9 else 0.7)
            if weak is None and not re.search(r"TEL|FAX|PHONE|REG|GST|SST|ROC|电话", text):
                weak = NumberHit(value, 0.45)
    return weak
