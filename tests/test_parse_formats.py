"""The formats shops print: dates, totals and their distractors, refunds (issue 13, point 4).

Each class is checked in Traditional Chinese (Hong Kong, Taiwan), Simplified Chinese
(mainland) and English, on OCR lines laid out as a till prints them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from loyalchat.extensions.receipts import ReceiptFields, ReceiptProfile
from loyalchat.receipts.reading.parse import parse_lines
from loyalchat.receipts.reading.parse.dates import find_dates, find_times
from loyalchat.receipts.reading.parse.labels import TOTAL, classify
from tests.receipt_lines import layout

HONG_KONG = ReceiptProfile(currency="HKD", timezone="Asia/Hong_Kong")
MAINLAND = ReceiptProfile(currency="CNY", timezone="Asia/Shanghai")
TAIWAN = ReceiptProfile(currency="TWD", timezone="Asia/Taipei")
SINGAPORE = ReceiptProfile(currency="SGD", timezone="Asia/Singapore")
NOW = datetime(2025, 3, 1, 18, 0)
JAN_6 = date(2025, 1, 6)


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


def _read(rows: list, profile: ReceiptProfile, now: datetime = NOW) -> ReceiptFields:
    return parse_lines(layout(rows), profile, now=now)


def _total(fields: ReceiptFields) -> Decimal | None:
    return fields.total.value if fields.total else None


# Dates


@pytest.mark.parametrize(
    "text",
    [
        # eight digits, labelled or beside a time
        "日期:20250106",
        "交易时间：20250106 14:32",
        "Date: 20250106",
        "20250106 14:32:05",
        "2025010614:32",
        # compact numeric forms, 2- and 4-digit years
        "2025/1/6",
        "25-01-06",
        "06.01.25",
        "6/1/2025",
        # month names
        "06-Jan-2025",
        "06-JAN-202514:32",
        "Jan 6, 2025",
        "6 JAN 25",
        "6th January 2025",
        "Monday, January 6, 2025",
        # Chinese
        "2025年1月6日",
        "2025 年 01 月 06 日 星期一",
        "二〇二五年一月六日",
        "25年1月6日",
        # Republic of China years on Taiwanese receipts
        "民國114年1月6日",
        "中華民國 114 年 01 月 06 日",
        "114年01月06日",
        # glued to a time
        "2025-01-06T14:32",
        "2025-01-0614:32:11",
    ],
)
def test_date_forms(text: str) -> None:
    hits = find_dates(text, NOW, "dmy")
    assert [h.value for h in hits] == [JAN_6], text
    assert hits[0].confidence >= 0.8


def test_roc_numeric_date_on_a_taiwanese_receipt() -> None:
    hit = find_dates("114/01/06 14:32", NOW, "ymd")[0]
    assert hit.value == JAN_6 and hit.confidence >= 0.8


def test_month_in_chinese_numerals_without_year_takes_the_latest_past_one() -> None:
    # Read in March 2025, "十二月廿八日" style headers mean last December, not next.
    hit = find_dates("十二月二十八日", NOW, "ymd")[0]
    assert hit.value == date(2024, 12, 28) and hit.confidence <= 0.6
    assert find_dates("12月28日", NOW, "ymd")[0].value == date(2024, 12, 28)


@pytest.mark.parametrize(
    "text",
    [
        "TEL: 20231125",
        "電話 20251106",
        "單號: 20250106-0045",
        "Receipt No 20250106",
        "INV20250106",
        "GST Reg No: 20250106",
        "會員卡號 20250106",
        "20250106.50",
        "20390106",  # in the future
        "19990106",  # decades old
        "1234567",
    ],
)
def test_numbers_that_only_look_like_eight_digit_dates(text: str) -> None:
    assert find_dates(text, NOW, "dmy") == []


def test_unlabelled_eight_digits_are_trusted_less_than_a_labelled_date() -> None:
    bare = find_dates("20250106", NOW, "dmy")[0]
    labelled = find_dates("Date 20250106", NOW, "dmy")[0]
    assert bare.value == labelled.value == JAN_6
    assert bare.confidence < 0.8 <= labelled.confidence


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("下午 02:32", time(14, 32)),
        ("上午 12:05", time(0, 5)),
        ("上午11時05分", time(11, 5)),
        ("PM 02:32", time(14, 32)),
        ("2:32 p.m.", time(14, 32)),
        ("20250106 14:32", time(14, 32)),
        ("2025010614:32", time(14, 32)),
        ("2025-01-06T14:32", time(14, 32)),
        ("06-Jan-202514:32", time(14, 32)),
        ("Apr 16, 202519:34 HRS", time(19, 34)),
        # After a label's colon, with no space: the half of the day still counts.
        ("時間：下午 01:20", time(13, 20)),
        ("时间:下午3:42", time(15, 42)),
        ("時間：14時41分", time(14, 41)),
        ("时间：08:23:26", time(8, 23, 26)),
        ("Time:23:28", time(23, 28)),
    ],
)
def test_time_forms(text: str, expected: time) -> None:
    assert [t.value for t in find_times(text)] == [expected]


def test_a_month_first_date_against_its_time() -> None:
    hits = find_dates("Trans Date: Apr 16, 202519:34 HRS", date(2025, 6, 11))
    assert [h.value for h in hits] == [date(2025, 4, 16)]


def test_a_number_run_is_not_a_time() -> None:
    # The hour is never the tail of another number: "123:45", a clock's seconds.
    assert find_times("TEL 2345:678") == []
    assert [t.value for t in find_times("12:34:56")] == [time(12, 34, 56)]


def test_labelled_eight_digit_date_beats_a_receipt_number_in_hong_kong() -> None:
    fields = _read(
        [
            "美心西餅 Maxim's Cakes",
            "電話: 2345 6789",
            ["單號:", "20241231-0088"],
            "日期: 20250106 下午 02:32",
            ["芒果拿破崙", "$48.00"],
            ["合計", "$48.00"],
            ["八達通", "$48.00"],
            ["八達通餘額", "$152.30"],
        ],
        HONG_KONG,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.date.confidence >= 0.8
    assert fields.time is not None and fields.time.value == time(14, 32)
    assert _total(fields) == Decimal("48.00")


def test_mainland_transaction_time_in_eight_digits() -> None:
    fields = _read(
        [
            "罗森便利店",
            "门店编号: 20230815",
            "交易时间: 20250106 09:15:22",
            ["关东煮", "12.00"],
            ["合计", "12.00"],
            ["支付宝", "12.00"],
        ],
        MAINLAND,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.issued_at is not None
    assert fields.issued_at.value == datetime(2025, 1, 6, 9, 15, 22)


def test_taiwanese_receipt_with_a_minguo_date() -> None:
    fields = _read(
        [
            "全聯福利中心",
            "電子發票證明聯",
            "114年01-02月",
            "民國114年01月06日 下午03:05",
            ["鮮奶 x1", "$95"],
            ["總計", "NT$95"],
            ["現金", "$100"],
            ["找零", "$5"],
        ],
        TAIWAN,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.time is not None and fields.time.value == time(15, 5)
    assert _total(fields) == Decimal("95")


def test_english_month_name_date_in_singapore() -> None:
    fields = _read(
        [
            "TOAST BOX",
            "GST Reg No: 200212345K",
            "06-Jan-2025 14:32",
            ["KAYA TOAST SET", "5.60"],
            ["TOTAL DUE", "$5.60"],
            ["CASH", "$10.00"],
            ["CHANGE", "$4.40"],
        ],
        SINGAPORE,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.date.confidence >= 0.8
    assert _total(fields) == Decimal("5.60")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("02N0V26", date(2026, 11, 2)),  # O read as a zero
        ("02 0CT 2026", date(2026, 10, 2)),
        ("AU6 15, 2026", date(2026, 8, 15)),  # G read as a six
        ("5EP 03, 2026", date(2026, 9, 3)),  # S read as a five
        ("12 A6 NOTE BOOK", None),  # no month near the digits
    ],
)
def test_month_names_with_a_digit_for_a_letter(text: str, expected: date | None) -> None:
    hits = find_dates(text, datetime(2026, 11, 23), "dmy")
    assert [h.value for h in hits] == ([expected] if expected else [])


def test_a_period_printed_on_one_line_is_not_the_purchase_date() -> None:
    fields = _read(
        [
            "POPULAR BOOKSTORE",
            "14-01-2025 (Tue) 16:02",
            ["NOTE BOOK", "12.40"],
            ["TOTAL", "12.40"],
            "BOOK FAIR 24 NOVEMBER 2024 - 4 MARCH 2025",
        ],
        HONG_KONG,
    )
    assert fields.date is not None and fields.date.value == date(2025, 1, 14)
    assert fields.date.confidence >= 0.8


def test_the_date_stamped_with_a_time_is_the_sale() -> None:
    # A "13 JAN 2025" stamp on top, the till's "14-01-25 21:49" below: the till's wins,
    # but no label decides, so it is doubted.
    fields = _read(
        ["PAID", "13 JAN 2025", "MR. D.I.Y.", ["TOTAL", "37.10"], "14-01-25 21:49 T1 R000418"],
        HONG_KONG,
    )
    assert fields.date is not None and fields.date.value == date(2025, 1, 14)
    assert fields.date.confidence < 0.8


def test_two_unlabelled_dates_that_disagree_are_doubted() -> None:
    fields = _read(
        [
            "DRY CLEAN EXPRESS",
            "06/01/2025",
            ["SHIRT x2", "40.00"],
            ["TOTAL", "40.00"],
            "08/01/2025",
        ],
        HONG_KONG,
    )
    assert fields.date is not None and fields.date.confidence < 0.8
    assert "competing_dates" in fields.warnings


def test_a_labelled_date_settles_two_dates() -> None:
    fields = _read(
        [
            "DRY CLEAN EXPRESS",
            "Date: 06/01/2025",
            ["SHIRT x2", "40.00"],
            ["TOTAL", "40.00"],
            "08/01/2025",
        ],
        HONG_KONG,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.date.confidence >= 0.8
    assert "competing_dates" not in fields.warnings


# Totals: labels and distractors


@pytest.mark.parametrize(
    "text",
    [
        "合計", "總計", "應收", "實收", "合计", "应付", "实付", "应付总额", "合共",
        "折後金額", "优惠后金额", "实际支付", "TOTAL DUE", "AMOUNT", "NETT", "Nett:",
    ],
)  # fmt: skip
def test_total_labels(text: str) -> None:
    label = classify(text)
    assert label is not None and label.kind == TOTAL, (text, label)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("找續", "change"),
        ("找零", "change"),
        ("CHANGE", "change"),
        ("現金", "tendered"),
        ("CASH", "tendered"),
        ("TENDERED", "tendered"),
        ("八達通", "tendered"),
        ("支付宝", "tendered"),
        ("微信支付", "tendered"),
        ("Alipay HK", "tendered"),
        ("餘額", "balance"),
        ("八達通餘額", "balance"),
        ("余额", "balance"),
        ("会员卡余额", "balance"),
        ("Octopus balance", "balance"),
        ("Remaining Value", "balance"),
        ("原價合計", "subtotal"),
        ("商品总额", "subtotal"),
        ("GROSS TOTAL", "subtotal"),
        ("Total before discount", "subtotal"),
        ("現金券", "discount"),
        ("满减", "discount"),
        ("PROMO", "discount"),
    ],
)
def test_distractor_labels(text: str, kind: str) -> None:
    label = classify(text)
    assert label is not None and label.kind == kind, (text, label)


def test_hong_kong_octopus_balance_and_change_are_not_the_total() -> None:
    fields = _read(
        [
            "大快活 Fairwood",
            "06/01/2025 12:31",
            ["A餐 叉燒飯", "$42.00"],
            ["凍奶茶", "$6.00"],
            ["合計", "$48.00"],
            ["八達通", "$48.00"],
            ["八達通餘額", "$352.60"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("48.00")
    assert fields.total is not None and fields.total.confidence >= 0.8


def test_english_octopus_balance_is_not_the_total() -> None:
    fields = _read(
        [
            "PACIFIC COFFEE",
            "06/01/2025 08:05",
            ["LATTE (L)", "42.00"],
            ["TOTAL", "42.00"],
            ["OCTOPUS", "42.00"],
            ["Octopus balance", "158.00"],
            ["Remaining Value", "158.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("42.00")
    assert fields.total is not None and fields.total.confidence >= 0.8


def test_amount_received_under_a_total_word_is_not_the_total() -> None:
    # 實收 is what the cashier took in: 50.00 handed over, 5.00 back, 45.00 due.
    rows = [
        "譚仔三哥米線",
        "06/01/2025 19:02",
        ["三哥米線", "$45.00"],
        ["應收", "$45.00"],
        ["實收", "$50.00"],
        ["找續", "$5.00"],
    ]
    fields = _read(rows, HONG_KONG)
    assert _total(fields) == Decimal("45.00")
    assert fields.total is not None and fields.total.confidence >= 0.8


def test_mainland_received_and_change() -> None:
    fields = _read(
        [
            "永辉超市",
            "2025-01-06 10:11",
            ["大米 5kg", "39.90"],
            ["应收", "39.90"],
            ["实收", "50.00"],
            ["找零", "10.10"],
        ],
        MAINLAND,
    )
    assert _total(fields) == Decimal("39.90")


def test_mainland_wallet_payments_and_balance() -> None:
    fields = _read(
        [
            "瑞幸咖啡",
            "2025-01-06 08:40",
            ["生椰拿铁", "29.00"],
            ["商品总额", "29.00"],
            ["优惠券", "-19.10"],
            ["实付", "9.90"],
            ["微信支付", "9.90"],
            ["会员卡余额", "120.00"],
        ],
        MAINLAND,
    )
    assert _total(fields) == Decimal("9.90")
    assert fields.total is not None and fields.total.confidence >= 0.8


def test_english_cash_tendered_and_change() -> None:
    fields = _read(
        [
            "7-ELEVEN",
            "06/01/2025 22:15",
            ["COCA COLA 500ML", "8.50"],
            ["POCKY", "11.90"],
            ["AMOUNT", "20.40"],
            ["CASH TENDERED", "50.00"],
            ["CHANGE", "29.60"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("20.40")


def test_a_word_as_near_two_labels_is_left_alone() -> None:
    # "hclusive" is one edit from INCLUSIVE and from EXCLUSIVE: not made an exclusion.
    fields = _read(
        [
            "PRINT EXPERT SDN BHD",
            "12/01/2025",
            ["DESIGN 1 31.80", "31.80"],
            ["FLYERS 100 0.73", "73.14"],
            ["Total Sales (Excluding GST)", "94.34"],
            ["Total GST", "5.66"],
            ["Total Sales (hclusive of GST)", "100.00"],
        ],
        SINGAPORE,
    )
    assert _total(fields) == Decimal("100.00")


# Totals: the amount before a discount or rounding


def test_traditional_amount_before_discount_is_not_the_total() -> None:
    fields = _read(
        [
            "萬寧 Mannings",
            "06/01/2025 15:20",
            ["維他命C", "$120.00"],
            ["原價合計", "$120.00"],
            ["會員折扣", "-$12.00"],
            ["應付金額", "$108.00"],
            ["VISA", "$108.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("108.00")
    assert fields.total is not None and fields.total.confidence >= 0.8


def test_simplified_total_then_discount_then_amount_paid() -> None:
    fields = _read(
        [
            "盒马鲜生",
            "2025-01-06 18:22",
            ["三文鱼", "88.00"],
            ["合计", "88.00"],
            ["满减", "-10.00"],
            ["实付金额", "78.00"],
            ["支付宝", "78.00"],
        ],
        MAINLAND,
    )
    assert _total(fields) == Decimal("78.00")


def test_discount_below_the_total_taken_off_as_cash_and_change_show() -> None:
    # No second total is printed; the amount paid is the total less the discount.
    fields = _read(
        [
            "CORNER BAKERY",
            "06/01/2025 09:12",
            ["BREAD", "30.00"],
            ["TOTAL", "30.00"],
            ["MEMBER DISCOUNT", "3.00"],
            ["CASH", "50.00"],
            ["CHANGE", "23.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("27.00")


def test_english_total_before_rounding_is_not_the_total() -> None:
    fields = _read(
        [
            "NTUC FAIRPRICE",
            "06-Jan-2025 19:45",
            ["MILK 1L", "3.47"],
            ["TOTAL BEFORE ROUNDING", "3.47"],
            ["ROUNDING", "-0.02"],
            ["NETT", "3.45"],
            ["CASH", "5.00"],
            ["CHANGE", "1.55"],
        ],
        SINGAPORE,
    )
    assert _total(fields) == Decimal("3.45")
    assert fields.total is not None and fields.total.confidence >= 0.8


def test_traditional_rounding_to_the_dollar() -> None:
    fields = _read(
        [
            "茶餐廳",
            "06/01/2025 13:05",
            ["常餐", "$52.50"],
            ["小計", "$52.50"],
            ["找尾", "-$0.50"],
            ["總計", "$52.00"],
            ["現金", "$100.00"],
            ["找續", "$48.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("52.00")


def test_total_due_after_amount_before_discount_in_english() -> None:
    fields = _read(
        [
            "UNIQLO",
            "06/01/2025 16:40",
            ["T-SHIRT", "99.00"],
            ["GROSS AMOUNT", "99.00"],
            ["PROMOTION", "-20.00"],
            ["TOTAL DUE", "79.00"],
            ["VISA", "79.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("79.00")


# Refunds and voids


def test_negative_total_is_a_refund() -> None:
    fields = _read(
        [
            "屈臣氏 Watsons",
            "06/01/2025 11:00",
            "退貨",
            ["洗髮露", "-$89.90"],
            ["合計", "-$89.90"],
            ["現金", "-$89.90"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("-89.90")
    assert "refund" in fields.warnings


def test_refund_total_label_in_english() -> None:
    fields = _read(
        [
            "MARKS & SPENCER",
            "06/01/2025 17:20",
            "REFUND",
            ["JUMPER", "299.00"],
            ["REFUND TOTAL", "299.00"],
            ["VISA REFUND", "299.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("-299.00")
    assert "refund" in fields.warnings


def test_simplified_refund_amount() -> None:
    fields = _read(
        [
            "苏宁易购",
            "2025-01-06 14:00",
            "退货单",
            ["电水壶", "-159.00"],
            ["退款金额", "159.00"],
            ["原路退回 微信支付", "159.00"],
        ],
        MAINLAND,
    )
    assert _total(fields) == Decimal("-159.00")
    assert "refund" in fields.warnings


def test_void_receipt_printed_as_a_sale_is_reported_and_doubted() -> None:
    fields = _read(
        [
            "CITYSUPER",
            "06/01/2025 10:00",
            "*** VOID ***",
            ["APPLES", "35.00"],
            ["TOTAL", "35.00"],
            ["CASH", "35.00"],
        ],
        HONG_KONG,
    )
    assert _total(fields) == Decimal("35.00")
    assert "refund" in fields.warnings
    assert fields.total is not None and fields.total.confidence < 0.8


@pytest.mark.parametrize(
    "notice",
    ["貨物出門，恕不退款", "NO REFUND OR EXCHANGE", "如需退货请于7日内持小票办理", "Refund policy"],
)
def test_refund_notices_do_not_make_a_refund(notice: str) -> None:
    fields = _read(["SHOP", "06/01/2025", ["ITEM", "12.00"], ["TOTAL", "12.00"], notice], HONG_KONG)
    assert _total(fields) == Decimal("12.00")
    assert "refund" not in fields.warnings


def test_dash_leaders_are_not_a_minus() -> None:
    fields = _read(["SHOP", "06/01/2025", ["ITEM", "12.00"], ["TOTAL ------", "-12.00"]], HONG_KONG)
    assert _total(fields) == Decimal("12.00")
    assert "refund" not in fields.warnings


# Honest confidence


def test_two_totals_no_label_decides_is_doubted() -> None:
    fields = _read(
        [
            "SHOP",
            "06/01/2025",
            ["ITEM A", "30.00"],
            ["ITEM B", "18.00"],
            ["TOTAL", "48.00"],
            ["TOTAL", "43.00"],
        ],
        HONG_KONG,
    )
    assert fields.total is not None and fields.total.confidence < 0.8


# Dates beside a Chinese clock time, ROC years with dots and in seven digits, day-first
# eight digits


@pytest.mark.parametrize(
    ("text", "day", "clock"),
    [
        ("2025/1/611時50分", JAN_6, time(11, 50)),
        ("2025-1-69时05分", JAN_6, time(9, 5)),
        ("交易日期:06-Jan-20259時15分", JAN_6, time(9, 15)),
    ],
)
def test_date_glued_to_a_chinese_clock_time(text: str, day: date, clock: time) -> None:
    hits = find_dates(text, NOW, "ymd")
    assert [h.value for h in hits] == [day]
    assert hits[0].confidence >= 0.8
    assert [t.value for t in find_times(text)] == [clock]


@pytest.mark.parametrize("text", ["日期:1140106", "1140106 14:32", "交易時間 1140106"])
def test_roc_year_in_seven_digits_with_a_label_or_a_time(text: str) -> None:
    hits = find_dates(text, NOW, "ymd")
    assert [h.value for h in hits] == [JAN_6]
    assert hits[0].confidence >= 0.8


def test_bare_seven_digits_are_a_doubted_roc_date_in_taiwan_and_none_elsewhere() -> None:
    taiwan = find_dates("1140106", NOW, "ymd")
    assert [h.value for h in taiwan] == [JAN_6] and taiwan[0].confidence < 0.8
    assert find_dates("1140106", NOW, "dmy") == []


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("Date: 06012025", "dmy", JAN_6),
        ("日期 13022025", "dmy", date(2025, 2, 13)),
        ("13022025 14:32", "dmy", date(2025, 2, 13)),
        ("Date: 01062025", "mdy", JAN_6),
        ("Date: 13022025", "mdy", date(2025, 2, 13)),  # no thirteenth month
    ],
)
def test_day_first_eight_digits(text: str, order: str, expected: date) -> None:
    hits = find_dates(text, NOW, order)
    assert [h.value for h in hits] == [expected]
    assert hits[0].confidence >= 0.8


def test_bare_day_first_eight_digits_are_doubted_and_not_read_where_the_year_leads() -> None:
    bare = find_dates("13022025", NOW, "dmy")
    assert [h.value for h in bare] == [date(2025, 2, 13)] and bare[0].confidence < 0.8
    assert find_dates("13022025", NOW, "ymd") == []


@pytest.mark.parametrize(
    "text",
    [
        "TEL: 13022025",
        "單號 1140106",
        "Receipt No 06012025",
        "GST Reg No: 13022025",
        "會員卡號 1140106",
        "13022025.50",
        "1140106.5",
        "32012025",  # no 32nd day
        "1240106",  # ROC 124 is 2035
    ],
)
def test_numbers_that_only_look_like_compact_dates(text: str) -> None:
    assert find_dates(text, NOW, "ymd") == []
    assert find_dates(text, NOW, "dmy") == []


def test_mainland_receipt_with_a_date_against_its_chinese_time() -> None:
    fields = _read(
        [
            "老陈五金店",
            "联系电话：0592 18875822",
            "开票日期：2025-1-69时37分",
            "交易号：217369497552",
            ["油漆刷 3 X 15.00", "45.00"],
            ["应收", "45.00"],
            ["微信支付", "45.00"],
        ],
        MAINLAND,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.date.confidence >= 0.8
    assert fields.time is not None and fields.time.value == time(9, 37)


def test_hong_kong_receipt_with_day_first_eight_digits_and_a_phone() -> None:
    fields = _read(
        [
            "嘉仁五金行",
            "電話 31122024",
            "日期 06012025 14:32",
            ["螺絲批 x1", "$90.00"],
            ["總金額", "$90.00"],
        ],
        HONG_KONG,
    )
    assert fields.date is not None and fields.date.value == JAN_6
    assert fields.date.confidence >= 0.8
