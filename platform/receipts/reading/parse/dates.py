"""Dates and times printed on receipts, with day/month order resolved by locale and sense.

"05/06/26" is 5 June in Hong Kong and 6 May in the US; a mainland receipt prints the year
first. The order comes from the tenant profile (or its timezone), and any reading that is
in the future or more than about two years old loses to one that is not.

Forms read: numeric with any separator and a 2- or 4-digit year, eight digits year first
("20250106") or, where the locale puts the day or month first, year last ("06012025"),
month names in English ("06-Jan-2025", "Jan 6, 2025", "6th January 25") and Chinese
("2025年1月6日", "二〇二五年一月六日"), Republic of China years on Taiwanese receipts
("民國114年1月6日", "114.01.06", "1140106": 114 + 1911 = 2025), and dates printed against
their time ("2025-01-0614:32", "20250106 14:32", "2025-01-06T14:32", "2025/1/611時50分").
Runs of digits without a separator are the form a receipt number, a phone or a
registration number takes too: one after such a label is not a date, and one with neither
a date label nor a time beside it is trusted less.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from loyalchat.receipts.reading.parse.text import halfwidth

MONTHS = {
    "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
    "JUL": 7, "AUG": 8, "SEP": 9, "SEPT": 9, "OCT": 10, "NOV": 11, "DEC": 12,
}  # fmt: skip
_MON = r"(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEPT?|OCT|NOV|DEC)[A-Z]*\.?"
_MON_ANY = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEPT?|OCT|NOV|DEC)[A-Z]*\.?"
_SEP = r"\s?[-/.]\s?"
# Chinese numerals: "二〇二五年一月六日" (OCR reads 〇 as a letter O now and then).
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_YEAR = r"[〇○零O一二三四五六七八九]{4}"
_CN_MONTH = r"十[一二]?|[一二三四五六七八九]"
_CN_DAY = r"三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九]"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ymd", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号號]?")),
    # "民國114年1月6日", "114年01月06日" (Taiwan: year 114 + 1911), "25年1月6日".
    ("cjk", re.compile(r"(?P<roc>民\s?[国國]\s?)?(?<!\d)(?P<y>\d{2,3})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号號]?")),
    ("cn", re.compile(rf"(?:(?P<y>{_CN_YEAR}|(?:19|20)\d{{2}})\s?年\s?)?(?P<m>{_CN_MONTH})\s?月\s?(?P<d>{_CN_DAY})\s?[日号號]")),
    ("ymd", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?(?P<s>[-/.])\s?(?P<m>\d{1,2})\s?(?P=s)\s?(?P<d>\d{1,2})(?!\d)")),
    # "114/01/06": a Republic of China year, printed by Taiwanese tills.
    ("roc", re.compile(r"(?<![\d.,$])(?P<y>1[0-4]\d|150)\s?(?P<s>[-/.])\s?(?P<m>\d{1,2})\s?(?P=s)\s?(?P<d>\d{1,2})(?![\d.]|\s?%)")),
    # "20250106": eight digits, year first.
    ("ymd8", re.compile(r"(?<![A-Z\d.,/$-])(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![\d.,]|\s?%)")),
    # "1140212": seven digits, a Republic of China year first.
    ("roc7", re.compile(r"(?<![A-Z\d.,/$-])(?P<y>1[0-4]\d|150)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![\d.,]|\s?%)")),
    # "13032025", "06012025": eight digits, year last; day or month first by locale.
    ("num8", re.compile(r"(?<![A-Z\d.,/$-])(?P<a>[0-3]\d)(?P<b>[0-3]\d)(?P<y>(?:19|20)\d{2})(?![\d.,]|\s?%)")),
    ("num", re.compile(r"(?<![\d.])(?P<a>\d{1,2})\s?(?P<s>[-/.])\s?(?P<b>\d{1,2})\s?(?P=s)\s?(?P<y>(?:19|20)?\d{2})(?![\d.]|\s?%)")),
    ("dmy", re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})(?:ST|ND|RD|TH)?\s?[-/. ]?\s?{_MON}\s?[-/., ]?\s?(?P<y>(?:19|20)?\d{{2}})(?!\d)")),
    ("mdy", re.compile(rf"(?<![A-Z]){_MON}\s?[-/. ]?\s?(?P<d>\d{{1,2}})(?:ST|ND|RD|TH)?,?\s?[-/.]?\s?(?P<y>(?:19|20)\d{{2}})(?!\d)")),
    ("md", re.compile(r"(?<!\d)(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号號]")),
)  # fmt: skip
# A date printed against its time ("30-06-201822:16:06", "2025010614:32",
# "06-JAN-202514:32", "Apr 16, 202519:34", "2025-3-97时37分"): put the space back.
_GLUED = re.compile(
    r"(?<!\d)((?:19|20)\d{2}[-/.]\d{1,2}[-/.](?:[12]\d|3[01]|0?[1-9])"
    r"|\d{1,4}[-/.]\d{1,2}[-/.](?:(?:19|20)\d{2}|\d{2})"
    r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    rf"|\d{{1,2}}\s?[-/. ]?\s?{_MON_ANY}\s?[-/., ]?\s?(?:19|20)\d{{2}}"
    rf"|(?<![A-Z]){_MON_ANY}\s?[-/. ]?\s?\d{{1,2}}(?:ST|ND|RD|TH)?,?\s?[-/.]?\s?(?:19|20)\d{{2}})"
    r"(?=\d{1,2}\s?(?:[:：]|[時时点點])\s?\d{2})",
    re.IGNORECASE,
)
# Digits OCR puts in a month's name: "02N0V26", "0CT", "AU6", "5EP".
_AS_LETTER = str.maketrans({"0": "O", "1": "I", "5": "S", "6": "G", "8": "B"})
_MONTH_LIKE = re.compile(r"(?=(?<![A-Z])([A-Z0-9]{3})(?![A-Z]))")
_ABBREVIATIONS = frozenset(m for m in MONTHS if len(m) == 3)


def _month_names_put_right(text: str) -> str:
    """Month abbreviations with a digit for a letter, against a day or year number."""
    chars = list(text)
    for m in _MONTH_LIKE.finditer(text):
        token = m.group(1)
        if token.isalpha() or token.isdigit() or token.translate(_AS_LETTER) not in _ABBREVIATIONS:
            continue
        start, end = m.start(1), m.end(1)
        before, after = text[max(0, start - 2) : start], text[end : end + 2]
        if any(ch.isdigit() for ch in before + after):  # "02N0V26", "0CT 2, 2026"
            chars[start:end] = token.translate(_AS_LETTER)
    return "".join(chars)


# What the words just before eight digits make of them: a date ("日期:", "DATE") or a
# number of another kind (a receipt number, a phone, a registration number).
_DATE_WORD = re.compile(r"(?:DATE|DATED|DAY|日期|日|时间|時間|TIME)[\s:.#]*$")
_ID_WORD = re.compile(
    r"(?:NO|NUM|NUMBER|#|TEL|PHONE|FAX|HP|MOBILE|REG|GST|SST|TIN|BRN|ID|INV|INVOICE|BILL|"
    r"RECEIPT|RCPT|REF|TXN|TRANS|TRX|ORDER|CARD|ACC|ACCOUNT|MEMBER|CODE|SN|S/N|"
    r"号|號|码|碼|电话|電話|传真|傳真|流水|订单|訂單|卡|会员|會員|发票|發票|收据|收據|编号|編號)[\s:.#]*$"
)
_TIME_AFTER = re.compile(
    r"\s?T?\s?(?:上午|下午|AM|PM)?\s?(?:[01]?\d|2[0-3])\s?(?:[:：]|[時时点點])\s?[0-5]\d"
)
# Forms printed without a separator: a run of digits that other numbers take too.
_COMPACT = frozenset({"ymd8", "roc7", "num8"})
_TIME_RE = re.compile(
    # The hour is not the tail of another number ("123:45", "2025.01", "12:34:56"), but may
    # follow a label's colon ("时间:23:28") or the half of the day ("時間:下午01:20").
    r"(?:(?P<ampm1>上午|下午|AM|PM)\s?)?(?<![\d.])(?<!\d[:：])(?P<h>[01]?\d|2[0-3])\s?(?:[:：]|[時时点點])\s?(?P<mi>[0-5]\d)"
    r"(?:\s?(?:[:：]|分)\s?(?P<s>[0-5]\d))?\s?[分秒]?\s?(?P<ampm2>AM|PM|A\.M\.|P\.M\.)?(?![\d.]|\s?%)",
    re.IGNORECASE,
)
_ZONE_ORDER = {
    "Asia/Shanghai": "ymd",
    "Asia/Chongqing": "ymd",
    "Asia/Harbin": "ymd",
    "Asia/Taipei": "ymd",
}


def default_order(timezone: str) -> str:
    """The usual numeric date order where the tenant is: "dmy", "mdy" or "ymd"."""
    if timezone in _ZONE_ORDER:
        return _ZONE_ORDER[timezone]
    if timezone.startswith("America/") and not timezone.startswith(
        ("America/Sao", "America/Argentina")
    ):
        return "mdy"
    return "dmy"  # Hong Kong, Macau, Singapore, Malaysia, UK...


@dataclass(frozen=True, slots=True)
class DateHit:
    value: date
    confidence: float
    start: int
    end: int
    orders: frozenset[str]  # every numeric order consistent with how it was printed


def _year(raw: str) -> int:
    year = int(raw)
    return year + 2000 if year < 100 else year


def _make(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def plausible(value: date, now: datetime | date) -> bool:
    """Not after today (one day of slack for time zones), not more than ~2 years old."""
    today = now.date() if isinstance(now, datetime) else now
    return today - timedelta(days=2 * 366 + 31) <= value <= today + timedelta(days=1)


def _recent(value: date, today: date) -> bool:
    """Not in the future, and within about five years."""
    return today - timedelta(days=5 * 366) <= value <= today + timedelta(days=1)


def _cn_number(raw: str) -> int:
    """ "二〇二五" -> 2025, "十二" -> 12, "二十一" -> 21, "三十" -> 30."""
    if "十" not in raw:
        return int("".join(str(_CN_DIGITS[ch]) for ch in raw))
    tens, _, units = raw.partition("十")
    return 10 * (_CN_DIGITS[tens] if tens else 1) + (_CN_DIGITS[units] if units else 0)


def _year_of(kind: str, g: dict[str, str | None]) -> int | None:
    raw = g.get("y")
    if raw is None:
        return None
    if kind in ("roc", "roc7") or (kind == "cjk" and (g.get("roc") or len(raw) == 3)):
        return int(raw) + 1911  # Republic of China year
    if kind == "cn" and not raw.isdigit():
        return _cn_number(raw)
    return _year(raw)


def _this_or_last_year(month: int, day: int, today: date) -> date | None:
    """A day printed without its year: this year's, or last year's if that is still ahead."""
    made = _make(today.year, month, day)
    if made is not None and made > today + timedelta(days=1):
        made = _make(today.year - 1, month, day)
    return made


def _readings(kind: str, m: re.Match[str], today: date) -> list[tuple[date, str]]:
    g = m.groupdict()
    if kind in ("num", "num8"):
        a, b, y = int(g["a"]), int(g["b"]), _year(g["y"])
        options = [(_make(y, b, a), "dmy"), (_make(y, a, b), "mdy")]
        if len(g["y"]) == 2 and len(g["a"]) == 2:
            options.append((_make(_year(g["a"]), b, int(g["y"])), "ymd"))  # "26/11/22"
        return [(d, o) for d, o in options if d]
    if kind == "cn":
        month, day = _cn_number(g["m"]), _cn_number(g["d"])
    elif g.get("mon"):
        mon = g["mon"]
        month = MONTHS[mon[:4].rstrip(".") if mon.startswith("SEPT") else mon[:3]]
        day = int(g["d"])
    else:
        month, day = int(g["m"]), int(g["d"])
    year = _year_of(kind, g)
    made = _this_or_last_year(month, day, today) if year is None else _make(year, month, day)
    order = kind if kind in ("dmy", "mdy") else "ymd"
    return [(made, order)] if made else []


def _compact_allowed(kind: str, before: str, dated: bool, order: str) -> bool:
    """Whether a run of digits with no separator may be read as a date at all.

    After a receipt-number, phone or registration label it is that number ("单号:
    20250106-0045", "TEL 13032025"). A day- or month-first run is read only where the
    locale prints the day or month first; a Republic of China run only where the year
    comes first, or when a date label or a time vouches for it.
    """
    if _ID_WORD.search(before) and not _DATE_WORD.search(before):
        return False
    if kind == "num8":
        return order in ("dmy", "mdy")
    if kind == "roc7":
        return order == "ymd" or dated
    return True


def find_dates(text: str, now: datetime | date, order: str = "dmy") -> list[DateHit]:
    """Dates in ``text``; ambiguous ones resolved by ``order`` ("dmy", "mdy", "ymd") and plausibility."""
    text = _month_names_put_right(halfwidth(text).upper())
    glued = [m.end() for m in _GLUED.finditer(text)]
    text = _GLUED.sub(lambda m: m.group(1) + " ", text)

    def back(pos: int) -> int:  # offsets in the caller's text, before the spaces went in
        return pos - sum(1 for g in glued if g < pos)

    today = now.date() if isinstance(now, datetime) else now
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            before = text[: m.start()]
            dated = bool(_DATE_WORD.search(before) or _TIME_AFTER.match(text, m.end()))
            if kind in _COMPACT and not _compact_allowed(kind, before, dated, order):
                continue
            readings = _readings(kind, m, today)
            if not readings:
                continue
            orders = frozenset(o for _, o in readings)
            good = [r for r in readings if plausible(r[0], today)]
            if (kind == "roc" or kind in _COMPACT) and not good:
                continue  # in the future or years old: a number of another kind
            pool = good or readings
            if good and kind not in _COMPACT and not any(r[1] == order for r in good):
                # "17-04-16" where the day comes first: 17 April 2016, a little too old,
                # rather than 16 April 2017 in an order the shops here do not print.
                pool = [r for r in readings if r[1] == order and _recent(r[0], today)] or pool
            preferred = [r for r in pool if r[1] == order]
            value = (preferred or pool)[0][0]
            distinct = {d for d, _ in pool}
            confidence = 0.95 if len(distinct) == 1 else (0.8 if preferred else 0.6)
            if len(distinct) > 1 and len(good) == 1:
                confidence = 0.85  # only one reading makes sense
            if kind in _COMPACT and not dated:
                # digits alone: maybe a number of another kind; a year-first run of eight
                # is the commonest dated form, the others are rarer than their look-alikes
                confidence = 0.7 if kind == "ymd8" else 0.6
            elif kind in ("roc", "roc7"):
                confidence = min(confidence, 0.85)  # a three-digit year is rare outside Taiwan
            if all(value != d for d, _ in good):
                confidence = 0.35  # printed clearly, but in the future or years old
            if kind == "md" or (kind == "cn" and m.group("y") is None):
                confidence = min(confidence, 0.6)  # year guessed
            hits.append(DateHit(value, confidence, back(m.start()), back(m.end()), orders))
            taken.append((m.start(), m.end()))
    return sorted(hits, key=lambda h: h.start)


@dataclass(frozen=True, slots=True)
class TimeHit:
    value: time
    start: int
    end: int


def find_times(text: str) -> list[TimeHit]:
    """Clock times: "14:03", "2:03PM", "14時03分", "下午2:03", "14:03:59"."""
    text = _GLUED.sub(lambda m: m.group(1)[:-1] + "\x00", halfwidth(text))
    found = []
    for m in _TIME_RE.finditer(text):
        hour, minute = int(m.group("h")), int(m.group("mi"))
        marker = (m.group("ampm1") or m.group("ampm2") or "").upper().replace(".", "")
        if marker in ("PM", "下午") and hour < 12:
            hour += 12
        elif marker in ("AM", "上午") and hour == 12:
            hour = 0
        second = int(m.group("s")) if m.group("s") else 0
        if hour < 24:
            found.append(TimeHit(time(hour, minute, second), m.start(), m.end()))
    return found


def orders_consistent(texts: Iterable[str], value: date, now: datetime | date) -> set[str]:
    """Numeric orders ("dmy", "mdy", "ymd") under which ``texts`` print ``value``."""
    orders: set[str] = set()
    for text in texts:
        for kind, pattern in _PATTERNS:
            if kind != "num":
                continue
            for m in pattern.finditer(halfwidth(text).upper()):
                orders |= {o for d, o in _readings(kind, m, value) if d == value}
    return orders
