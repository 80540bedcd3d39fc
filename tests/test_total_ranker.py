"""The learned total ranker: its second opinion, its calibrated confidence, its fallbacks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading.parse import parse_lines
from loyalchat.receipts.reading.parse.generic import read_rows
from loyalchat.receipts.reading.parse.rank import (
    MODEL_ENV,
    MODEL_PATH,
    calibrate,
    candidates,
    load_model,
    rank,
)
from loyalchat.receipts.reading.parse.total import choose_total
from loyalchat.receipts.reading.parse.trees import TreeEnsemble
from tests.receipt_lines import layout

MALAYSIA = ReceiptProfile(currency="MYR", timezone="Asia/Kuala_Lumpur")
NOW = datetime(2019, 1, 31)

# "DUE 99.00" under the card payment fools the rules (a strong label, bottom-most); the
# subtotal plus tax and the card payment both say 16.43. (One item line: two that add up
# to the subtotal would be proof enough for the rules.)
FOOLED = [
    "KEDAI MAJU",
    ["NASI LEMAK SET", "15.50"],
    ["SUBTOTAL", "15.50"],
    ["SST 6%", "0.93"],
    ["TOTAL", "16.43"],
    ["VISA", "16.43"],
    ["MEMBER POINTS BALANCE", "120.50"],
    ["DUE", "99.00"],
]
SIMPLE = [
    "KEDAI RUNCIT MAJU",
    ["MILO 1KG", "15.80"],
    ["GARDENIA BREAD", "3.90"],
    ["SUBTOTAL", "19.70"],
    ["TOTAL", "19.70"],
    ["CASH", "20.00"],
    ["CHANGE", "0.30"],
]


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Pure parsing: no database needed."""


@pytest.fixture(autouse=True)
def ranker_on(monkeypatch) -> None:
    """The ranker is opt-in (LOYALCHAT_TOTAL_RANKER=on): these tests read with it."""
    monkeypatch.setenv(MODEL_ENV, "on")


def test_by_default_totals_come_from_the_rules(monkeypatch) -> None:
    monkeypatch.delenv(MODEL_ENV)
    rules = _rules(FOOLED)
    fields = _read(FOOLED)
    assert rules is not None and fields.total is not None
    assert (fields.total.value, fields.total.confidence) == (rules.value, rules.confidence)
    assert "ranker_disagrees" not in fields.warnings


def _read(rows: list):
    return parse_lines(layout(rows), MALAYSIA, now=NOW)


def _rules(rows: list):
    found, _, _, infos = read_rows(layout(rows), MALAYSIA, NOW)
    return choose_total(found, infos)


def test_shipped_model_loads_and_agrees_on_a_plain_receipt() -> None:
    model = load_model(MODEL_PATH)
    assert model is not None, "the wheel ships receipts/reading/models/total_ranker.npz"
    found, _, _, infos = read_rows(layout(SIMPLE), MALAYSIA, NOW)
    best = rank(model["model"], candidates(found, infos, choose_total(found, infos)))
    assert best is not None and best.value == Decimal("19.70")
    fields = _read(SIMPLE)
    assert fields.total is not None and fields.total.value == Decimal("19.70")
    assert "ranker_disagrees" not in fields.warnings


def test_arithmetic_outvotes_a_fooled_rule_and_a_person_checks() -> None:
    model = load_model(MODEL_PATH)
    assert model is not None
    found, _, _, infos = read_rows(layout(FOOLED), MALAYSIA, NOW)
    rules = choose_total(found, infos)
    assert rules is not None and rules.value == Decimal("99.00")
    assert rank(model["model"], candidates(found, infos, rules)).value == Decimal("16.43")
    fields = _read(FOOLED)
    assert fields.total is not None and fields.total.confidence < 0.8
    assert "ranker_disagrees" in fields.warnings


def test_without_a_model_file_the_rules_answer(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "missing.npz"))
    for rows in (SIMPLE, FOOLED):
        rules = _rules(rows)
        fields = _read(rows)
        assert fields.total is not None and rules is not None
        assert (fields.total.value, fields.total.confidence) == (rules.value, rules.confidence)
        assert fields.warnings[: len(rules.warnings)] == rules.warnings
        assert "ranker_disagrees" not in fields.warnings


@pytest.mark.parametrize(
    "content",
    [
        b"not a model at all",
        "other-features",
        "old-format",
    ],
    ids=["corrupt", "other-features", "old-format"],
)
def test_a_damaged_or_foreign_model_falls_back_to_the_rules(
    monkeypatch, tmp_path, caplog, content: bytes
) -> None:
    path = tmp_path / "ranker.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:  # the shipped trees, described as another model
        trees, about = TreeEnsemble.load_with_about(MODEL_PATH)
        if content == "other-features":
            about = {**about, "features": about["features"][:-1]}
        else:
            about = {**about, "format": 1}
        trees.save(path, about)
    monkeypatch.setenv(MODEL_ENV, str(path))
    rules = _rules(FOOLED)
    fields = _read(FOOLED)
    assert rules is not None and fields.total is not None
    assert (fields.total.value, fields.total.confidence) == (rules.value, rules.confidence)
    assert "totals come from the rules" in caplog.text


def test_calibration_is_monotone_and_08_starts_at_the_threshold() -> None:
    model = load_model(MODEL_PATH)
    assert model is not None
    grid = [k / 200 for k in range(201)]
    confidences = [calibrate(model, s) for s in grid]
    assert confidences == sorted(confidences)
    assert all(0.05 <= c <= 0.98 for c in confidences)
    threshold = model["threshold"]
    assert all((c >= 0.8) == (s >= threshold) for s, c in zip(grid, confidences, strict=True))
