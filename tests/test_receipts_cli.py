"""``loyalchat receipts read`` and ``profile``: real OCR on generated receipts, in one process."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from pathlib import Path

import pytest

from loyalchat.tools.receipt_synth import (
    ReceiptSpec,
    make_spec,
    photograph,
    render_receipt,
    write_dataset,
)
from loyalchat.tools.receipt_synth.dataset import encode_jpeg
from tests.test_cli import cli

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def clean_db() -> None:
    """Reading receipts needs no database."""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    folder = tmp_path_factory.mktemp("synth")
    labels = write_dataset(folder, 4, seed=2026, styles=("hk", "cn"), difficulty=0.2, today=TODAY)
    return folder, labels


def test_read_many_images_as_json_lines(dataset, tmp_path: Path) -> None:
    folder, labels = dataset
    (tmp_path / "notes.jpg").write_text("not a photo")
    images = [str(folder / label["image"]) for label in labels]
    result = cli(
        tmp_path,
        "receipts",
        "read",
        "--json",
        "--today",
        TODAY.isoformat(),
        *images,
        "notes.jpg",
        "missing.png",
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["image"] for row in rows] == [*images, "notes.jpg", "missing.png"]
    assert rows[-2]["error"].startswith("not_an_image")
    assert "error" in rows[-1]
    read = rows[:-2]
    for row in read:
        for key in ("merchant", "date", "total", "currency", "receipt_no", "elapsed_ms"):
            assert key in row
        assert set(row["confidence"]) >= {"merchant", "date", "total", "currency", "receipt_no"}
        assert all(0.0 <= value <= 1.0 for value in row["confidence"].values())
    totals = sum(row["total"] == label["total"] for row, label in zip(read, labels, strict=True))
    dates = sum(row["date"] == label["date"] for row, label in zip(read, labels, strict=True))
    assert totals >= 3 and dates >= 3, (read, labels)
    # A wrong total is never reported as certain.
    for row, label in zip(read, labels, strict=True):
        if row["total"] != label["total"]:
            assert row["confidence"]["total"] < 0.8


def _one_shop_samples(folder: Path, count: int) -> tuple[list[str], ReceiptSpec]:
    """Receipts of one shop (same header), different days, items and totals."""
    shop = make_spec(11, "hk", today=TODAY)
    images = []
    for n in range(count):
        other = make_spec(100 + n, "hk", today=TODAY)
        spec = dataclasses.replace(
            other,
            merchant=shop.merchant,
            merchant_aliases=shop.merchant_aliases,
            header_lines=shop.header_lines,
            currency=shop.currency,
            currency_mark=shop.currency_mark,
        )
        rng = random.Random(n)
        photo, _ = photograph(render_receipt(spec, rng), rng, 0.1)
        path = folder / f"shop_{n}.jpg"
        path.write_bytes(encode_jpeg(photo))
        images.append(str(path))
    return images, shop


def test_profile_proposes_aliases_currency_and_range(tmp_path: Path) -> None:
    images, shop = _one_shop_samples(tmp_path, 3)
    result = cli(tmp_path, "receipts", "profile", "--pos", "generic-pos", *images)
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert profile["pos_system"] == "generic-pos"
    assert shop.merchant in profile["merchant_names"], profile
    assert profile["currency"] == shop.currency
    assert profile["amount_range"], profile


def test_unknown_engine_is_a_clear_error(tmp_path: Path) -> None:
    result = cli(tmp_path, "receipts", "read", "--engine", "nonesuch", "x.jpg")
    assert result.returncode != 0
    assert "no OCR engine 'nonesuch'" in result.stderr and "rapidocr" in result.stderr
