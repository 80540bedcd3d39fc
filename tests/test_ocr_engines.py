"""Real OCR on real images: the rapidocr and tesseract plugins, orientation, the CLI.

Receipts are drawn here with Pillow and Noto Sans CJK (Debian ``fonts-noto-cjk``); a few
real receipts come from ``<repo>/../shared/receipts`` (not in the repository). The
rapidocr model loads once per process, so the module shares one engine registry.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pluggy
import pytest
from click.testing import CliRunner
from PIL import Image, ImageFilter

from loyalchat.commands.ocr import ocr_command
from loyalchat.extensions.base import Registry
from loyalchat.extensions.ocr import OcrEngine, get_ocr_engines
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.plugins.tesseract import TesseractEngine
from loyalchat.receipts.reading import OcrUnavailable, read_lines
from tests.drawn_receipts import (
    RECEIPT_LINES,
    SHARED_RECEIPTS,
    as_bytes,
    assert_reads_keys,
    draw_receipt,
    squashed,
)

REAL_RECEIPTS = ("sroie_train_012.jpg", "sroie_train_030.jpg", "sroie_train_287.jpg")


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """OCR touches no database: skip the suite's table truncation."""


@pytest.fixture(scope="module")
def pm() -> pluggy.PluginManager:
    """Plugins from the installed entry points, as in production."""
    return build_plugin_manager(load_entrypoints=True)


@pytest.fixture(scope="module")
def engines(pm: pluggy.PluginManager) -> Registry[OcrEngine]:
    return get_ocr_engines(pm)


@pytest.fixture(scope="module")
def rapidocr(engines: Registry[OcrEngine]) -> OcrEngine:
    return engines["rapidocr"]


async def test_builtin_engines_load_through_entry_points(engines: Registry[OcrEngine]) -> None:
    assert {"rapidocr", "tesseract"} <= set(engines)
    assert engines.owner("rapidocr") == "rapidocr"
    assert engines.owner("tesseract") == "tesseract"
    for name in ("rapidocr", "tesseract"):
        assert isinstance(engines[name], OcrEngine)
        assert engines[name].label


async def test_rapidocr_reads_chinese_and_english_receipt(rapidocr: OcrEngine) -> None:
    image = draw_receipt()
    result = await read_lines(as_bytes(image), rapidocr)

    assert result.engine == "rapidocr"
    assert result.rotation == 0
    assert result.passes == 1
    assert_reads_keys(result)
    assert result.mean_confidence > 0.9
    assert result.elapsed_ms > 0
    # Reading order and geometry: lines go down the page and stay inside it.
    tops = [min(y for _, y in line.box) for line in result.lines]
    assert tops == sorted(tops)
    width, height = result.size
    for line in result.lines:
        assert 0 <= line.confidence <= 1
        assert all(-2 <= x <= width + 2 and -2 <= y <= height + 2 for x, y in line.box)


@pytest.mark.parametrize("turned", [90, 180, 270])
async def test_sideways_and_upside_down_receipts_are_turned_upright(
    rapidocr: OcrEngine, turned: int
) -> None:
    # PIL rotates counter-clockwise; -turned photographs the receipt turned clockwise.
    photo = draw_receipt().rotate(-turned, expand=True, fillcolor="white")
    result = await read_lines(as_bytes(photo), rapidocr)

    assert result.rotation == (360 - turned) % 360
    assert_reads_keys(result)
    upright = draw_receipt().size
    assert result.size == upright


async def test_exif_rotated_jpeg_reads_in_one_pass(rapidocr: OcrEngine) -> None:
    # Camera sensors store landscape pixels and an EXIF tag saying "turn 90 clockwise".
    stored = draw_receipt().rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = as_bytes(stored, "JPEG", quality=92, exif=exif.tobytes())

    result = await read_lines(data, rapidocr)

    assert result.image.exif_transposed
    assert result.rotation == 0
    assert result.passes == 1
    assert_reads_keys(result, ("TOTAL42.50", "總計HK$128.50"))


async def test_long_thin_receipt_stays_readable(rapidocr: OcrEngine) -> None:
    items = tuple(f"ITEM {i:02d}  {i}.{i:02d}" for i in range(1, 61))
    lines = ("長條收據 LONG RECEIPT", *items, "TOTAL 99.90")
    image = draw_receipt(lines, width=500)
    assert image.height > 3000

    result = await read_lines(as_bytes(image, "JPEG", quality=90), rapidocr)

    assert result.image.size == image.size  # not shrunk
    assert_reads_keys(result, ("TOTAL99.90", "ITEM30", "ITEM60"))
    assert len(result.lines) >= 55


