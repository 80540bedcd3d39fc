"""Shop name, receipt number and payment method."""

from __future__ import annotations

from datetime import datetime

import pytest

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading.parse import parse_lines
from loyalchat.receipts.reading.parse.merchant import (
    guess_merchant,
    is_noise,
    match_alias,
    strip_registration,
)
from loyalchat.receipts.reading.parse.payment import find_payment_method
from loyalchat.receipts.reading.parse.receipt_no import find_receipt_number
from loyalchat.receipts.reading.parse.rows import group_rows
from loyalchat.receipts.reading.parse.text import fold, name_key, similarity
from tests.receipt_lines import layout, load_fixture


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
        (["#RQ-84779682"], "RQ-84779682"),
        (["M#:C1-0", "#TXN165274"], "TXN165274"),
    ],
)
def test_receipt_numbers(rows: list[str], expected: str) -> None:
    hit = find_receipt_number(group_rows(layout(rows)))
    assert hit is not None and hit.value == expected


def test_receipt_number_never_an_address_or_an_item() -> None:
    # A bare "No." or "#" before more words is a street or unit number, or an item code.
    rows = ["#01-40, 392 Bukit Timah Road", "No. 187, Jalan Petaling,", "KIWI KNIFE NO.475 5'"]
    assert find_receipt_number(group_rows(layout(rows))) is None
    hit = find_receipt_number(group_rows(layout([*rows, "Txn #: 0182824"])))
    assert hit is not None and hit.value == "0182824"


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
        ("PayMe 45.00", "payme"),
        ("Payment : CASH 100.00", "cash"),
        ("Payment Mode VISA", "visa"),
    ],
)
def test_payment_methods(text: str, method: str) -> None:
    found = find_payment_method(group_rows(layout(["Cashier: 01", text])))
    assert found is not None and found[0] == method


def test_no_payment_method() -> None:
    assert find_payment_method(group_rows(layout(["Cashier: Mary", "TOTAL 12.00"]))) is None
    assert find_payment_method(group_rows(layout(["Payment :", "TOTAL 12.00"]))) is None


MALAYSIA = ReceiptProfile(currency="MYR", timezone="Asia/Kuala_Lumpur")


def _merchant_of_fixture(name: str) -> tuple[str | None, str]:
    lines, expected = load_fixture(name)
    fields = parse_lines(lines, MALAYSIA, now=datetime(2018, 12, 31))
    return (fields.merchant_name.value if fields.merchant_name else None), expected["company"]


@pytest.mark.parametrize(
    "text",
    [
        "Timeless Kitchenette Sdn Bhd",  # TIME, not a time
        "UPDATED VEGETABLE STORE",  # DATE and TABLE inside words
        "ECO-SHOP MARKETING SDN BHD",  # SHOP, but a registered name
        "eCosway.com SDN BHD (509213A)",
        "PLAZA DANAU TRADING SDN BHD",
        "成都荣龙商贸有限公司",
    ],
)
def test_names_with_noise_words_inside(text: str) -> None:
    assert not is_noise(text)


@pytest.mark.parametrize(
    "text",
    [
        "Company No: 734055-M",
        "CO. NO. 123456-X",
        "Guest Check",
        "Lumpur, Malaysia.",
        "Tel: 03-7880 0732 ABC SDN BHD",  # a registered name never makes a phone line a name
        "GST ID: 000294060032 ABC SDN BHD",
        "TABLE: 12",
        "TIME 12:30",
    ],
)
def test_more_header_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("KING'S CONFECTIONERY S/B 273500-U (KJ1)", "KING'S CONFECTIONERY S/B (KJ1)"),
        ("MOONLIGHT CAKE HOUSE SDN BHD 862725-U", "MOONLIGHT CAKE HOUSE SDN BHD"),
        ("99 SPEED MART S/B (519537·X)", "99 SPEED MART S/B"),  # the dash read as a dot
        ("eCosway.com SDN BHD (509213A)", "eCosway.com SDN BHD"),
        ("GARDENIA BAKERIES (KL) SDN BHD (139386", "GARDENIA BAKERIES (KL) SDN BHD"),  # cut off
        ("MENTAI INITIAL SDN BHD (1206674-T)", "MENTAI INITIAL SDN BHD"),
        ("NO. 20-A1, JALAN SS6/3", "NO. 20-A1, JALAN SS6/3"),  # an address keeps its numbers
        ("LOT 1851-A & 1851-B, JALAN KPB 6", "LOT 1851-A & 1851-B, JALAN KPB 6"),
    ],
)
def test_registration_numbers_are_stripped(text: str, stripped: str) -> None:
    assert strip_registration(text) == stripped


