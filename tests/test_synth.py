"""The synthetic receipt generator: deterministic, arithmetically true, and really drawn."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw

from loyalchat.commands.synth import synth_command
from loyalchat.tools.receipt_synth import (
    STYLES,
    generate,
    make_spec,
    render_receipt,
    write_dataset,
)
from loyalchat.tools.receipt_synth.fonts import get_font

TODAY = dt.date(2026, 11, 22)
SHARED_KEYS = {"image", "company", "date", "total"}
EXTRA_KEYS = {
    "currency",
    "receipt_no",
    "time",
    "lang",
    "style",
    "rotation",
    "merchant_aliases",
    "seed",
}


def _ink(text: str, lang: str = "zh-Hant") -> np.ndarray:
    font = get_font("sans", False, lang, 48)
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((32, 32), text, font=font, fill=255, anchor="mm")
    return np.asarray(image) > 127


def test_same_seed_gives_identical_labels_and_bytes(tmp_path: Path) -> None:
    first = write_dataset(tmp_path / "a", 6, seed=42, today=TODAY)
    second = write_dataset(tmp_path / "b", 6, seed=42, today=TODAY)
    assert first == second
    for label in first:
        a = (tmp_path / "a" / label["image"]).read_bytes()
        b = (tmp_path / "b" / label["image"]).read_bytes()
        assert a == b, label["image"]


def test_different_seeds_differ() -> None:
    one = [s.label for s in generate(4, seed=1, today=TODAY, difficulty=0)]
    two = [s.label for s in generate(4, seed=2, today=TODAY, difficulty=0)]
    assert [(x["company"], x["total"]) for x in one] != [(x["company"], x["total"]) for x in two]
    assert {x["seed"] for x in one}.isdisjoint({x["seed"] for x in two})


@pytest.mark.parametrize("style", STYLES)
def test_totals_add_up(style: str) -> None:
    for seed in range(200):
        spec = make_spec(seed, style, today=TODAY)
        assert spec.is_consistent(), spec
        counted = sum((c.amount for c in spec.charges if c.counted), Decimal(0))
        assert spec.subtotal + counted == spec.total
        assert spec.total > 0 and spec.total == spec.total.quantize(Decimal("0.01"))
        for payment in spec.payments:
            if payment.kind == "cash":
                assert payment.amount > spec.total
                assert payment.amount - payment.change == spec.total


def test_labels_dates_are_iso_and_never_in_the_future() -> None:
    for seed in range(300):
        spec = make_spec(seed, STYLES[seed % 3], today=TODAY)
        parsed = dt.date.fromisoformat(spec.date.isoformat())
        assert TODAY - dt.timedelta(days=366) <= parsed <= TODAY
        if spec.time is not None:
            dt.time.fromisoformat(spec.time.strftime("%H:%M"))


def test_content_covers_the_trap_lines_and_formats() -> None:
    specs = [make_spec(seed, STYLES[seed % 3], today=TODAY) for seed in range(600)]
    kinds = {c.kind for s in specs for c in s.charges}
    assert {"subtotal", "discount", "service", "tax", "rounding", "count"} <= kinds
    payments = {p.kind for s in specs for p in s.payments}
    assert {"cash", "octopus", "alipay", "wechat", "card"} <= payments
    assert {"HKD", "MOP", "CNY", "SGD", "MYR"} <= {s.currency for s in specs}
    dates = " ".join(s.date_text for s in specs)
    assert "年" in dates and "/" in dates and "-" in dates
    assert any(s.total >= 1000 for s in specs)
    assert any(len(s.items) >= 20 for s in specs)


def test_cjk_glyphs_render_not_tofu() -> None:
    for lang, a, b in (("zh-Hant", "總", "計"), ("zh-Hans", "总", "计"), ("zh-HK", "續", "找")):
        ink_a, ink_b = _ink(a, lang), _ink(b, lang)
        assert ink_a.sum() > 50 and ink_b.sum() > 50
        assert (ink_a != ink_b).sum() > 50, f"{a} and {b} draw the same glyph in {lang}"


def test_images_decode_with_sane_sizes(tmp_path: Path) -> None:
    labels = write_dataset(tmp_path, 20, seed=7, today=TODAY, difficulty=0.8)
    for label in labels:
        with Image.open(tmp_path / label["image"]) as image:
            assert image.format == "JPEG"
            assert 300 <= min(image.size) and max(image.size) <= 2400
            grey = np.asarray(image.convert("L"), dtype=np.float32)
            assert grey.std() > 10  # not a blank page


def test_clean_render_is_paper_with_ink() -> None:
    spec = make_spec(3, "hk", today=TODAY)
    paper = render_receipt(spec, random.Random(3))
    assert paper.mode == "RGB" and 384 <= paper.width <= 576 and paper.height > 300
    grey = np.asarray(paper.convert("L"))
    assert (grey < 128).mean() > 0.01  # printed text
    assert np.median(grey) > 200  # mostly paper


def test_write_dataset_uses_the_shared_label_format(tmp_path: Path) -> None:
    write_dataset(tmp_path, 5, seed=11, styles=("hk", "cn"), today=TODAY)
    labels = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert isinstance(labels, list) and len(labels) == 5
    for label in labels:
        assert SHARED_KEYS | EXTRA_KEYS <= set(label)
        assert (tmp_path / label["image"]).is_file()
        assert label["company"] and label["company"] in label["merchant_aliases"]
        assert str(Decimal(label["total"]).quantize(Decimal("0.01"))) == label["total"]
        assert label["style"] in ("hk", "cn") and label["lang"] in ("zh-Hant", "zh-Hans")
        assert label["rotation"] in (0, 90, 180, 270)
        assert label["time"] is None or len(label["time"]) == 5


def test_difficulty_zero_is_the_flat_render() -> None:
    (sample,) = generate(1, seed=5, today=TODAY, difficulty=0)
    assert sample.rotation == 0 and sample.image is not None
    assert 384 <= sample.image.width <= 576


def test_unknown_style_is_rejected() -> None:
    with pytest.raises(ValueError):
        generate(1, seed=1, styles=("jp",), today=TODAY)


def test_cli_writes_dataset_and_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        synth_command,
        [str(tmp_path), "--count", "3", "--seed", "9", "--style", "cn", "--today", "2026-11-22"],
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 3 receipts" in result.output
    labels = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert [label["style"] for label in labels] == ["cn"] * 3
    with Image.open(io.BytesIO((tmp_path / labels[0]["image"]).read_bytes())) as image:
        image.load()
