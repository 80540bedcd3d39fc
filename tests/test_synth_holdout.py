"""The held-out synthetic receipts (``--vocab holdout``): reproducible, true, and unseen.

Unseen means none of the key wording of the base generator, which the reading engine
was tuned against: a benchmark on these measures how the engine does on receipts it has
never met.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalchat.commands.synth import synth_command
from loyalchat.tools.receipt_synth import (
    STYLES,
    generate,
    make_holdout_spec,
    make_spec,
    vocab,
    vocab_holdout,
    write_dataset,
)

TODAY = dt.date(2025, 6, 11)


def _specs(count: int = 300):
    return [make_holdout_spec(seed, STYLES[seed % 3], today=TODAY) for seed in range(count)]


def test_same_seed_gives_identical_labels_and_bytes(tmp_path: Path) -> None:
    first = write_dataset(tmp_path / "a", 5, seed=20250611, today=TODAY, vocab="holdout")
    second = write_dataset(tmp_path / "b", 5, seed=20250611, today=TODAY, vocab="holdout")
    assert first == second
    for label in first:
        assert label["vocab"] == "holdout" and label["image"].startswith("images/unseen_")
        a = (tmp_path / "a" / label["image"]).read_bytes()
        b = (tmp_path / "b" / label["image"]).read_bytes()
        assert a == b, label["image"]
    other = [s.label for s in generate(5, seed=1, today=TODAY, vocab="holdout", difficulty=0)]
    assert [(x["company"], x["total"]) for x in other] != [
        (x["company"], x["total"]) for x in first
    ]


def test_key_vocabulary_shares_nothing_with_the_base_generator() -> None:
    def flat(table) -> set[str]:
        values = table.values() if isinstance(table, dict) else [table]
        return {word for group in values for word in group if word}

    base_chars = {ch for row in vocab.NAME_SYLLABLES for ch in row[:2]}
    new_chars = {ch for row in vocab_holdout.NAME_SYLLABLES for ch in row[:2]}
    assert base_chars.isdisjoint(new_chars)
    base_suffixes = {s[0] for s in vocab.HK_SHOPS + vocab.CN_SHOPS} | {s[0] for s in vocab.EN_SHOPS}
    new_suffixes = {s[0] for s in vocab_holdout.HK_SHOPS + vocab_holdout.TW_SHOPS}
    new_suffixes |= {s[0] for s in vocab_holdout.CN_SHOPS + vocab_holdout.EN_SHOPS}
    assert base_suffixes.isdisjoint(new_suffixes)
    assert set(vocab.EN_FIRST).isdisjoint(vocab_holdout.EN_FIRST)
    base_items = {name for rows in vocab.ITEMS.values() for row in rows for name in row[:3]}
    new_items = {name for rows in vocab_holdout.ITEMS.values() for row in rows for name in row[:3]}
    assert (base_items - {""}).isdisjoint(new_items), (base_items & new_items) - {""}
    for base, new in (
        (vocab.TOTAL_LABELS, vocab_holdout.TOTAL_LABELS),
        (vocab.TOTAL_LABELS, vocab_holdout.REFUND_TOTAL_LABELS),
        (vocab.SUBTOTAL_LABELS, vocab_holdout.SUBTOTAL_LABELS),
        (vocab.DISCOUNT_LABELS, vocab_holdout.DISCOUNT_LABELS),
        (vocab.DATE_LABELS, vocab_holdout.DATE_LABELS),
        (vocab.RECEIPT_NO_LABELS, vocab_holdout.RECEIPT_NO_LABELS),
        (vocab.FOOTERS, vocab_holdout.FOOTERS),
    ):
        assert flat(base).isdisjoint(flat(new)), flat(base) & flat(new)


def test_generated_receipts_use_other_shops_labels_and_formats() -> None:
    held_out = _specs()
    base = [make_spec(seed, STYLES[seed % 3], today=TODAY) for seed in range(300)]
    assert {s.merchant for s in held_out}.isdisjoint({s.merchant for s in base})
    assert {s.total_label for s in held_out}.isdisjoint({s.total_label for s in base})
    base_dates = {s.date_text for s in base}
    dates = [s.date_text for s in held_out]
    assert sum(text in base_dates for text in dates) < len(dates) * 0.1
    joined = " ".join(dates)
    assert any(len(t) == 8 and t.isdigit() for t in dates)  # 20250106
    assert "民國" in joined and "星期" in joined
    times = " ".join(s.time_text or "" for s in held_out)
    assert "上午" in times and "下午" in times
    assert {"TWD", "HKD", "CNY", "SGD", "MYR"} <= {s.currency for s in held_out}


def test_totals_add_up_and_refunds_are_negative() -> None:
    held_out = _specs(600)
    for spec in held_out:
        assert spec.is_consistent(), spec
        assert spec.total == spec.total.quantize(Decimal("0.01"))
        assert (spec.total < 0) is spec.refund
        if spec.currency == "TWD":
            assert spec.total == spec.total.to_integral_value()
        for payment in spec.payments:
            if payment.kind == "cash":
                assert payment.amount - payment.change == spec.total > 0
    refunds = [s for s in held_out if s.refund]
    assert 0.02 < len(refunds) / len(held_out) < 0.12
    assert {c.kind for s in held_out for c in s.charges} >= {"info", "discount", "rounding"}


def test_labels_carry_region_and_refund(tmp_path: Path) -> None:
    args = "--count 4 --seed 7 --vocab holdout --today 2025-06-11 --difficulty 0".split()
    result = CliRunner().invoke(synth_command, [str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    assert "Vocabulary holdout" in result.output
    labels = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert len(labels) == 4
    for label in labels:
        assert label["region"] in ("hk", "tw", "cn", "en") and isinstance(label["refund"], bool)
        assert label["company"] in label["merchant_aliases"]
        assert (tmp_path / label["image"]).is_file()


def test_unknown_vocab_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate(1, seed=1, today=TODAY, vocab="secret")
