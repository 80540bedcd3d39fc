"""Registration numbers (Hong Kong BR, mainland USCC) and phone numbers: real values pass,
a wrong check character or a malformed number gets a clear error."""

from __future__ import annotations

import pytest

from loyalchat.onboarding import validators as v

# Real unified social credit codes printed on published business licences.
REAL_USCC = [
    "91330100716105852F",  # Alibaba (China) Co., Ltd.
    "914403001922038216",  # Huawei Technologies Co., Ltd.
    "9144030071526726XG",  # Tencent Technology (Shenzhen) Co., Ltd.
    "91350100M000100Y43",  # the example in GB 32100-2015's guidance
]


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_credit_codes_pass(code: str) -> None:
    assert v.cn_unified_social_credit_code(code) == code
    assert v.registration_number(code.lower(), "CN") == code


def test_credit_code_is_compacted() -> None:
    assert v.cn_unified_social_credit_code(" 9133 0100 7161 0585 2f ") == "91330100716105852F"
    # Full-width characters as a Chinese keyboard types them.
    assert v.cn_unified_social_credit_code("９１３３０１００７１６１０５８５２Ｆ") == REAL_USCC[0]


@pytest.mark.parametrize("code", REAL_USCC)
def test_every_wrong_check_character_is_refused(code: str) -> None:
    for wrong in v.USCC_ALPHABET:
        if wrong == code[17]:
            continue
        with pytest.raises(v.InvalidNumber, match="last character"):
            v.cn_unified_social_credit_code(code[:17] + wrong)


def test_one_changed_digit_is_caught() -> None:
    code = REAL_USCC[1]
    changed = code[:5] + ("1" if code[5] != "1" else "2") + code[6:]
    with pytest.raises(v.InvalidNumber, match="last character"):
        v.cn_unified_social_credit_code(changed)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter"),
        ("9133010071610585", "18 characters"),
        ("91330100716105852FF", "18 characters"),
        ("9133010071610585IF", "except I, O, Z, S and V"),
        ("913301007161O5852F", "except I, O, Z, S and V"),
    ],
)
def test_malformed_credit_codes(code: str, message: str) -> None:
    with pytest.raises(v.InvalidNumber, match=message) as caught:
        v.cn_unified_social_credit_code(code)
    assert caught.value.field == "number"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        ("12345678-001", "12345678-001"),
        ("12345678001", "12345678-001"),
        ("12345678-000", "12345678"),
        ("12345678-000-07-25-A", "12345678"),
        ("12345678-002-07-25-3", "12345678-002"),
        ("１２３４５６７８", "12345678"),
    ],
)
def test_hong_kong_business_registration(typed: str, normalised: str) -> None:
    assert v.hk_business_registration(typed) == normalised
    assert v.registration_number(typed, "HK") == normalised


@pytest.mark.parametrize(
    "typed", ["1234567", "123456789", "12345678-01", "ABCDEFGH", "12345678-0001"]
)
def test_malformed_business_registration(typed: str) -> None:
    with pytest.raises(v.InvalidNumber, match="8 digits"):
        v.hk_business_registration(typed)


def test_unknown_region() -> None:
    with pytest.raises(v.InvalidNumber) as caught:
        v.registration_number("12345678", "TW")
    assert caught.value.field == "region"


@pytest.mark.parametrize(
    ("typed", "region", "expected"),
    [
        ("9123 4567", "HK", "+85291234567"),
        ("+852 2123 4567", "CN", "+85221234567"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 138-0013-8000", "HK", "+8613800138000"),
        ("＋８５２ ９１２３ ４５６７", "HK", "+85291234567"),
    ],
)
def test_phone_to_e164(typed: str, region: str, expected: str) -> None:
    assert v.e164(typed, region) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter"),
        ("call me", "not a phone"),
        ("1234", "does not exist"),
        ("+852 0000 0000", "does not exist"),
    ],
)
def test_bad_phones(typed: str, message: str) -> None:
    with pytest.raises(v.InvalidNumber, match=message) as caught:
        v.e164(typed, "HK")
    assert caught.value.field == "phone"
