"""Dates and times: every printed form, locale order, plausibility."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from loyalchat.receipts.reading.parse.dates import (
    default_order,
    find_dates,
    find_times,
    orders_consistent,
)

NOW = datetime(2026, 12, 1, 12, 0)


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22",
        "22/11/2026",
        "22/11/26",
        "2026年11月22日",
        "2026 年 11 月 22 日",
        "22-Nov-2026",
        "22NOV26",
        "2026/11/22",
        "Nov 22, 2026",
        "November 22 2026",
        "22 Nov 2026 18:23",
        "日期:2026.11.22",
        "Date :22-11-202614:03:11",
    ],
)
def test_all_formats(text: str) -> None:
    hits = find_dates(text, NOW, "dmy")
    assert [h.value for h in hits] == [date(2026, 11, 22)]
    assert hits[0].confidence >= 0.8


def test_ambiguous_day_month_follows_locale() -> None:
    assert find_dates("05/06/2026", NOW, "dmy")[0].value == date(2026, 6, 5)  # Hong Kong
    assert find_dates("05/06/2026", NOW, "mdy")[0].value == date(2026, 5, 6)  # US
    assert find_dates("05/06/2026", NOW, "dmy")[0].confidence < 0.95


def test_mainland_year_first_two_digits() -> None:
    assert find_dates("26/11/22", NOW, "ymd")[0].value == date(2026, 11, 22)


def test_plausibility_beats_locale() -> None:
    # 11/30/2026 cannot be day-first; 12/11/2026 day-first would be in the future.
    assert find_dates("11/30/2026", NOW, "dmy")[0].value == date(2026, 11, 30)
    assert find_dates("11/12/2026", NOW, "dmy")[0].value == date(2026, 11, 12)  # 11 Dec: future
    hit = find_dates("02/12/2026", datetime(2026, 2, 20), "dmy")[0]
    assert hit.value == date(2026, 2, 12)  # 2 Dec 2026 would be in the future
    assert hit.confidence >= 0.8


def test_future_and_too_old_dates_are_doubted() -> None:
    future = find_dates("2027-03-01", NOW, "dmy")[0]
    old = find_dates("2019-03-01", NOW, "dmy")[0]
    assert future.value == date(2027, 3, 1) and future.confidence < 0.5
    assert old.value == date(2019, 3, 1) and old.confidence < 0.5
    assert find_dates("2025-03-01", NOW, "dmy")[0].confidence >= 0.9


def test_month_day_without_year_takes_this_year() -> None:
    hit = find_dates("11月22日 14:03", NOW, "ymd")[0]
    assert hit.value == date(2026, 11, 22) and hit.confidence <= 0.6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:03", time(14, 3)),
        ("2:03PM", time(14, 3)),
        ("2:03 pm", time(14, 3)),
        ("12:10AM", time(0, 10)),
        ("14時03分", time(14, 3)),
        ("14时03分22秒", time(14, 3, 22)),
        ("下午2:03", time(14, 3)),
        ("22/11/2026 14:03:59", time(14, 3, 59)),
        ("30-06-201822:16:06", time(22, 16, 6)),
    ],
)
def test_times(text: str, expected: time) -> None:
    assert find_times(text)[0].value == expected


def test_not_times() -> None:
    assert find_times("12.30") == []
    assert find_times("25:99") == []


def test_default_order_by_timezone() -> None:
    assert default_order("Asia/Hong_Kong") == "dmy"
    assert default_order("Asia/Shanghai") == "ymd"
    assert default_order("America/New_York") == "mdy"


def test_orders_consistent() -> None:
    assert orders_consistent(["Date: 22/11/2026"], date(2026, 11, 22), NOW) == {"dmy"}
    assert orders_consistent(["11/22/2026"], date(2026, 11, 22), NOW) == {"mdy"}


def test_a_day_first_date_a_little_too_old_keeps_the_shops_order() -> None:
    # "17-04-16" printed where the day comes first, read two years and two months later:
    # 17 April 2016, doubted as old; not 16 April 2017, an order the shops here do not use.
    [hit] = find_dates("17-04-16 14:02 SH01 B019", date(2018, 6, 30), "dmy")
    assert hit.value == date(2016, 4, 17) and hit.confidence < 0.5
    # Where the year comes first, the same digits are 16 April 2017, as before.
    [ymd] = find_dates("17-04-16 14:02", date(2018, 6, 30), "ymd")
    assert ymd.value == date(2017, 4, 16)
    # Read within the usual window, nothing changes: the shop's order, trusted.
    [fresh] = find_dates("17-04-16", date(2016, 4, 20), "dmy")
    assert fresh.value == date(2016, 4, 17) and fresh.confidence >= 0.8
