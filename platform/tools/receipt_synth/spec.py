"""The truth about one synthetic receipt: what is printed on it, before any drawing.

A ``ReceiptSpec`` is complete without an image, so tests and the field-extraction work
can use specs directly. Amounts are ``Decimal`` throughout and always add up:
``total == sum(item amounts) + sum(counted charges)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

CENT = Decimal("0.01")

# Charges that change the amount to pay; the others are printed information only.
COUNTED_CHARGES = frozenset({"discount", "service", "tax", "rounding"})


@dataclass(frozen=True)
class Item:
    """One purchased line: name as printed, quantity and unit price."""

    name: str
    qty: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.qty).quantize(CENT)


@dataclass(frozen=True)
class Charge:
    """A line between the items and the total: the look-alikes a parser must not take.

    ``kind`` is one of subtotal, discount, service, tax, rounding (these change the
    total: ``amount`` is signed) or tax_included, count (information only).
    """

    kind: str
    label: str
    amount: Decimal

    @property
    def counted(self) -> bool:
        return self.kind in COUNTED_CHARGES


@dataclass(frozen=True)
class Payment:
    """How the total was paid; cash may be larger than the total and give change."""

    kind: str  # cash, octopus, alipay, wechat, card, macaupass
    label: str
    amount: Decimal
    change_label: str | None = None
    change: Decimal | None = None
    extra: tuple[tuple[str, str], ...] = ()  # e.g. card number, stored-value balance


@dataclass(frozen=True)
class ReceiptSpec:
    """Everything printed on one receipt, and the values a reader should extract."""

    seed: int
    style: str  # hk, cn, en
    lang: str  # zh-Hant, zh-Hans, en
    shop_kind: str
    currency: str  # ISO 4217: HKD, MOP, CNY, SGD, MYR
    currency_mark: str  # as printed: HK$, $, HKD, MOP$, ¥, RMB, 元, S$, RM
    mark_suffix: bool  # "128.50元" rather than "¥128.50"
    thousands: bool  # "1,234.50" rather than "1234.50"
    merchant: str  # the main merchant name line (the label's ``company``)
    merchant_aliases: tuple[str, ...]  # every way the name is printed
    header_lines: tuple[str, ...]  # branch, address, phone, registration numbers
    date: dt.date
    time: dt.time | None
    date_text: str
    time_text: str | None
    date_label: str | None
    receipt_no: str
    receipt_no_label: str
    meta_lines: tuple[tuple[str, str], ...]  # cashier, table, pax: numbers, not totals
    items: tuple[Item, ...]
    charges: tuple[Charge, ...]
    total: Decimal
    total_label: str
    payments: tuple[Payment, ...]
    footer_lines: tuple[str, ...]
    qr_payload: str | None

    @property
    def subtotal(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0.00"))

    def is_consistent(self) -> bool:
        """True when the items and counted charges add up to the total, and cash covers it."""
        counted = sum((c.amount for c in self.charges if c.counted), Decimal("0.00"))
        if self.subtotal + counted != self.total or self.total <= 0:
            return False
        for charge in self.charges:
            if charge.kind == "subtotal" and charge.amount != self.subtotal:
                return False
        paid = sum((p.amount - (p.change or 0) for p in self.payments), Decimal("0.00"))
        return not self.payments or paid == self.total

    def amount_text(self, value: Decimal) -> str:
        """A number as this receipt prints it (no currency mark)."""
        text = f"{abs(value):,.2f}" if self.thousands else f"{abs(value):.2f}"
        return f"-{text}" if value < 0 else text

    def money_text(self, value: Decimal) -> str:
        """An amount with the receipt's currency mark, as on the total line."""
        number = self.amount_text(value)
        if self.mark_suffix:
            return f"{number}{self.currency_mark}"
        if self.currency_mark.isalpha():  # "HKD 12.00", "RMB 12.00", "RM 12.00"
            return f"{self.currency_mark} {number}"
        return f"{self.currency_mark}{number}"
