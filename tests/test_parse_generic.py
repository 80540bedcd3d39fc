"""The generic parser end to end: real OCR output of shared receipts, HK and mainland layouts."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image

from loyalchat.extensions.receipts import ReceiptParser, ReceiptProfile
from loyalchat.receipts.reading.parse import GenericParser, parse_lines
from loyalchat.receipts.reading.parse.qr import qr_payloads
from loyalchat.receipts.reading.parse.text import name_key, similarity
from tests.receipt_lines import fixture_names, layout, load_fixture

MALAYSIA = ReceiptProfile(currency="MYR", timezone="Asia/Kuala_Lumpur")
HONG_KONG = ReceiptProfile(currency="HKD", timezone="Asia/Hong_Kong")
MAINLAND = ReceiptProfile(currency="CNY", timezone="Asia/Shanghai")


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


@pytest.mark.parametrize("name", fixture_names())
def test_real_receipts(name: str) -> None:
    lines, expected = load_fixture(name)
    fields = parse_lines(lines, MALAYSIA, now=datetime(2018, 12, 31))
    assert fields.total is not None and fields.total.value == Decimal(expected["total"])
    assert fields.date is not None and fields.date.value == date.fromisoformat(expected["date"])
    assert fields.merchant_name is not None
    got, want = name_key(fields.merchant_name.value), name_key(expected["company"])
    assert similarity(got, want) >= 0.8 or got in want
    assert fields.currency is not None and fields.currency.value == "MYR"
    assert all(0.0 <= c <= 1.0 for c in fields.confidences().values())


HK_CAFE = [
    "大家樂 Café de Coral",
    "銅鑼灣分店 G/F, 12 Yee Wo Street",
    "電話: 2345 6789",
    "收據",
    ["單號:", "A00123"],
    "日期: 05/06/2026 下午2:03",
    ["1 x 餐蛋麵", "$38.00"],
    ["1 x 凍檸茶", "$6.00"],
    ["小計", "$44.00"],
    ["服務費 10%", "$4.40"],
    ["總計", "HK$48.40"],
    ["八達通", "$48.40"],
    "多謝惠顧",
]
MAINLAND_SHOP = [
    "全家便利店",
    "上海市徐汇区漕溪北路88号",
    "统一社会信用代码: 91310000MA1FL0XX1X",
    ["单号：", "20260522-0045"],
    "2026年05月22日 14时03分",
    ["农夫山泉 x2", "4.00"],
    ["饭团", "7.50"],
    ["合计", "¥11.50"],
    ["优惠", "-1.50"],
    ["应付金额", "¥10.00"],
    ["微信支付", "10.00"],
    "谢谢惠顾",
]


def test_hong_kong_receipt() -> None:
    fields = parse_lines(layout(HK_CAFE), HONG_KONG, now=datetime(2026, 6, 30))
    assert fields.merchant_name is not None and fields.merchant_name.value == "大家樂 Café de Coral"
    assert fields.total is not None and fields.total.value == Decimal("48.40")
    assert fields.total.confidence >= 0.8
    assert fields.currency is not None and fields.currency.value == "HKD"
    assert fields.date is not None and fields.date.value == date(2026, 6, 5)  # day first in HK
    assert fields.time is not None and fields.time.value == time(14, 3)
    assert fields.issued_at is not None and fields.issued_at.value == datetime(2026, 6, 5, 14, 3)
    assert fields.receipt_number is not None and fields.receipt_number.value == "A00123"
    assert fields.payment_method is not None and fields.payment_method.value == "octopus"


def test_mainland_receipt() -> None:
    fields = parse_lines(layout(MAINLAND_SHOP), MAINLAND, now=datetime(2026, 6, 1))
    assert fields.merchant_name is not None and fields.merchant_name.value == "全家便利店"
    assert fields.total is not None and fields.total.value == Decimal("10.00")
    assert fields.total_label == "应付金额"
    assert fields.currency is not None and fields.currency.value == "CNY"
    assert fields.date is not None and fields.date.value == date(2026, 5, 22)
    assert fields.time is not None and fields.time.value == time(14, 3)
    assert fields.receipt_number is not None and fields.receipt_number.value == "20260522-0045"
    assert fields.payment_method is not None and fields.payment_method.value == "wechat_pay"


def test_currency_defaults_to_profile_when_not_printed() -> None:
    fields = parse_lines(layout(["SHOP", ["TOTAL", "12.00"]]), MAINLAND, now=datetime(2026, 6, 1))
    assert (
        fields.currency is not None
        and fields.currency.value == "CNY"
        and fields.currency.confidence <= 0.5
    )


def test_dollar_sign_takes_profile_dollar_currency() -> None:
    fields = parse_lines(layout(["SHOP", ["TOTAL", "$12.00"]]), ReceiptProfile(currency="MOP"))
    assert fields.currency is not None and fields.currency.value == "MOP"


def test_profile_amount_range_flags_outliers_without_changing_value() -> None:
    rows = ["SHOP", ["TOTAL", "$9,800.00"], ["CASH", "$10,000.00"], ["CHANGE", "$200.00"]]
    plain = parse_lines(layout(rows), HONG_KONG, now=datetime(2026, 6, 1))
    bounded = ReceiptProfile(amount_range=(Decimal("20"), Decimal("800")))
    flagged = parse_lines(layout(rows), bounded, now=datetime(2026, 6, 1))
    assert plain.total and flagged.total
    assert flagged.total.value == plain.total.value == Decimal("9800.00")
    assert flagged.total.confidence < plain.total.confidence
    assert "amount_outside_usual_range" in flagged.warnings


def test_known_date_order_resolves_ambiguity() -> None:
    rows = ["SHOP", "05/06/2026", ["TOTAL", "12.00"]]
    us = parse_lines(layout(rows), ReceiptProfile(date_order="mdy"), now=datetime(2026, 6, 30))
    assert us.date is not None and us.date.value == date(2026, 5, 6)


def test_empty_lines() -> None:
    fields = parse_lines([], HONG_KONG)
    assert fields.total is None and fields.merchant_name is None


async def test_generic_parser_is_a_receipt_parser() -> None:
    parser = GenericParser()
    assert isinstance(parser, ReceiptParser) and parser.name == "generic"
    fields = await parser.parse(layout(HK_CAFE), HONG_KONG)
    assert fields.total is not None and fields.total.value == Decimal("48.40")


def test_qr_payloads() -> None:
    code = zxingcpp.create_barcode(
        "https://pos.example/r?shop=42&id=9", zxingcpp.BarcodeFormat.QRCode
    )
    qr = Image.fromarray(__import__("numpy").array(zxingcpp.write_barcode_to_image(code, scale=4)))
    page = Image.new("L", (500, 900), 255)
    page.paste(qr, (180, 600))
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    assert qr_payloads(buffer.getvalue()) == ["https://pos.example/r?shop=42&id=9"]
    assert qr_payloads(b"not an image") == []