def test_bare_registration_number_leaves_the_name() -> None:
    rows = group_rows(
        layout(
            [
                "KING'S CONFECTIONERY S/B 273500-U (KJ1)",
                "NO. 20-A1, JALAN SS6/3, KELANA JAYA,",
                "47301 PETALING JAYA",
                "(GST ID : 000294060032)",
                "Inv No :KJ130659712I Date:09/02/17 11:12",
            ]
        )
    )
    guess = guess_merchant(rows, 4)
    assert guess is not None and guess.name == "KING'S CONFECTIONERY S/B (KJ1)"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (["THREE STOOGES", "BISTRO & CAFE", "109, SS21/1A,"], "THREE STOOGES BISTRO & CAFE"),
        (["新記", "茶餐廳", "九龍彌敦道123號地下"], "新記 茶餐廳"),
        (["POPULAR BOOK", "CO. (M) SDN BHD", "(113825-W)"], "POPULAR BOOK CO. (M) SDN BHD"),
        (["MR. D.I.Y.", "(M) SDN BHD", "LOT 1851-A, JALAN KPB 6"], "MR. D.I.Y. (M) SDN BHD"),
    ],
)
def test_a_line_naming_only_the_kind_of_business_ends_the_name_above(
    header: list[str], name: str
) -> None:
    guess = guess_merchant(group_rows(layout([*header, "22/11/2026"])), len(header))
    assert guess is not None and guess.name == name
    assert header[1] not in guess.candidates


def test_a_complete_registered_name_does_not_swallow_the_next_line() -> None:
    rows = group_rows(
        layout(["OLD TOWN WHITE COFFEE", "OLD TOWN KOPITIAM SDN BHD", "SHOP LOT 3", "22/11/2026"])
    )
    guess = guess_merchant(rows, 3)
    assert guess is not None
    assert guess.name == "OLD TOWN KOPITIAM SDN BHD"
    assert "OLD TOWN WHITE COFFEE" in guess.candidates


def test_name_wrapped_over_three_lines_inside_brackets() -> None:
    # Real OCR: "AIK HUAT HARUWARE." / "ENTERPRISE(SETIA" / "ALAM)SIN BHD" / "822737-X".
    got, want = _merchant_of_fixture("sroie_train_X51007339651")
    assert got == "AIK HUAT HARUWARE. ENTERPRISE(SETIA ALAM)SIN BHD"
    assert similarity(name_key(got), name_key(want)) >= 0.9


def test_registered_name_beats_the_brand_line_above_it() -> None:
    rows = group_rows(
        layout(
            [
                "AMPHAWA THAI TEA & CO.",
                "Dimiliki oleh T PLUS F&B SDN. BHD.",
                "(1219716-T)",
                "PARADIGM MALL",
                "GST ID:000707211264",
                "22/11/2026",
            ]
        )
    )
    guess = guess_merchant(rows, 5)
    assert guess is not None and guess.name == "Dimiliki oleh T PLUS F&B SDN. BHD."
    assert "AMPHAWA THAI TEA & CO." in guess.candidates


def test_chinese_trade_name_still_beats_the_registered_company() -> None:
    rows = group_rows(layout(["荣龙烘焙", "成都荣龙商贸有限公司", "2026-11-20 14:03"]))
    guess = guess_merchant(rows, 2)
    assert guess is not None and guess.name == "荣龙烘焙"


