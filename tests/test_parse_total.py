"""Choosing the total: hand-written layouts for the rules in parse/total.py."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading.parse import parse_lines
from loyalchat.receipts.reading.parse.labels import classify, correct
from tests.receipt_lines import layout
from tests.test_total_ranker import FOOLED

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


def _fields(rows: list):
    return parse_lines(layout(rows), MALAYSIA, now=datetime(2019, 1, 31))


@pytest.mark.parametrize(
    "text",
    ["Total SV:10.56 Total GV:10.56", "TOTAL PV 25.00", "Total Points: 45.00", "本次积分 12.00"],
)
def test_points_are_not_money(text: str) -> None:
    label = classify(text)
    assert label is not None and label.kind == "count"


def test_point_value_tally_is_not_the_total() -> None:
    # A direct-selling receipt: the points earned carry a "TOTAL" label too.
    rows = [
        "COSWAY (M) SDN BHD",
        ["8 069884 2 26.70", "53.40"],
        ["8 081118 1 32.70", "32.70"],
        ["8 741698 1 25.80", "25.80"],
        ["AMT PAID INCL GST:", "RM111.90"],
        ["GST AMT:", "RM6.33"],
        ["PAID BY: CC*7186:", "RM111.90"],
        "TOTAL QTY:4 RC EARNED:3",
        ["Total SV:10.56", "Total GV:10.56"],
        ["RC Balance:", "0.00"],
    ]
    assert _total(rows) == Decimal("111.90")


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        ("IUIAL", "TOTAL"),
        ("SUBIUIAL", "SUBTOTAL"),
        ("KUUNDING", "ROUNDING"),
        ("TRIAL", "TRIAL"),
        ("KOTAK", "KOTAK"),
    ],
)
def test_lookalike_letters_of_worn_print(word: str, meant: str) -> None:
    assert correct(word) == meant


def test_total_printed_in_a_font_the_ocr_misreads() -> None:
    # Real OCR of a worn receipt: T read as I, O as U, R as K.
    rows = [
        "GUARDIAN HEALTH AND BEAUTY SDN BHD",
        ["121056217 FKINGLES SUUK/CK", "4.80"],
        ["SUBIUIAL", "4.80"],
        ["6% IKX % D1SC", "0.24-"],
        ["SUBIUIAL", "4.51"],
        ["KUUNDING ADJUSIMENIS", "0.01-"],
        ["IUIAL (bSI IMLL)", "4.50"],
        ["CASH", "4.50"],
        ["YUUK SAVINGS FUK IUDAY", "0.29"],
        "GSI - Kate ---b5I Excl - b51 Amt",
        ["6%", "4.25", "0.26"],
    ]
    assert _total(rows) == Decimal("4.50")


def test_one_misread_digit_is_repaired_from_change_and_subtotal() -> None:
    rows = [
        "GH DISTRIBUTOR & MARKETING SDN BHD",
        ["4 TAU SAR PNEAH @9.00", "36.00"],
        ["2 BEH TEH SAW @8.00", "16.00"],
        ["2 PHONG PNEAH @9.00", "18.00"],
        ["2 DB TAU SAR PNEAH @7.60", "15.20"],
        ["10 SubTotal", "85.20"],
        ["Net Total", "35.20"],  # 8 read as 3
        ["Cash", "100.20"],
        ["CHANGE", "15.00"],
    ]
    fields = _fields(rows)
    assert fields.total is not None and fields.total.value == Decimal("85.20")
    assert fields.total.confidence <= 0.7  # repaired, so staff confirm it
    assert "total_misread" in fields.warnings


def test_a_total_differing_from_change_by_more_than_a_digit_is_kept() -> None:
    # A discount not printed as such: cash minus change disagrees, nothing is repaired.
    rows = [
        "KEDAI MAJU",
        ["ITEM A", "85.20"],
        ["SubTotal", "85.20"],
        ["Net Total", "60.00"],
        ["Cash", "100.20"],
        ["CHANGE", "15.00"],
    ]
    fields = _fields(rows)
    assert fields.total is not None and fields.total.value == Decimal("60.00")
    assert fields.total.confidence < 0.8


def _read(rows: list):
    return parse_lines(layout(rows), MALAYSIA, now=datetime(2019, 1, 31)).total


def test_items_adding_up_to_the_total_make_it_trusted() -> None:
    # No subtotal, no cash and change: only the item lines prove the total.
    items = [
        "THAI EXPRESS SDN BHD",
        ["2 D15 8.90", "17.80"],
        "THAI ICE TEA",
        ["FR01 12.90", "12.90"],
        "BELACAN FRIED RICE",
    ]
    right = _read([*items, ["Total Amount:", "30.70"]])
    assert right is not None and right.value == Decimal("30.70") and right.confidence >= 0.8
    # The same receipt whose items do not add up to the total (a digit misread): asked.
    off = _read([*items, ["Total Amount:", "36.70"]])
    assert off is not None and off.value == Decimal("36.70") and off.confidence < 0.8


def test_items_prove_the_total_only_after_the_discount_and_rounding() -> None:
    items = ["MINI MART", ["BREAD", "4.60"], ["MILK", "7.85"]]
    # 12.45 - 1.00 discount - 0.05 rounding: the total before them is not proven by the items.
    before = _read([*items, ["TOTAL", "12.45"], ["MEMBER DISCOUNT", "1.00"], ["ROUNDING", "0.05"]])
    assert before is not None and before.confidence < 0.8
    after = _read([*items, ["MEMBER DISCOUNT", "-1.00"], ["ROUNDING", "-0.05"], ["TOTAL", "11.40"]])
    assert after is not None and after.value == Decimal("11.40") and after.confidence >= 0.8


def test_items_proving_two_totals_prove_neither() -> None:
    # 20.00 of items, 2.00 of service: both 20.00 and 22.00 are sums of the items, and the
    # receipt names both as totals with nothing between them: the items cannot say which
    # was paid.
    rows = [
        "NOODLE HOUSE",
        ["BEEF NOODLE", "12.00"],
        ["LEMON TEA", "8.00"],
        ["TOTAL", "20.00"],
        ["NETT TOTAL", "22.00"],
        ["SERVICE CHARGE 10%", "2.00"],
    ]
    total = _read(rows)
    assert total is not None and total.confidence < 0.8


def test_a_charge_printed_between_two_totals_proves_the_lower_one() -> None:
    # "TOTAL 20.00 / SERVICE CHARGE 2.00 / NETT TOTAL 22.00": the first total is the
    # subtotal of the second. The same lines with the total misread are asked.
    head = ["NOODLE HOUSE", ["BEEF NOODLE", "12.00"], ["LEMON TEA", "8.00"], ["TOTAL", "20.00"]]
    right = _read([*head, ["SERVICE CHARGE 10%", "2.00"], ["NETT TOTAL", "22.00"]])
    assert right is not None and right.value == Decimal("22.00") and right.confidence >= 0.8
    off = _read([*head, ["SERVICE CHARGE 10%", "2.00"], ["NETT TOTAL", "27.00"]])
    assert off is not None and off.confidence < 0.8


def test_a_rounding_between_two_totals_proves_the_rounded_one() -> None:
    # One item line (no item proof), no cash and change: the rounding printed between
    # the totals is the only arithmetic, and an unlabelled larger number below is noise.
    rows = [
        "PREMIO STATIONERY",
        ["1 SR SQUARE THUMB 30 0.85", "25.44"],
        ["Total :", "25.44"],
        ["Rounding Adjustment:", "0.01"],
        ["Amount To Be Paid :", "25.45"],
        ["like us on facebook.com", "25.50"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("25.45") and total.confidence >= 0.8
    # The adjustment must change the amount: a zero rounding proves nothing.
    flat = _read([*rows[:3], ["Rounding Adjustment:", "0.00"], ["Amount To Be Paid :", "25.44"]])
    assert flat is not None and flat.value == Decimal("25.44") and flat.confidence < 0.8


def test_the_total_before_tax_plus_the_tax_proves_the_total() -> None:
    # A weak total label ("Total Sales (Inclusive of GST)"): cash less change alone is not
    # enough; the total before tax plus the tax printed makes it.
    rows = [
        "CAMPING WORLD SDN BHD",
        "3180201.6",
        ["1099 3 90.10", "270.30"],
        ["Total Sales (Excluding GST):", "255.00"],
        ["Total GST", "15.30"],
        ["Total Sales (Inclusive of GST) :", "270.30"],
        ["CASH :", "270.30"],
        ["Change :", "0.00"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("270.30") and total.confidence >= 0.8
    no_tax = _read([r for r in rows if r[0] != "Total GST"])
    assert no_tax is not None and no_tax.value == Decimal("270.30") and no_tax.confidence < 0.8


def test_cash_less_change_outweighs_a_larger_stray_number() -> None:
    # A number in the address (281.10) is larger than the total; the cash handed over
    # less the change says 15.40 was paid, so the stray number does not lower it.
    head = [
        "LOT P.T. 281.10, JALAN ANGSA",
        ["T-BUTTER SUGAR BUN", "RM2.25"],
        ["SAHA BREAD", "13.15"],
    ]
    paid = _read([*head, ["Total", "15.40"], ["Cash", "50.00"], ["Change", "34.60"]])
    assert paid is not None and paid.value == Decimal("15.40") and paid.confidence >= 0.8
    assert (
        "larger_amount_printed"
        not in _fields([*head, ["Total", "15.40"], ["Cash", "50.00"], ["Change", "34.60"]]).warnings
    )
    # Cash and change that do not agree leave the larger number's doubt in place.
    unpaid = _read([*head, ["Total", "15.40"], ["Cash", "50.00"], ["Change", "30.00"]])
    assert unpaid is not None and unpaid.confidence < 0.8


def test_items_prove_the_total_with_the_tax_row_not_the_taxable_bases() -> None:
    # A bakery's invoice: rows per tax rate print what the tax is charged on ("Total 6%
    # supplies (excl. GST)"), then the GST itself; goods returned come back negative,
    # with their negative GST. The items plus the GST row make the total.
    rows = [
        "GARDENIA BAKERIES (KL) SDN BHD",
        ["O.C. WHITE 2.13 4 1 0 3", "6.39"],
        ["WHOLEMEAL 2.78 5 0 0 5", "13.90"],
        ["O.C JUMBO 2.97 5 0 5", "14.85"],
        ["Total 0% supplies:", "35.14"],
        ["CR-CHOCLT 0.72 0 5 0 -5", "-3.60"],
        ["Total 6% supplies (excl. GST):", "-3.60"],
        ["GST:", "-0.22"],
        ["Total 6% supplies (Inc. GST):", "-3.82"],
        ["Total 0% supplies:", "35.14"],
        ["Total Payable:", "31.32"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("31.32") and total.confidence >= 0.8
    misread = _read([*rows[:-1], ["Total Payable:", "31.82"]])
    assert misread is not None and misread.confidence < 0.8


def test_a_rounding_row_printing_the_rounded_total_is_not_an_adjustment() -> None:
    rows = [
        "SYARIKAT PERNIAGAAN GIN KEE",
        ["0715 KNORR CHICKEN STOCK 1K", "RM16.85"],
        ["5596 HYGIENIC 7.5 INCH COLO", "RM6.06"],
        ["@6 X RM", "1.01"],
        ["Total Sales (Inclusive GST)", "RM 22.91"],
        ["Rounding Adjustment", "RM -.01"],
        ["Rounding", "RM 22.90"],
        ["GST Summary Amount(RM) Tax(RM)", ""],
    ]
    total = _read([r for r in rows if r[-1] != ""])
    assert total is not None and total.value == Decimal("22.90") and total.confidence >= 0.8


def test_items_outvote_a_strong_label_below_the_payment() -> None:
    # The ranker's fooling receipt (a bottom-most "DUE 99.00") with two item lines: the
    # items, the subtotal plus tax and the card payment all say 16.43. Still a rival
    # total: a person confirms it.
    rows = ["KEDAI MAJU", ["NASI LEMAK", "12.00"], ["TEH TARIK", "3.50"], *FOOLED[2:]]
    total = _read(rows)
    assert total is not None and total.value == Decimal("16.43") and total.confidence < 0.8


def test_a_total_tax_row_is_a_charge_the_items_add() -> None:
    # "TOTAL GST" and "税额合计" print the tax itself, not what it is charged on.
    for tax in ("TOTAL GST", "税额合计"):
        rows = ["KEDAI MAJU", ["NASI LEMAK", "10.00"], ["TEH TARIK", "5.00"], [tax, "0.90"]]
        total = _read([*rows, ["TOTAL", "15.90"]])
        assert total is not None and total.value == Decimal("15.90") and total.confidence >= 0.8


def test_a_receipt_in_whole_dollars_is_proven_by_its_items_and_its_change() -> None:
    # NT$ receipts print no cents: the items (quantity times unit price), the cash and the
    # change count in whole dollars, and the total under its label is found.
    head = ["信仁早餐店", "電話:(02)2572-9167", "桌號: 14", "品名 數量 單價 金額"]
    items = [["鐵板麵 3@70", "210"], ["小籠包 3@90", "270"], ["紫米飯糰 1@50", "50"]]
    proven = _read([*head, *items, "總金額", "NT 530"])
    assert proven is not None and proven.value == Decimal("530") and proven.confidence >= 0.8
    paid = _read([*head[:3], "總金額", "NT 571", ["現金", "600"], ["找錢", "29"]])
    assert paid is not None and paid.value == Decimal("571") and paid.confidence >= 0.8
    # Items that do not come to the total prove nothing.
    off = _read([*head, *items, "總金額", "NT 560"])
    assert off is not None and off.value == Decimal("560") and off.confidence < 0.8


def test_an_unlabelled_row_printing_the_sum_of_the_items_ends_them() -> None:
    # "BILL 30.70" is a subtotal in a word the labels do not know: the items stop there,
    # and the discount below it is taken off once though printed twice.
    rows = [
        "THAI EXPRESS SDN BHD",
        ["2 D15 8.90", "17.80"],
        ["FR01 12.90", "12.90"],
        ["BILL", "30.70"],
        ["MEMBER DISCOUNT", "-1.70"],
        ["TOTAL", "29.00"],
        ["YOU SAVED", "1.70"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("29.00") and total.confidence >= 0.8
    off = _read([*rows[:5], ["TOTAL", "29.50"], rows[6]])
    assert off is not None and off.confidence < 0.8


def test_a_small_unlabelled_amount_between_subtotal_and_total_is_a_rounding() -> None:
    # "零头 (0.07)", "尾差 -0.01": a rounding in a word the labels do not know still makes
    # the subtotal's arithmetic; any other small amount does not.
    def rows(odd: str) -> list:
        return [
            "KOPI CORNER",
            ["1 X 9.37", "9.37"],
            ["SUBTOTAL", "39.37"],
            ["ODDMENT", odd],
            ["TOTAL", "39.30"],
        ]

    proven = _read(rows("(0.07)"))
    assert proven is not None and proven.value == Decimal("39.30") and proven.confidence >= 0.8
    off = _read(rows("(0.05)"))
    assert off is not None and off.value == Decimal("39.30") and off.confidence < 0.8


def test_a_cash_rounding_row_is_a_rounding_not_the_cash_handed_over() -> None:
    rows = [
        "BAMBOO JUICE CO.",
        ["Winter Melon Lemon x4", "33.00"],
        ["Goods Total", "88.44"],
        ["Cash Rounding", "0.01"],
        ["NETT TOTAL", "88.45"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("88.45") and total.confidence >= 0.8


def test_a_total_whose_decimal_point_was_lost_is_repaired_and_asked() -> None:
    # "TOTAL 170" on a receipt in cents, whose items come to 1.70: the point was lost.
    rows = ["MINI MART", ["SWEET", "1.00"], ["GUM", "0.70"], ["TOTAL", "RM170"]]
    total = _read(rows)
    assert total is not None and total.value == Decimal("1.70")
    assert 0.5 <= total.confidence < 0.8
    kept = _read([*rows[:3], ["TOTAL", "RM180"]])
    assert kept is not None and kept.value == Decimal("180")


def test_no_total_label_is_trusted_only_when_change_and_items_both_prove_it() -> None:
    # No word names the total; cash less change is 28.70, printed as the subtotal, and
    # the items add up to it: two proofs that do not depend on each other.
    items = ["NASI LEMAK HOUSE", ["SALTED F.RICE", "8.50"], ["NASI LEMAK", "9.80"]]
    tail = [["CASH", "50.00"], ["CHANGE", "31.70"]]
    proven = _read([*items, ["SUBTOTAL", "18.30"], *tail])
    assert proven is not None and proven.value == Decimal("18.30") and proven.confidence >= 0.8
    # Cash less change alone, or items that come to another amount, stay a guess.
    alone = _read([items[0], ["SUBTOTAL", "18.30"], *tail])
    assert alone is not None and alone.value == Decimal("18.30") and alone.confidence < 0.8
    off = _read([*items[:2], ["NASI LEMAK", "9.90"], ["SUBTOTAL", "18.30"], *tail])
    assert off is not None and off.confidence < 0.8


def test_a_total_printed_on_the_row_of_another_label_is_found() -> None:
    # "Total Saving 0.00 Total 77.20": two label-and-amount pairs on one row.
    rows = [
        "GIANT HYPERMARKET",
        ["8809069300708 7.90*3", "23.70"],
        ["3068320113784 53.50*1", "53.50"],
        ["Total Saving 0.00 Total", "77.20"],
        ["Cash", "100.00"],
        ["Change", "22.80"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("77.20") and total.confidence >= 0.8
    # The first pair's amount, the saving, is never taken for the total.
    saving = _read([*rows[:3], ["Total Saving 5.00 Total", "72.20"], *rows[4:]])
    assert saving is not None and saving.value == Decimal("72.20")


def test_a_payment_of_the_rounded_amount_says_the_rounding_was_taken() -> None:
    # No rounded total printed (or its amount lost), no change: the payment is the proof.
    head = ["KEDAI RUNCIT", ["BISCUIT", "30.00"], ["MILO", "41.02"], ["TOTAL", "71.02"]]
    paid = _read([*head, ["ROUNDING ADJ", "-0.02"], ["CASH", "71.00"]])
    assert paid is not None and paid.value == Decimal("71.00")
    # A larger note handed over, change printed: cash less change decides, as before.
    change = _read([*head, ["ROUNDING ADJ", "-0.02"], ["CASH", "100.00"], ["CHANGE", "29.00"]])
    assert change is not None and change.value == Decimal("71.00")


def test_a_count_printed_before_a_label_on_its_row_does_not_hide_it() -> None:
    # "Qty: 6 Total Amount: RM31.60", "Qty 8 Rounding 0.02": the count is not the label
    # of the row; the total and the rounding after it are.
    rows = [
        "FTOF NOODLE HOUSE",
        ["RM 12.42 0.00", "RM12.42"],
        ["RM 19.20 0.00", "RM19.20"],
        ["Qty: 6 Total Amount:", "RM31.62"],
        ["Qty 8 Rounding", "-0.02"],
        ["Total", "31.60"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("31.60") and total.confidence >= 0.8
    assert classify("Qty: 6 Total Amount: RM31.62").kind != "total"  # the row's first label


def test_after_discount_is_what_is_left_not_a_discount() -> None:
    # "DISCOUNT 0.00 / AFTER DISCOUNT 31.60": the items add up to the total, and the line
    # after the discount must not be taken off them as if it were one.
    rows = [
        "FACE TO FACE NOODLE HOUSE",
        ["RM 3.20 1 0.00", "RM3.20"],
        ["RM 20.40 1 0.00", "RM20.40"],
        ["RM 8.00 1 0.00", "RM8.00"],
        ["Discount:", "RM0.00"],
        ["After Discount:", "RM31.60"],
        ["Total Sales:", "RM31.60"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("31.60") and total.confidence >= 0.8
    assert classify("TOTAL AFTER DISCOUNT").kind == "total"


def test_a_total_before_a_charge_printed_below_it_is_doubted() -> None:
    # The total line was lost; the goods total above the service charge is not what was
    # paid, as the charge and the payment of goods plus charge below it say.
    rows = [
        "LO CHAN HERBAL TEA",
        ["雞骨草 2@15.00", "30.00"],
        ["龜苓膏 1@32.00", "32.00"],
        ["貨品總額", "62.00"],
        ["服務費(10%)", "6.20"],
        ["八達通 Octopus Payment", "68.20"],
    ]
    read = parse_lines(layout(rows), MALAYSIA, now=datetime(2019, 1, 31))
    assert read.total is not None and read.total.confidence < 0.8
    assert "charge_after_total" in read.warnings
    # With the total printed, it is trusted as before.
    whole = _read([*rows[:5], ["合計金額", "68.20"], rows[5]])
    assert whole is not None and whole.value == Decimal("68.20") and whole.confidence >= 0.8


def test_supplies_at_each_tax_rate_adding_up_prove_the_total() -> None:
    # A delivery invoice prints its supplies per tax rate, tax included, and no subtotal:
    # together they make the total; the supplies before tax do not.
    head = ["GARDENIA BAKERIES (KL) SDN BHD", ["O.C. WHITE 2.13 3 0 3", "6.39"]]
    rates = [
        ["Total 0% supplies:", "25.32"],
        ["Total 6% supplies (excl. GST):", "37.91"],
        ["GST:", "2.27"],
        ["Total 6% supplies (Inc. GST):", "40.18"],
    ]
    proven = _read([*head, *rates, ["Total Payable:", "65.50"]])
    assert proven is not None and proven.value == Decimal("65.50") and proven.confidence >= 0.8
    # Without the supplies tax included, nothing adds up to it.
    unproven = _read([*head, *rates[:3], ["Total Payable:", "65.50"]])
    assert unproven is not None and unproven.confidence < proven.confidence


def test_a_tax_summary_below_the_total_prints_no_larger_amount_paid() -> None:
    # "SR 6.00 4.43 0.27" under "GST Summary": a rate, a base and a tax, not money paid
    # that would make the total look like a part of the bill.
    rows = [
        "KEDAI BUKU",
        ["1 BOOK 10X 1 4.70", "4.70"],
        ["Total:", "4.70"],
        ["Cash Received:", "4.70"],
        "GST Summary",
        ["SR 6.00 4.43", "0.27"],
    ]
    read = parse_lines(layout(rows), MALAYSIA, now=datetime(2019, 1, 31))
    assert read.total is not None and read.total.value == Decimal("4.70")
    assert "larger_amount_printed" not in read.warnings and read.total.confidence >= 0.8


def test_no_total_label_and_the_exact_payment_proven_by_the_items() -> None:
    # No total word, no change: the one payment equals the subtotal the items add up to.
    items = ["TIGER BAKERY", ["Bacon", "RM4.90"], ["Walnut Raisin", "RM8.60"]]
    proven = _read([*items, ["SUBTOTAL", "RM13.50"], ["CASH", "RM13.50"]])
    assert proven is not None and proven.value == Decimal("13.50") and proven.confidence >= 0.8
    # Items that come to another amount prove nothing: a guess for staff, as before.
    off = _read([*items, ["SUBTOTAL", "RM13.60"], ["CASH", "RM13.60"]])
    assert off is not None and off.confidence < 0.8


def test_supplies_count_goods_returned_as_negative() -> None:
    # An adjustment note: more bread taken back than delivered at 6 %; the supplies add up
    # to the total only with their signs.
    rows = [
        "GARDENIA BAKERIES (KL) SDN BHD",
        ["O.C. WHITE 2.13 10 2 0 8", "17.04"],
        ["Total 0% supplies:", "11.10"],
        ["Total 6% supplies (excl. GST):", "-7.44"],
        ["GST:", "-0.45"],
        ["Total 6% supplies (Inc. GST):", "-7.89"],
        ["Total Payable:", "3.21"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("3.21") and total.confidence >= 0.8


def test_tl_is_a_total_and_cash_change_is_change() -> None:
    # "TL:RM 28.60" abbreviates the total; "CASH CHANGE 71.40" is the change from the cash.
    assert classify("TL:RM 28.60").kind == "total"
    assert classify("CASH CHANGE 71.40").kind == "change"
    rows = [
        "PASAR BORONG",
        ["VEGETABLES 2.20", "ZRL"],
        ["SEAFOOD 26.40", "ZRL"],
        ["SUBTOTAL:", "28.60"],
        ["TL:RM", "28.60"],
        ["CASH", "100.00"],
        ["CASH CHANGE", "71.40"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("28.60") and total.confidence >= 0.8


def test_a_total_whose_decimal_point_was_read_as_a_space() -> None:
    # "GRAND TOTAL 10 00" on a receipt in cents, cash less change agreeing.
    rows = [
        "MYNEWS PAGOH",
        ["02 1 10.00 0.00", "10.00"],
        ["SUB TOTAL", "10.00"],
        ["GRAND TOTAL", "10 00"],
        ["CASH 20.00 MYR", "20.00"],
        ["CHANGE DUE", "10.00"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("10.00") and total.confidence >= 0.8
    # Without the change the payment does not prove it: staff confirm the repaired amount.
    alone = _read(rows[:4])
    assert alone is not None and alone.value == Decimal("10.00") and alone.confidence < 0.8


def test_a_count_then_a_total_in_its_currency_on_one_row() -> None:
    # "Qty: 1 Total RM 11.60": "RM" belongs both to the label and to the amount.
    rows = [
        "KEDAI 123",
        ["9555794100234 11.60", "11.60 SR"],
        "Qty: 1 Total RM 11.60",
        ["CASH", "12.00"],
        ["Change", "0.40"],
    ]
    read = parse_lines(layout(rows), MALAYSIA, now=datetime(2019, 1, 31))
    assert read.total is not None and read.total.value == Decimal("11.60")
    assert "no_total_label" not in read.warnings


def test_no_total_label_and_the_tax_on_the_amount_before_it_proves_the_payment() -> None:
    # The total's label was lost; the amount before tax with the tax is what cash less
    # change says was paid.
    rows = [
        "BOOKXCESS",
        ["0412638 2 14.90", "29.80"],
        ["TOTAL EXCL.GST", "28.11"],
        ["ADD: GST@6%", "1.69"],
        ["", "29.80"],
        ["CASH", "50.00"],
        ["CHANGE", "20.20"],
    ]
    total = _read(rows)
    assert total is not None and total.value == Decimal("29.80") and total.confidence >= 0.8
    # A rounding instead of a tax is not enough: which amount the shop calls its total is
    # then for staff to say.
    rounded = _read(
        [*rows[:3], ["ROUNDING", "-0.01"], ["", "28.10"], ["CASH", "50.00"], ["CHANGE", "21.90"]]
    )
    assert rounded is not None and rounded.confidence < 0.8
