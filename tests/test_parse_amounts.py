"""Money amounts as OCR prints them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loyalchat.receipts.reading.parse.amounts import currency_marks, find_amounts, is_money_like


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


@pytest.mark.parametrize(
    ("text", "value", "currency"),
    [
        ("HK$1,234.50", "1234.50", "HKD"),
        ("HKD 88.00", "88.00", "HKD"),
        ("$45.60", "45.60", "$"),
        ("¥ 128.00", "128.00", "CNY"),
        ("￥128.5", "128.50", "CNY"),
        ("RMB 99.90", "99.90", "CNY"),
        ("120元", "120", "CNY"),
        ("MOP 45.00", "45.00", "MOP"),
        ("RM8.50", "8.50", "MYR"),
        ("SGD 12.00", "12.00", "SGD"),
        ("TOTAL:RM 12.30", "12.30", "MYR"),
        ("１２３.４５", "123.45", None),
        ("1.234,56", "1234.56", None),
        ("12,50", "12.50", None),
        ("1,234,567.00", "1234567.00", None),
        ("1O.5O", "10.50", None),
        ("S5.00", "5.00", "$"),
        ("l2.B0", "12.80", None),
        ("RM 15 . 90", "15.90", "MYR"),
        ("Rounding .02", "0.02", None),
        ("-5.00", "-5.00", None),
    ],
)
def test_amount_forms(text: str, value: str, currency: str | None) -> None:
    amounts = find_amounts(text)
    assert amounts, text
    assert amounts[-1].value == Decimal(value)
    assert isinstance(amounts[-1].value, Decimal)
    assert amounts[-1].currency == currency


@pytest.mark.parametrize(
    "text", ["22/12/2017", "14:03", "6%", "SALE", "SOB", "INV1234", "1.5.2018"]
)
def test_not_amounts(text: str) -> None:
    assert not [a for a in find_amounts(text) if is_money_like(a)]


def test_quantity_and_price_stay_apart() -> None:
    values = [a.value for a in find_amounts("2 100.00")]
    assert values == [Decimal(2), Decimal("100.00")]
    assert not is_money_like(find_amounts("2 100.00")[0])


def test_phone_numbers_are_not_money() -> None:
    assert not [a for a in find_amounts("Tel: 2345 6789") if is_money_like(a)]
    assert not [a for a in find_amounts("電話 23456789") if is_money_like(a)]


def test_currency_marks_ignore_words() -> None:
    assert currency_marks("FORM 12 HK$ 3") == ["HKD"]
    assert currency_marks("合計 ¥30 人民幣") == ["CNY", "CNY"]


def test_yuan_is_money_only_after_a_number() -> None:
    # 元朗 (Yuen Long) is a district of Hong Kong, not a price in yuan.
    assert currency_marks("新界元朗青山公路23號12號舖") == []
    assert currency_marks("合计 45 元") == ["CNY"]
    assert currency_marks("港元 120.00") == ["HKD"]


@pytest.mark.parametrize(
    "text",
    [
        "NO.17, 18 & 41, JALAN BESAR,",
        "LOT LG 315, 1-UTAMA SHOPPING CENTRE,",
        "Lot 38. 39 Boulevard",
    ],
)
def test_numbers_listed_in_an_address_are_not_money(text: str) -> None:
    # A separator and a space before the next number: a list of lot numbers, not cents.
    assert not [a for a in find_amounts(text) if is_money_like(a)]
    assert [a.value for a in find_amounts("TOTAL 12 .50")] == [Decimal("12.50")]


def test_a_dollar_sign_read_as_s_is_not_a_repaired_digit() -> None:
    # "Nett Total: S8.20": the mark was misread, the digits were not; a total printed so
    # is not doubted as poorly read ("1O.5O" is).
    [amount] = find_amounts("Nett Total: S8.20")
    assert (amount.value, amount.currency, amount.repaired) == (Decimal("8.20"), "$", False)
    assert find_amounts("TOTAL 1O.5O")[0].repaired


@pytest.mark.parametrize(
    ("text", "value"),
    [("75.00SR", "75.00"), ("4.59ZR", "4.59"), ("BREAD 2.50s", "2.50"), ("RM5.00S", "5.00")],
)
def test_a_tax_code_printed_against_the_cents(text: str, value: str) -> None:
    # "75.00SR": the item's amount and its tax code with no space between them.
    assert [a.value for a in find_amounts(text)] == [Decimal(value)]


@pytest.mark.parametrize("text", ["COKE 1.25L", "7.30am", "12.50SALE", "ABC12.50SR"])
def test_other_letters_against_a_number_are_not_a_tax_code(text: str) -> None:
    assert not [a for a in find_amounts(text) if a.has_cents]