def test_registered_name_beats_handwriting_above_the_header() -> None:
    # Real OCR: "custower- Autah Sclrind ler" / "Jasmn" written above the printed name.
    got, want = _merchant_of_fixture("sroie_train_X51006466066")
    assert got == "MENTA[ INITIAL SDN BHD"
    assert similarity(name_key(got), name_key(want)) >= 0.9


def test_lower_case_handwriting_is_not_the_name() -> None:
    got, want = _merchant_of_fixture("sroie_train_X00016469619")  # "tan woon yann" on top
    assert got == want == "INDAH GIFT & HOME DECO"
    rows = group_rows(layout(["tan woon yann", "Kedai Runcit Ah Seng", "Tel: 07-3507405"]))
    guess = guess_merchant(rows, 3)
    assert guess is not None and guess.name == "Kedai Runcit Ah Seng"


def test_timeless_is_not_a_time_line() -> None:
    got, want = _merchant_of_fixture("sroie_train_X51005442361")
    assert got == "Timeless Kitchenette Sdn Bhd"
    assert name_key(got) == name_key(want)


def test_registered_name_with_an_address_word() -> None:
    got, want = _merchant_of_fixture("sroie_train_X51006882603")
    assert got is not None and name_key(got) == name_key(want)  # "Eco-Shop Marketing Sdn Bhd"


def test_name_below_a_stamped_date() -> None:
    # A "PAID" stamp with its date printed over the top of the slip, above the header.
    lines = layout(
        [
            "PAID",
            "13 MAR 2018",
            "MR. D.I.Y. (M) SDN BHD",
            "(CO Reg :860671-D)",
            "KAWASAN PERINDUSTRIAN BALAKONG,",
            "TAX INVOICE",
            ["ITEM A", "12.90"],
            ["TOTAL", "12.90"],
        ]
    )
    fields = parse_lines(lines, MALAYSIA, now=datetime(2018, 12, 31))
    assert fields.merchant_name is not None
    assert fields.merchant_name.value == "MR. D.I.Y. (M) SDN BHD"
    assert fields.merchant_name.confidence < 0.5  # found past the date: staff confirm it


def test_no_name_past_a_date_below_the_header() -> None:
    # Only a stamp near the top moves the search past the date; items are never names.
    lines = layout(
        [
            "Ref No: 0 00696305041961",
            "Pt17920 Sek U9, Shah Alam",
            "GST Reg No : 001951645696",
            "06/04/17 11:43am",
            "MIGHTY MARK DISHWASH 11L",
            ["2 x 11.50", "23.00"],
            ["TOTAL", "23.00"],
        ]
    )
    fields = parse_lines(lines, MALAYSIA, now=datetime(2018, 12, 31))
    assert fields.merchant_name is None


@pytest.mark.parametrize(
    "text",
    [
        "多謝惠顧",
        "多謝光臨",
        "Branch: Mong Kok",
        "銅鑼灣分行",
        "旺角門市",
        "(尖沙咀門市)",
        "思明旗舰店",
        "88 Queen St",
        "彌敦道七百號",
        "公司註冊編號",
        "CREDIT NOTE",
        "銷售單",
        "门店号：37",
        "機號: 03",
    ],
)
def test_greeting_branch_address_and_title_lines_are_noise(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize(
    "text", ["一號茶室", "Queen's Cafe", "Tin Hau Deli", "Hotel Jen Cafe", "PASTEL BAKERY"]
)
def test_label_words_inside_names_are_not_noise(text: str) -> None:
    assert not is_noise(text)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        (["WELCOME TO HAPPY MART", "Tel: 2345 6789"], "HAPPY MART"),
        (["Welcome to Lantern Dessert Parlour!", "Shop 26, G/F"], "Lantern Dessert Parlour"),
        (["歡迎光臨 大家樂", "電話: 2345 6789"], "大家樂"),
        (["多謝惠顧", "Welcome", "Golden Bowl Noodles"], "Golden Bowl Noodles"),
        (["老王火锅", "思明旗舰店", "厦门市思明区中山路664号"], "老王火锅"),
        (["CREDIT NOTE", "LANTERN DESSERT PARLOUR", "Call 6805-8987"], "LANTERN DESSERT PARLOUR"),
        (["销售小票", "志恒饺子馆", "交易号：620274928920", "门店号：37"], "志恒饺子馆"),
    ],
)
def test_the_name_among_greetings_branches_and_titles(header: list[str], name: str) -> None:
    rows = group_rows(layout([*header, "22/11/2026 14:03"]))
    guess = guess_merchant(rows, len(header))
    assert guess is not None and guess.name == name