async def test_dark_blurred_photo_does_not_crash(rapidocr: OcrEngine) -> None:
    image = draw_receipt(RECEIPT_LINES[-3:], width=400)
    dark = Image.eval(image.filter(ImageFilter.GaussianBlur(3)), lambda v: v // 6)

    result = await read_lines(as_bytes(dark, "JPEG", quality=60), rapidocr)

    assert isinstance(result.lines, list)
    assert all(0 <= line.confidence <= 1 for line in result.lines)


async def test_concurrent_reads_share_one_model(rapidocr: OcrEngine) -> None:
    data = as_bytes(draw_receipt(RECEIPT_LINES[4:6], width=400))
    first, second = await asyncio.gather(rapidocr.read(data), rapidocr.read(data))
    assert [line.text for line in first] == [line.text for line in second]
    assert any("42.50" in line.text for line in first)


def real_receipts() -> list[tuple[Path, str]]:
    labels_path = SHARED_RECEIPTS / "labels.json"
    if not labels_path.is_file():
        pytest.fail(
            f"shared receipts not found at {SHARED_RECEIPTS} (expected next to the repository, "
            "with labels.json and images/); they are not committed to the repository"
        )
    labels = {Path(row["image"]).name: row for row in json.loads(labels_path.read_text())}
    chosen = []
    for name in REAL_RECEIPTS:
        if name not in labels:
            pytest.fail(f"{name} has no entry in {labels_path}")
        chosen.append((SHARED_RECEIPTS / labels[name]["image"], labels[name]["total"]))
    return chosen


async def test_real_receipts_show_their_labelled_total(rapidocr: OcrEngine) -> None:
    for path, total in real_receipts():
        result = await read_lines(path.read_bytes(), rapidocr)
        amount = f"{Decimal(total):.2f}"
        texts = squashed(result)
        assert any(amount in text for text in texts), f"{path.name}: {amount} not in {texts}"
        assert result.rotation == 0


async def test_tesseract_reads_the_same_receipt(engines: Registry[OcrEngine]) -> None:
    result = await read_lines(as_bytes(draw_receipt()), engines["tesseract"])

    assert result.engine == "tesseract"
    assert result.rotation == 0
    texts = squashed(result)
    assert any("TOTAL42.50" in text for text in texts), texts
    assert any("128.50" in text for text in texts), texts
    assert any("美味" in text for text in texts), texts
    assert all(0 <= line.confidence <= 1 for line in result.lines)


async def test_tesseract_names_a_missing_language_pack() -> None:
    engine = TesseractEngine(langs="eng+klingon")
    with pytest.raises(OcrUnavailable, match=r"klingon.*tesseract-ocr-klingon"):
        await engine.read(as_bytes(draw_receipt(RECEIPT_LINES[:1])))


def test_cli_prints_lines_as_json(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    path = tmp_path / "receipt.png"
    path.write_bytes(as_bytes(draw_receipt()))

    run = CliRunner().invoke(ocr_command, [str(path), "--json"], obj=pm)

    assert run.exit_code == 0, run.output
    body = json.loads(run.output)
    assert body["engine"] == "rapidocr"
    assert body["rotation"] == 0
    assert body["elapsed_ms"] > 0
    assert any("".join(line["text"].split()) == "TOTAL42.50" for line in body["lines"])
    assert all(len(line["box"]) == 4 for line in body["lines"])


def test_cli_prints_a_table_and_refuses_bad_input(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    path = tmp_path / "receipt.png"
    path.write_bytes(as_bytes(draw_receipt(RECEIPT_LINES[4:7], width=400)))
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a photo")
    runner = CliRunner()

    table = runner.invoke(ocr_command, [str(path)], obj=pm)
    assert table.exit_code == 0, table.output
    assert "TOTAL 42.50" in table.output
    assert "engine rapidocr, rotation 0" in table.output

    refused = runner.invoke(ocr_command, [str(text_file)], obj=pm)
    assert refused.exit_code == 1
    assert "not_an_image" in refused.output

    unknown = runner.invoke(ocr_command, [str(path), "--engine", "nope"], obj=pm)
    assert unknown.exit_code == 2
    assert "rapidocr" in unknown.output
