"""Is the total plausible for this shop? Money is ``Decimal`` only, compared exactly.

Nothing or less is never a purchase, and a total at or above :data:`ABSURD` is a misread
(a phone number, a card number run together) or a forgery: both fail. Outside the
profile's usual range, or above the tenant's review limit, staff look first; so do a
refund, a void and a credit note (their total is money going back, whatever was read).
"""

from __future__ import annotations

import re
from decimal import Decimal

from loyalchat.receipts.checks.base import CheckResult, ReceiptFacts, ShopProfile

ABSURD = Decimal("1000000")
# Printed on a refund, a void or a credit note; not in a "no refunds" notice ("NO REFUND",
# "GOODS SOLD ARE NOT REFUNDABLE", "恕不退款"), which many receipts print.
REFUND = re.compile(
    r"(?<![A-Z])(?:REFUND(?:ED)?|CREDIT\s?NOTE|VOID(?:ED)?)(?![A-Z])|"
    r"退款|退貨|退货|作廢|作废|沖正|冲正",
    re.IGNORECASE,
)
# A total to pay that is negative: a return, whatever the document is called (a supplier
# titles every invoice "TAX INVOICE / ADJUSTMENT NOTE" and lists returned goods as
# negative lines on ordinary invoices; only the amount due tells).
DUE = re.compile(
    r"(?<![A-Z])(?:TOTAL\s*(?:PAYABLE|DUE|AMOUNT)|GRAND\s*TOTAL|NETT?\s*TOTAL|AMOUNT\s*DUE)"
    r"(?![A-Z])|應付|应付|實收|实收|合計|合计|總計|总计",
    re.IGNORECASE,
)
NEGATIVE = re.compile(r"(?<![\w.])-\s?\d+[.,]\d{2}(?!\d)")
NOTICE = re.compile(
    r"(?<![A-Z])(?:NO\s+(?:REFUND|EXCHANGE)|NOT|NON[\s-]?REFUND)(?![A-Z])|不", re.IGNORECASE
)


class AmountCheck:
    name = "amount"
    label = "Total is plausible"
    order = 30

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        found = receipt.fields.total
        if found is None:
            return CheckResult.warning("no_amount")
        total = found.value
        if not isinstance(total, Decimal) or not total.is_finite():
            return CheckResult.failure("amount_invalid", f"total {total!r} is not a Decimal")
        if total < 0 or "refund" in receipt.fields.warnings:
            # The reader saw money going back (a negative total, "REFUND TOTAL", a receipt
            # titled as a void): staff decide, the member is not told it cannot be right.
            return CheckResult.warning("refund", f"read total {total}")
        if total == 0 or total >= ABSURD:
            return CheckResult.failure("amount_invalid", f"total {total}")
        refund = next(
            (line for line in receipt.lines if REFUND.search(line) and not NOTICE.search(line)),
            None,
        )
        if refund is None:
            refund = _negative_due(receipt.lines)
        if refund is not None:
            return CheckResult.warning("refund", f"printed {refund[:80]!r}")
        limit = shop.review_limit
        if limit is not None and total > limit:
            return CheckResult.warning(
                "amount_over_review_limit",
                f"total {total} over the limit {limit}",
                limit=_money(limit, shop),
            )
        usual = shop.receipts.amount_range
        if usual is not None and not usual[0] <= total <= usual[1]:
            return CheckResult.warning(
                "amount_out_of_range", f"total {total} outside {usual[0]}-{usual[1]}"
            )
        return CheckResult.ok(f"total {total}")


def _money(amount: Decimal, shop: ShopProfile) -> str:
    """ "HK$1,000.00" style for the member's message; other currencies by code."""
    symbol = {"HKD": "HK$", "CNY": "¥", "TWD": "NT$", "USD": "US$", "MOP": "MOP$"}
    currency = shop.receipts.currency or "HKD"
    prefix = symbol.get(currency, f"{currency} ")
    return f"{prefix}{amount.quantize(Decimal('0.01')):,}"


def _negative_due(lines: tuple[str, ...]) -> str | None:
    """The amount-due line when its amount (on it, or on the next line) is negative."""
    for n, line in enumerate(lines):
        if DUE.search(line):
            for text in lines[n : n + 2]:
                if NEGATIVE.search(text):
                    return f"{line} {text}" if text != line else line
    return None