def test_a_name_printed_with_its_branch_and_nothing_above_is_still_the_name() -> None:
    rows = group_rows(layout(["屈臣氏旺角分店", "Tel: 2345 6789", "22/11/2026 14:03"]))
    guess = guess_merchant(rows, 2)
    assert guess is not None and guess.name == "屈臣氏旺角分店"
    assert guess.confidence < 0.8


def test_the_name_above_its_company_number_beats_a_note_written_over_the_top() -> None:
    # A handwritten note, read larger than the print, above the registered name and its
    # company number on a row of its own.
    rows = group_rows(
        layout(
            [
                "Cele R",
                "KEDAI PAPAN YEW CHUAN",
                "(0005583085-K)",
                "LOT 276 JALAN BANTING",
                "TEL:03-87686092",
                "TAX INVOICE",
                "17/03/2018",
            ]
        )
    )
    guess = guess_merchant(rows, 6)
    assert guess is not None and guess.name == "KEDAI PAPAN YEW CHUAN"


def test_the_name_is_found_below_the_tail_of_another_slip() -> None:
    # The top of the photo holds the end of the previous slip: an amount, a date; the
    # shop's name follows.
    lines = layout(
        [
            ["Z = 0%", "4.00 0.10"],
            "..THANK YOU AND DO VISIT US AGAIN......",
            "[19/06/17] [11:37]",
            "FIVE STAR CASH & CARRY",
            "(1365663-P)",
            "No.1 Jalan SS 9/1, 47300 PJ, Selangor.",
            "RECEIPT NO.[00550388] 19/06/17 11:43",
            ["[AKS]APPALAM 3KG", "45.00"],
            ["NET TOTAL", "45.00"],
        ]
    )
    fields = parse_lines(lines, ReceiptProfile(currency="MYR"), datetime(2017, 6, 30))
    assert fields.merchant_name is not None
    assert fields.merchant_name.value == "FIVE STAR CASH & CARRY"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Dion Realties Sdn Bhd (Co. No:20154-T)", "Dion Realties Sdn Bhd"),
        ("ABC TRADING SDN BHD (Company No. 123456-A)", "ABC TRADING SDN BHD"),
        ("KEDAI MAJU (Co. Reg. No. 12345-K)", "KEDAI MAJU"),
    ],
)
def test_a_company_number_named_as_such_is_not_part_of_the_name(text: str, name: str) -> None:
    assert strip_registration(text) == name
    assert not is_noise(text)


def test_a_trade_centre_under_the_name_is_an_address() -> None:
    # "PUSAT DAGANGAN" (Malay: trade centre) names where the shop is, not the shop.
    assert is_noise("PUSAT DAGANGAN PHILEO DAMANSARA")
    rows = group_rows(
        layout(
            [
                "PUSAT DAGANGAN PHILEO DAMANSARA",
                "NO. 9, JALAN 16/11, 46350 PETALING JAYA",
                "MYNEWS RETAIL SB(306295-X)",
                "TAX REG ID CBP 000709361664",
                "28/06/2018",
            ]
        )
    )
    guess = guess_merchant(rows, 4)
    assert guess is not None and guess.name.startswith("MYNEWS RETAIL SB")
