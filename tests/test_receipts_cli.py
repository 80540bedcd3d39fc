"""``loyalchat receipts read`` and ``profile``: real OCR on generated and real receipts, run as
the user runs them (a subprocess): lines streamed as read, ``--jobs``, progress on stderr."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pty
import random
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from loyalchat.commands.receipts import worker_threads
from loyalchat.tools.receipt_synth import (
    ReceiptSpec,
    make_spec,
    photograph,
    render_receipt,
    write_dataset,
)
from loyalchat.tools.receipt_synth.dataset import encode_jpeg
from tests.drawn_receipts import SHARED_RECEIPTS
from tests.test_cli import cli

TODAY = dt.date(2026, 11, 20)
REAL = SHARED_RECEIPTS / "images"
TIMINGS = {"ocr_ms", "extract_ms", "elapsed_ms"}


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
    broken = _broken_photo(tmp_path)
    result = cli(
        tmp_path,
        "receipts",
        "read",
        "--json",
        "--today",
        TODAY.isoformat(),
        *images,
        "notes.jpg",
        broken,
        "missing.png",
    )
    # Every image is printed, and the exit status says some could not be read.
    assert result.returncode == 1, result.stderr
    assert "3 of 7 images could not be read" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["image"] for row in rows] == [*images, "notes.jpg", broken, "missing.png"]
    assert rows[-3]["error"].startswith("not_an_image")
    assert rows[-2]["error"].startswith("truncated")
    assert "error" in rows[-1]
    read = rows[:-3]
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


def _broken_photo(folder: Path) -> str:
    """A real receipt photo cut off half way, as an interrupted upload leaves it."""
    data = (REAL / "sroie_train_012.jpg").read_bytes()
    path = folder / "cut_off.jpg"
    path.write_bytes(data[: len(data) // 2])
    return str(path)


def _real_photos(count: int) -> list[str]:
    if not REAL.is_dir():
        pytest.fail(f"shared receipts not found at {REAL} (not in the repository)")
    return [str(path) for path in sorted(REAL.glob("*.jpg"))[:count]]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env["LOYALCHAT_VAR_DIR"] = str(tmp_path / "var")
    return env


def _json_lines(stdout: str) -> list[dict]:
    """Every line of stdout is one JSON object (nothing else is ever printed there)."""
    return [json.loads(line) for line in stdout.splitlines()]


def test_read_prints_each_image_as_soon_as_it_is_read(tmp_path: Path) -> None:
    images = _real_photos(3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loyalchat", "receipts", "read", "--json", *images],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,  # unbuffered: readline takes the first line and nothing after it
        env=_env(tmp_path),
    )
    try:
        first = proc.stdout.readline()
        # The first photo's line is out while the others are still being read: no second
        # line waiting in the pipe, the process still running.
        assert select.select([proc.stdout], [], [], 0)[0] == []
        assert proc.poll() is None
        rest, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    rows = _json_lines((first + rest).decode())
    stderr = stderr.decode()
    assert [row["image"] for row in rows] == images
    assert all(row["total"] and row["merchant"] for row in rows), rows
    # Piped stderr: no progress unless asked for.
    assert "Reading receipts" not in stderr and "1/3" not in stderr


def test_jobs_read_the_same_as_one_process(tmp_path: Path) -> None:
    images = [*_real_photos(3), _broken_photo(tmp_path)]
    one = cli(tmp_path, "receipts", "read", "--json", "--today", "2019-01-01", *images)
    two = cli(
        tmp_path, "receipts", "read", "--json", "--today", "2019-01-01", "--jobs", "2", *images
    )
    assert one.returncode == two.returncode == 1, (one.stderr, two.stderr)
    rows_one, rows_two = _json_lines(one.stdout), _json_lines(two.stdout)
    assert [row["image"] for row in rows_two] == images  # the order given, with jobs too
    assert rows_two[-1]["error"].startswith("truncated")
    for a, b in zip(rows_one, rows_two, strict=True):
        assert {k: v for k, v in a.items() if k not in TIMINGS} == {
            k: v for k, v in b.items() if k not in TIMINGS
        }


def test_jobs_share_the_cores_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOYALCHAT_OCR_THREADS", raising=False)
    assert worker_threads(1, cores=8) == 8
    assert worker_threads(2, cores=8) == 4
    assert worker_threads(2, cores=2) == 1
    assert worker_threads(3, cores=2) == 1  # never none
    monkeypatch.setenv("LOYALCHAT_OCR_THREADS", "2")
    assert worker_threads(1, cores=8) == 2  # asked for fewer
    assert worker_threads(2, cores=2) == 1  # never more than the share


def test_progress_on_a_terminal_goes_to_stderr_only(tmp_path: Path) -> None:
    images = [_broken_photo(tmp_path), *_real_photos(1)]
    master, terminal = pty.openpty()
    seen: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "loyalchat", "receipts", "read", "--json", *images],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=_env(tmp_path),
            timeout=300,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(master)
    shown = b"".join(seen).decode()
    assert result.returncode == 1
    assert "Reading receipts" in shown and "2/2, 1 failed" in shown, shown
    rows = _json_lines(result.stdout)
    assert [row["image"] for row in rows] == images


def test_progress_when_asked_for_is_lines_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_text("not a photo")
    (tmp_path / "b.jpg").write_text("not a photo either")
    result = cli(tmp_path, "receipts", "read", "--json", "--progress", "a.jpg", "b.jpg")
    assert result.returncode == 1
    assert "1/2, 1 failed" in result.stderr and "2/2, 2 failed" in result.stderr
    assert [row["image"] for row in _json_lines(result.stdout)] == ["a.jpg", "b.jpg"]
