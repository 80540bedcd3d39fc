"""Grouping OCR boxes into printed rows."""

from __future__ import annotations

import pytest

from loyalchat.receipts.reading.parse.rows import group_rows, row_below
from tests.receipt_lines import box, layout


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


def test_label_and_value_in_separate_boxes_share_a_row() -> None:
    rows = group_rows([box("HK$88.00", 400, 103), box("總計", 20, 100), box("Coffee", 20, 60)])
    assert [r.text for r in rows] == ["Coffee", "總計 HK$88.00"]


def test_tilted_photo_keeps_rows_together() -> None:
    lines = layout([["TOTAL", "45.00"], ["CASH", "50.00"], ["CHANGE", "5.00"]], tilt=0.06)
    assert [r.text for r in group_rows(lines)] == ["TOTAL 45.00", "CASH 50.00", "CHANGE 5.00"]


def test_value_on_the_line_below() -> None:
    rows = group_rows(layout(["AMOUNT DUE", "HK$10.00", "", "", "Thank you"]))
    assert row_below(rows, 0) is rows[1]
    assert row_below(rows, 1) is None  # "Thank you" is far below


def test_stacked_boxes_are_separate_rows() -> None:
    # Two lines over the same x range with touching boxes: never one row.
    rows = group_rows([box("ABC TRADING", 20, 20, height=30), box("LIMITED", 20, 38, height=30)])
    assert len(rows) == 2


def test_empty_input() -> None:
    assert group_rows([]) == []
