"""Shop name, receipt number and payment method."""

from __future__ import annotations

import pytest

from loyalchat.receipts.reading.parse.merchant import guess_merchant, is_noise, match_alias
from loyalchat.receipts.reading.parse.payment import find_payment_method
from loyalchat.receipts.reading.parse.receipt_no import find_receipt_number
from loyalchat.receipts.reading.parse.rows import group_rows
from loyalchat.receipts.reading.parse.text import fold, name_key
from tests.receipt_lines import layout


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


@pytest.mark.parametrize(
    "text",
    [
        "TAX INVOICE",
        "RECEIPT",
        "收據",
        "GST REG NO: 000656195584",
        "SST ID: W10-1808-31000090",
        "商業登記號碼: 12345678-000",
        "统一社会信用代码 91440300MA5FXXXX",
        "Tel: 2345 6789",
        "電話: 2345 6789",
        "G/F, 12 Nathan Road, Kowloon",
        "九龍彌敦道123號地下",
        "北京市朝阳区建国路88号",
        "No.3, Jalan SS21/39, 47400 Petaling Jaya",
        "22/11/2026 14:03",
        "www.example.com",
        "(銅鑼灣店)",
        "沙田分店",
        "Sha Tin Branch",
        "12-14 Jalan Ipoh",
    ],
)
def test_header_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize(
    "text",
    [
        "大家樂",
        "Café de Coral",
        "ABC TRADING LIMITED",
        "99 SPEED MART S/B (519537-X)",
        "7-ELEVEN 便利店",
        "大家乐(铜锣湾店)",
        "美心西餅店",
    ],
)
def test_names_are_not_noise(text: str) -> None:
    assert not is_noise(text)


def test_header_skips_noise_and_prefers_the_name() -> None:
    rows = group_rows(
        layout(
            [
                "TAX INVOICE",
                "大家樂 Café de Coral",
                "G/F, 12 Nathan Road, Kowloon",
                "Tel: 2345 6789",
                "22/11/2026",
            ]
        )
    )
    guess = guess_merchant(rows, 4)
    assert guess is not None
    assert guess.name == "大家樂 Café de Coral"
    assert "TAX INVOICE" not in guess.candidates


def test_branch_line_under_the_name_is_not_the_name() -> None:
    rows = group_rows(layout(["荣龙烘焙", "(锦江店)", "成都荣龙商贸有限公司", "2026-11-20 14:03"]))
    guess = guess_merchant(rows, 3)
    assert guess is not None
    assert guess.name == "荣龙烘焙"
    assert "(锦江店)" not in guess.candidates


def test_alias_match_folds_traditional_simplified_and_full_width() -> None:
    assert match_alias(["大家乐"], ["大家樂"]) is not None
    assert match_alias(["ＡＢＣ　ＴＲＡＤＩＮＧ"], ["abc trading"]) is not None
    assert match_alias(["A B C Trading."], ["ABC TRADING"]) is not None
    assert match_alias(["美心皇宮"], ["大家樂"]) is None


def test_profile_alias_wins_over_header_guess() -> None:
    rows = group_rows(layout(["歡迎光臨", "大家乐(铜锣湾店)", "SHOP 3, G/F", "22/11/2026"]))
    guess = guess_merchant(rows, 3, aliases=["大家樂", "Café de Coral"])
    assert guess is not None and guess.name == "大家樂" and guess.confidence >= 0.9


def test_fold_and_name_key() -> None:
    assert fold("總計：ＨＫ＄１２０") == "总计:HK$120"
    assert name_key("Café-de Coral (銅鑼灣)") == name_key("CAFÉ DE CORAL 铜锣湾")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["單號: A00123"], "A00123"),
        (["单号：20261122-0045"], "20261122-0045"),
        (["收據編號 R88213"], "R88213"),
        (["Invoice No.: CS67832"], "CS67832"),
        (["Inv No: 18124/102/T0146"], "18124/102/T0146"),
        (["Receipt # 004512"], "004512"),
        (["Bill No: 8812"], "8812"),
        (["Doc No : KL0012345"], "KL0012345"),
        (["Trans No. 99812"], "99812"),
        (["Receipt No", "OR18041602170486"], "OR18041602170486"),
    ],
)
def test_receipt_numbers(rows: list[str], expected: str) -> None:
    hit = find_receipt_number(group_rows(layout(rows)))
    assert hit is not None and hit.value == expected


def test_receipt_number_never_a_date_or_phone() -> None:
    assert (
        find_receipt_number(group_rows(layout(["Date: 22/11/2026", "Tel No. 2345 6789"]))) is None
    )


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("現金 $100.00", "cash"),
        ("CASH 100.00", "cash"),
        ("八達通 $45.00", "octopus"),
        ("Octopus 45.00", "octopus"),
        ("支付寶 HK$45.00", "alipay"),
        ("AlipayHK", "alipay"),
        ("微信支付 ¥45.00", "wechat_pay"),
        ("WeChat Pay 45.00", "wechat_pay"),
        ("VISA ****1234", "visa"),
        ("MASTER 45.00", "mastercard"),
        ("UnionPay 45.00", "unionpay"),
        ("銀聯 45.00", "unionpay"),
        ("FPS 45.00", "fps"),
        ("轉數快 45.00", "fps"),
    ],
)
def test_payment_methods(text: str, method: str) -> None:
    found = find_payment_method(group_rows(layout(["Cashier: 01", text])))
    assert found is not None and found[0] == method


def test_no_payment_method() -> None:
    assert find_payment_method(group_rows(layout(["Cashier: Mary", "TOTAL 12.00"]))) is None
