"""Choosing the total: hand-written layouts for the rules in parse/total.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading.parse import parse_lines
from loyalchat.receipts.reading.parse.labels import classify
from tests.receipt_lines import layout

MALAYSIA = ReceiptProfile(currency="MYR", timezone="Asia/Kuala_Lumpur")


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


def _total(rows: list) -> Decimal | None:
    fields = parse_lines(layout(rows), MALAYSIA, now=datetime(2019, 1, 31))
    return fields.total.value if fields.total else None


def test_tax_summary_footer_is_not_the_total() -> None:
    # The only total-labelled row is the GST summary footer (net, tax): cash paid wins.
    rows = [
        "KEDAI RUNCIT MAJU SDN BHD",
        "TAX INVOICE",
        ["MILO 1KG 2 X 15.80", "31.60"],
        ["GARDENIA BREAD", "3.90"],
        ["SUB-TOTAL(EX)", "33.49"],
        ["TOTAL TAX", "2.01"],
        ["CASH", "35.50"],
        ["CHANGE", "0.00"],
        "GST SUMMARY",
        ["SR 6.00", "33.49", "2.01"],
        ["TOTAL:", "33.49", "2.01"],
    ]
    assert _total(rows) == Decimal("35.50")


def test_tax_summary_footer_loses_to_the_printed_total() -> None:
    rows = [
        "KOPITIAM SRI PETALING",
        ["COFFEE O 1 2.30", "2.30"],
        ["TEA 1 2.40", "2.40"],
        ["TOTAL GST", "0.27"],
        ["AMT PAID INCL GST:", "RM4.70"],
        ["CASH", "10.00"],
        ["CHANGE", "5.30"],
        "GST SUMMARY AMT(RM) TAX(RM)",
        ["SR 6%", "4.43", "0.27"],
        ["TOTAL", "4.43", "027"],
    ]
    assert _total(rows) == Decimal("4.70")


def test_total_after_a_discount_supersedes_the_earlier_total() -> None:
    # "Type: 1 Total" before the bill discount; "Total Inclusive GST" is what was paid.
    rows = [
        "HARDWARE TRADING SDN BHD",
        ["2 TOWEL ROD 5.80", "11.60"],
        ["Type: 1 Total", "11.60"],
        ["Discount", "1.16"],
        ["Rounding Adj", "0.01"],
        ["Total Inclusive GST:", "10.45"],
        ["CASH", "20.00"],
        ["Change", "9.55"],
    ]
    assert _total(rows) == Decimal("10.45")


def test_total_paid_above_change_counts_as_tendered() -> None:
    rows = [
        "BAKERY CAFE",
        ["T-Saha Bread", "RM4.60"],
        ["T-Green Tea Mochi", "RM3.30"],
        ["Total (Incl GST, 0%)", "RM7.89"],
        ["Rounding", "RM0.01"],
        ["Total Paid", "RM10.00"],
        ["Change", "RM2.10"],
    ]
    assert _total(rows) == Decimal("7.90")


def test_cash_rounding_to_five_cents_uses_amount_paid() -> None:
    rows = [
        "SIMPLIFIED TAX INVOICE",
        ["(Excluded GST) Sub Total (RM):", "106.10"],
        ["Total GST (RM):", "6.37"],
        ["Rounding (RM):", "-0.02"],
        ["Total (RM):", "112.46"],
        ["CASH:", "112.45"],
        ["Change (RM):", "0.00"],
    ]
    assert _total(rows) == Decimal("112.45")


def test_total_included_gst_is_a_tax_line() -> None:
    label = classify("(Total Included GST 0 6% 1.42}")
    assert label is not None and label.kind == "tax"
    label = classify("Total Incl. GST 25.15")
    assert label is not None and label.kind == "total"
