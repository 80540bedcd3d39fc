"""Total labels and their look-alikes, and picking the total from labelled rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loyalchat.receipts.reading.parse.generic import parse_lines
from loyalchat.receipts.reading.parse.labels import TOTAL, classify
from tests.receipt_lines import layout

POSITIVE = [
    "總計", "合計", "總額", "實收", "應付", "應收", "应付金额", "合计", "实付", "实收", "總數",
    "TOTAL", "Total:", "GRAND TOTAL", "AMOUNT DUE", "NETT TOTAL", "NET TOTAL", "TOTAL AMOUNT",
    "TOTAL (RM)", "TOTAL (HK$)", "ROUNDED TOTAL", "Total Amt Rounded", "TOTAL PAYABLE",
    "Total Incl. GST", "TTL ATF RND", "Amount To Be Paid", "TOTAI", "T0TAL", "總 計", "合 计",
]  # fmt: skip
NEGATIVE = {
    "subtotal": ["小計", "小计", "SUBTOTAL", "SUB TOTAL", "Sub-Total", "Subtotai:", "SUB-TTL"],
    "change": ["找零", "找續", "CHANGE", "Change Due", "CHANGF"],
    "tendered": [
        "現金",
        "现金",
        "CASH",
        "Cash Tendered",
        "PAYMENT",
        "八達通",
        "VISA",
        "AMT TENDERED",
        "Amount Received",
    ],
    "discount": ["折扣", "優惠", "DISCOUNT", "Total Discount", "TOTAL SAVINGS"],
    "tax": ["TAX", "GST @6%", "SST", "Total GST", "Total 6% supplies (excl. GST)"],
    "service": ["服務費", "服务费", "SERVICE CHARGE", "加一服務費"],
    "rounding": ["ROUNDING", "ROUNDING ADJ", "Rounding Adjustment", "抹零", "Cash Rounding"],
    "count": ["TOTAL QTY", "TOTAL ITEMS", "Total Item(s)", "件數", "數量", "共3件"],
    "total_excl": ["TOTAL EXCL. GST", "Total Excl. of GST", "TOTAL EXCLUDING SST"],
}


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


@pytest.mark.parametrize("text", POSITIVE)
def test_total_labels(text: str) -> None:
    label = classify(text)
    assert label is not None and label.kind == TOTAL, text


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, texts in NEGATIVE.items() for t in texts])
def test_look_alikes_are_not_totals(kind: str, text: str) -> None:
    label = classify(text)
    assert label is not None and label.kind == kind, (text, label)


def test_a_vague_total_word_takes_the_strength_of_the_words_after_it() -> None:
    # "AMOUNT TO PAY" is as sure as "TO PAY"; "AMT PAID INCL GST" stays a total.
    to_pay, amount = classify("Amount to Pay:"), classify("AMOUNT")
    assert to_pay is not None and amount is not None and to_pay.kind == TOTAL
    assert to_pay.strength > amount.strength
    paid = classify("AMT PAID INCL GST:")
    assert paid is not None and paid.kind == TOTAL


@pytest.mark.parametrize("text", ["NEXT VISIT 5.00", "PHONE CASE 12.00", "Sunflower Stem 17.13"])
def test_ordinary_words_are_not_corrected_into_labels(text: str) -> None:
    # One letter off NETT, CASH and ITEM, but words of their own; OCR's TOTL and CA5H are
    # still put right.
    assert classify(text) is None, text
    assert classify("TOTL :") is not None and classify("CA5H") is not None


def test_strong_labels_outrank_plain_total() -> None:
    grand, plain = classify("GRAND TOTAL"), classify("TOTAL")
    assert grand and plain and grand.strength > plain.strength


def _total(rows: list) -> tuple[Decimal | None, float]:
    fields = parse_lines(layout(rows), now=None)
    assert fields.total is not None
    return fields.total.value, fields.total.confidence


def test_subtotal_below_total_is_not_taken() -> None:
    value, confidence = _total(
        [["TOTAL", "88.00"], ["CASH", "100.00"], ["CHANGE", "12.00"], ["SUBTOTAL", "80.00"]]
    )
    assert value == Decimal("88.00") and confidence >= 0.8


def test_cash_tendered_larger_than_total() -> None:
    value, confidence = _total(
        [
            ["Coffee", "38.00"],
            ["Cake", "50.00"],
            ["總計", "$88.00"],
            ["現金", "$500.00"],
            ["找續", "$412.00"],
        ]
    )
    assert value == Decimal("88.00") and confidence >= 0.8


def test_last_strong_label_wins_after_service_charge() -> None:
    value, confidence = _total(
        [
            ["小計", "200.00"],
            ["服務費 10%", "20.00"],
            ["折扣", "-10.00"],
            ["合計", "210.00"],
            ["VISA", "210.00"],
        ]
    )
    assert value == Decimal("210.00") and confidence >= 0.8


def test_value_on_the_line_below_the_label() -> None:
    value, _ = _total([["Item A", "10.00"], "AMOUNT DUE", "HK$10.00", ["OCTOPUS", "10.00"]])
    assert value == Decimal("10.00")


def test_disagreeing_change_lowers_confidence() -> None:
    value, confidence = _total([["TOTAL", "58.00"], ["CASH", "100.00"], ["CHANGE", "32.00"]])
    assert value == Decimal("58.00") and confidence < 0.6


def test_no_label_is_a_low_confidence_guess() -> None:
    value, confidence = _total([["Noodles", "42.00"], ["Tea", "8.00"]])
    assert value == Decimal("42.00") and confidence < 0.5


def test_quantities_phones_dates_never_totals() -> None:
    value, _ = _total(
        [
            "Tel: 2345 6789",
            "Date: 22/11/2026 14:03",
            "Receipt No: 004512",
            ["TOTAL QTY", "3"],
            ["TOTAL", "45.50"],
        ]
    )
    assert value == Decimal("45.50")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("CASHRM 150.00", "tendered"), ("CHANGERM .10", "change"), ("CASHIER: ALI", None)],
)
def test_a_currency_mark_printed_against_the_label(text: str, kind: str | None) -> None:
    # "CASHRM 150.00": the label and the currency with no space between them.
    label = classify(text)
    assert (label.kind if label else None) == kind


def test_cash_and_change_printed_against_their_currency_prove_the_total() -> None:
    rows = [
        "99 SPEED MART",
        ["489 TIGER BEER CAN", "RM108.50 s"],
        ["Total Sales (Inclusive GST) RM", "108.50"],
        ["CASHRM", "150.00"],
        ["CHANGERM", "41.50"],
    ]
    fields = parse_lines(layout(rows))
    assert fields.total is not None and fields.total.value == Decimal("108.50")
    assert fields.total.confidence >= 0.8


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("10% Srv Chg 8.78", "service"),
        ("TOTAL INCLUDES 6% GST 3.98", "tax"),
        ("Total Includes GST 0% 3.20", TOTAL),
    ],
)
def test_service_and_tax_lines_in_their_short_forms(text: str, kind: str) -> None:
    # "TOTAL INCLUDES 6% GST 3.98" prints the tax in the total, not the total.
    label = classify(text)
    assert label is not None and label.kind == kind


def test_what_a_machine_accepted_is_a_payment_not_a_total() -> None:
    # A parking machine: "Accepted total 2.00" is the cash put in, "Change 0.50" back.
    assert classify("Accepted total 2.00 RM").kind == "tendered"
    rows = [
        "DION REALTIES SDN BHD",
        ["010100 Pay parking ticket", "1.50 RM"],
        ["Total amount", "1.50 RM"],
        ["Accepted total", "2.00 RM"],
        ["Change", "0.50 RM"],
    ]
    fields = parse_lines(layout(rows))
    assert fields.total is not None and fields.total.value == Decimal("1.50")
    assert fields.total.confidence >= 0.8
