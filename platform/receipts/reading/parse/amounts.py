"""Money amounts in OCR text: currency marks, separators and OCR letter/digit confusions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from loyalchat.receipts.reading.parse.text import halfwidth

# Printed marks -> ISO 4217. "$" alone is ambiguous and resolved by the tenant profile.
CURRENCY_MARKS: dict[str, str] = {
    "HK$": "HKD",
    "HKD": "HKD",
    "港币": "HKD",
    "港幣": "HKD",
    "港元": "HKD",
    "RMB": "CNY",
    "CNY": "CNY",
    "人民币": "CNY",
    "人民幣": "CNY",
    "¥": "CNY",
    "￥": "CNY",
    "元": "CNY",
    "MOP$": "MOP",
    "MOP": "MOP",
    "澳门币": "MOP",
    "S$": "SGD",
    "SGD": "SGD",
    "US$": "USD",
    "USD": "USD",
    "RM": "MYR",
    "MYR": "MYR",
    "NT$": "TWD",
    "$": "$",
}
_MARKS = sorted(CURRENCY_MARKS, key=len, reverse=True)
_MARK_RE = "|".join(re.escape(m) for m in _MARKS)

# Digits plus the letters OCR confuses with them; a match must contain a real digit.
_D = r"[0-9OoDQIlSsB|]"
# A space after the decimal point only with one before it ("RM 15 . 90"): "NO.17, 18 & 41",
# "LOT LG 315, 1-UTAMA" and "Lot 38. 39" are addresses.
_CENTS = rf"(?:\s?[.,·]{_D}{{1,2}}|\s[.,·]\s{_D}{{1,2}})"
_NUMBER = rf"{_D}{{1,3}}(?:[,.']{_D}{{2}}\d)+{_CENTS}?|{_D}+{_CENTS}?|[.,]\d{{2}}"
_AMOUNT_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?<!\d[-/:.,])(?P<neg0>[-−](?=\s?(?:{_MARK_RE})))?\s?(?P<pre>{_MARK_RE})?"
    rf"\s?(?P<neg>[-−])?\s?(?P<num>{_NUMBER})"
    rf"(?![0-9]|[.,:/]\d|\s?%)\s?(?P<post>元|HKD|RMB|MOP|SGD)?"
    # "75.00SR", "4.59ZR", "2.50S": a tax code printed against the cents.
    r"(?:(?![A-Za-z0-9])|(?<=[.,]\d\d)(?=(?:SR|ZR|S|Z|s)(?![A-Za-z0-9])))",
)
_CONFUSIONS = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "S": "5",
        "s": "5",
        "B": "8",
    }
)


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    currency: str | None  # ISO code, "$" when only a dollar sign was printed
    has_cents: bool  # printed with a decimal part: the usual form of money on receipts
    start: int
    end: int
    repaired: bool = False  # letters were read as digits


def _to_decimal(raw: str) -> tuple[Decimal, bool] | None:
    if raw[:1] in ".,":
        raw = "0" + raw  # ".02" on a rounding line
    digits = raw.translate(_CONFUSIONS).replace(" ", "").replace("·", ".").replace("'", ",")
    # The last separator followed by one or two digits is the decimal point; every
    # other separator groups thousands ("1,234.50", "1.234,50", "12,50").
    match = re.fullmatch(r"(.*?)[.,](\d{1,2})", digits)
    if match:
        whole, cents = match.group(1), match.group(2)
    else:
        whole, cents = digits, ""
    whole = whole.replace(",", "").replace(".", "")
    if not whole.isdigit() or (cents and not cents.isdigit()):
        return None
    try:
        return Decimal(f"{whole}.{cents.ljust(2, '0')}" if cents else whole), bool(cents)
    except InvalidOperation:
        return None


def find_amounts(text: str) -> list[Amount]:
    """Every plausible money amount in ``text``, left to right."""
    text = halfwidth(text)
    found = []
    for m in _AMOUNT_RE.finditer(text):
        raw = m.group("num")
        real_digits = sum(ch.isdigit() for ch in raw)
        letters = sum(ch.isalpha() or ch == "|" for ch in raw)
        if real_digits == 0 or letters > real_digits:
            continue
        if letters and not re.search(r"[.,·]\s?\S{1,2}$", raw):
            continue  # only repair numbers that look like money ("1O.5O"), not words
        mark = m.group("pre") or m.group("post")
        if not mark and raw[0] in "Ss" and raw[1:2].isdigit():
            raw, mark = raw[1:], "$"  # "S12.50": the dollar sign read as an S
            letters -= 1  # a misread mark, not a misread digit
        parsed = _to_decimal(raw)
        if parsed is None:
            continue
        value, cents = parsed
        if m.group("neg") or m.group("neg0"):  # "-12.00", "$-12.00", "-$12.00"
            value = -value
        currency = CURRENCY_MARKS.get(mark) if mark else None
        found.append(Amount(value, currency, cents, m.start(), m.end(), bool(letters)))
    return found


def is_money_like(amount: Amount, digits_limit: int = 7) -> bool:
    """Amounts a total can be: cents printed or a currency mark, and not a long id."""
    whole = abs(amount.value).to_integral_value()
    if len(str(whole)) > digits_limit:
        return False
    return amount.has_cents or amount.currency is not None


def currency_marks(text: str) -> list[str]:
    """ISO codes of currency marks printed in ``text`` ("$" for a bare dollar sign)."""
    text = halfwidth(text)
    codes = []
    for m in re.finditer(_MARK_RE, text):
        mark = m.group(0)
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if mark.isalpha() and mark.isascii() and (before.isalpha() or after.isalpha()):
            continue  # "RM" inside "FORM", "MOP" inside "MOPS"
        if mark == "元" and not text[: m.start()].rstrip()[-1:].isdigit():
            continue  # "45元" is money; "元朗" (Yuen Long) is a place
        codes.append(CURRENCY_MARKS[mark])
    return codes
