"""Dates and times printed on receipts, with day/month order resolved by locale and sense.

"05/06/26" is 5 June in Hong Kong and 6 May in the US; a mainland receipt prints the year
first. The order comes from the tenant profile (or its timezone), and any reading that is
in the future or more than about two years old loses to one that is not.
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
_SEP = r"\s?[-/.]\s?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ymd", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?年\s?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号號]?")),
    ("ymd", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s?(?P<s>[-/.])\s?(?P<m>\d{1,2})\s?(?P=s)\s?(?P<d>\d{1,2})(?!\d)")),
    ("num", re.compile(r"(?<![\d.])(?P<a>\d{1,2})\s?(?P<s>[-/.])\s?(?P<b>\d{1,2})\s?(?P=s)\s?(?P<y>(?:19|20)?\d{2})(?![\d.]|\s?%)")),
    ("dmy", re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})\s?[-/. ]?\s?{_MON}\s?[-/., ]?\s?(?P<y>(?:19|20)?\d{{2}})(?!\d)")),
    ("mdy", re.compile(rf"(?<![A-Z]){_MON}\s?[-/. ]?\s?(?P<d>\d{{1,2}})(?:ST|ND|RD|TH)?,?\s?[-/.]?\s?(?P<y>(?:19|20)\d{{2}})(?!\d)")),
    ("md", re.compile(r"(?<!\d)(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号號]")),
)  # fmt: skip
# "30-06-201822:16:06": a date printed against its time; put the space back.
_GLUED = re.compile(
    r"(?<!\d)(\d{1,4}[-/.]\d{1,2}[-/.](?:(?:19|20)\d{2}|\d{2}))(?=\d{1,2}[:：]\d{2})"
)
_TIME_RE = re.compile(
    r"(?<![\d.:])(?P<ampm1>上午|下午|AM|PM)?\s?(?P<h>[01]?\d|2[0-3])\s?(?:[:：]|[時时点點])\s?(?P<mi>[0-5]\d)"
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


def _readings(kind: str, m: re.Match[str], now_year: int) -> list[tuple[date, str]]:
    g = m.groupdict()
    if kind == "num":
        a, b, y = int(g["a"]), int(g["b"]), _year(g["y"])
        options = [(_make(y, b, a), "dmy"), (_make(y, a, b), "mdy")]
        if len(g["y"]) == 2 and len(g["a"]) == 2:
            options.append((_make(_year(g["a"]), b, int(g["y"])), "ymd"))  # "26/11/22"
        return [(d, o) for d, o in options if d]
    if kind == "md":
        made = _make(now_year, int(g["m"]), int(g["d"]))
        return [(made, "ymd")] if made else []
    month = (
        MONTHS[g["mon"][:4].rstrip(".") if g["mon"].startswith("SEPT") else g["mon"][:3]]
        if g.get("mon")
        else int(g["m"])
    )
    made = _make(_year(g["y"]), month, int(g["d"]))
    return [(made, kind)] if made else []


def find_dates(text: str, now: datetime | date, order: str = "dmy") -> list[DateHit]:
    """Dates in ``text``; ambiguous ones resolved by ``order`` ("dmy", "mdy", "ymd") and plausibility."""
    text = halfwidth(text).upper()
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
            readings = _readings(kind, m, today.year)
            if not readings:
                continue
            orders = frozenset(o for _, o in readings)
            good = [r for r in readings if plausible(r[0], today)]
            pool = good or readings
            preferred = [r for r in pool if r[1] == order]
            value = (preferred or pool)[0][0]
            distinct = {d for d, _ in pool}
            confidence = 0.95 if len(distinct) == 1 else (0.8 if preferred else 0.6)
            if len(distinct) > 1 and len(good) == 1:
                confidence = 0.85  # only one reading makes sense
            if not good:
                confidence = 0.35  # printed clearly, but in the future or years old
            if kind == "md":
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
                orders |= {o for d, o in _readings(kind, m, value.year) if d == value}
    return orders
