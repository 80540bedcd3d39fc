"""Receipt profiles: learned from sample receipts, then used to read the next one."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.profile import build_profile, profile_from_dict, profile_to_dict, qr_matches
from loyalchat.receipts.reading.parse import parse_lines
from tests.receipt_lines import layout, load_fixture

NOW = datetime(2018, 12, 31)
BASE = ReceiptProfile(currency="MYR", timezone="Asia/Kuala_Lumpur")
SAMPLES = ["sroie_train_292", "sroie_train_540", "sroie_train_424"]


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


def _read(name: str, profile: ReceiptProfile = BASE, qr: tuple[str, ...] = ()):
    lines, expected = load_fixture(name)
    return (lines, parse_lines(lines, profile, now=NOW), list(qr)), expected


def test_profile_from_three_real_samples_reads_a_fourth() -> None:
    readings = [_read(n, qr=(f"https://pos.example/r/{i}7731",))[0] for i, n in enumerate(SAMPLES)]
    profile = build_profile(readings, "unihakka", base=BASE)
    assert "UNIHAKKA INTERNATIONAL SDN BHD" in profile.merchant_names
    assert profile.total_labels == ("NETT TOTAL",)
    assert profile.currency == "MYR" and profile.pos_system == "unihakka"
    assert profile.qr_prefix == "https://pos.example/r/"
    assert profile.amount_range is not None
    low, high = profile.amount_range
    assert low < Decimal("8.20") < high

    (_, fields, _), expected = _read("sroie_train_X51005442392", profile)
    (_, plain, _), _ = _read("sroie_train_X51005442392")
    assert fields.total is not None and fields.total.value == Decimal(expected["total"])
    assert plain.total is not None and fields.total.confidence >= plain.total.confidence
    assert (
        fields.merchant_name is not None
        and fields.merchant_name.value == "UNIHAKKA INTERNATIONAL SDN BHD"
    )
    assert fields.merchant_name.confidence >= 0.9
    assert fields.date is not None and fields.date.value == date.fromisoformat(expected["date"])
    assert qr_matches(profile, ["https://pos.example/r/99"]) is True
    assert qr_matches(profile, ["https://other.example/"]) is False


def test_aliases_in_every_language_and_date_order() -> None:
    samples = [
        [
            "美心皇宮 Maxim's Palace",
            "香港中環大會堂低座2樓",
            "Tel: 2521 1303",
            f"日期: {d}",
            ["總計", amount],
        ]
        for d, amount in (
            ("13/05/2026", "$388.00"),
            ("21/04/2026", "$512.50"),
            ("02/03/2026", "$266.00"),
        )
    ]
    hk = ReceiptProfile(timezone="Asia/Hong_Kong")
    readings = [
        (lines, parse_lines(lines, hk, now=datetime(2026, 6, 1)), [])
        for lines in map(layout, samples)
    ]
    profile = build_profile(readings)
    assert profile.merchant_names[0] == "美心皇宮 Maxim's Palace"
    assert profile.date_order == "dmy"
    assert profile.total_labels == ("总计",)
    assert profile.qr_prefix == ""

    simplified = layout(["美心皇宫 MAXIM'S PALACE", "日期: 05/06/2026", ["总计", "$300.00"]])
    fields = parse_lines(simplified, profile, now=datetime(2026, 6, 30))
    assert (
        fields.merchant_name is not None and fields.merchant_name.value == "美心皇宮 Maxim's Palace"
    )
    assert fields.date is not None and fields.date.value == date(2026, 6, 5)


def test_json_round_trip() -> None:
    profile = ReceiptProfile(
        merchant_names=("大家樂", "Café de Coral"),
        pos_system="ichef",
        currency="HKD",
        total_labels=("总计",),
        date_order="dmy",
        amount_range=(Decimal("10.00"), Decimal("900.00")),
        qr_prefix="https://pos.example/",
        hints={"branch": "CWB"},
    )
    data = json.loads(json.dumps(profile_to_dict(profile), ensure_ascii=False))
    assert data["amount_range"] == ["10.00", "900.00"]
    assert profile_from_dict(data) == profile
    assert profile_from_dict({}) == ReceiptProfile()
    with pytest.raises(ValueError, match="date_order"):
        profile_from_dict({"date_order": "dym"})


def test_payment_words_and_column_headings_are_never_proposed_as_names() -> None:
    """Printed on every receipt of a shop, "CASH" or "Item Qty Total" would pass as its
    name: proposed, another shop's receipt paid in cash would be this shop's."""
    samples = [
        layout(["GIN KEE TRADING", "CASH", "Bill To:", "SETAPAK,", "Item Qty Total", line])
        for line in ("Date: 01/03/2026", "Date: 02/03/2026", "Date: 03/03/2026")
    ]
    plain = ReceiptProfile(timezone="Asia/Kuala_Lumpur")
    readings = [
        (lines, parse_lines(lines, plain, now=datetime(2026, 3, 5)), []) for lines in samples
    ]
    names = build_profile(readings).merchant_names
    assert "GIN KEE TRADING" in names
    assert not {"CASH", "Bill To:", "SETAPAK,", "Item Qty Total"} & set(names), names
