"""The paddleocr plugin: PaddleOCR 3.x on PaddleX's ONNX Runtime engine, offline.

Runs where the ``paddle`` extra is installed (``pip install -e '.[dev,paddle]'``, as
scripts/test does). The model folders are built from the rapidocr wheel's ONNX files into
a temporary folder, with every network connection refused, and the pipeline loads once
for the module.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("paddleocr")

import onnxruntime as ort
import yaml
from click.testing import CliRunner

from loyalchat.commands.ocr import ocr_command
from loyalchat.extensions.ocr import OcrEngine, get_ocr_engines
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.plugins.paddleocr import PaddleOcrEngine, PaddleOcrSettings
from loyalchat.plugins.paddleocr.engine import model_folders
from loyalchat.plugins.paddleocr.models import (
    BUNDLED_FILES,
    DET_MODEL_NAME,
    REC_MODEL_NAME,
    build_bundled_folders,
    bundled_source_dir,
)
from loyalchat.plugins.rapidocr import RapidOcrEngine
from loyalchat.receipts.reading import OcrUnavailable, read_lines
from tests.drawn_receipts import (
    RECEIPT_LINES,
    SHARED_RECEIPTS,
    as_bytes,
    assert_reads_keys,
    draw_receipt,
    squashed,
)

REAL_RECEIPT = "sroie_train_012.jpg"
PADDLE_ENV = (
    "LOYALCHAT_PADDLE_MODEL_DIR",
    "LOYALCHAT_PADDLE_DET_MODEL_DIR",
    "LOYALCHAT_PADDLE_REC_MODEL_DIR",
    "LOYALCHAT_PADDLE_DET_MODEL_NAME",
    "LOYALCHAT_PADDLE_REC_MODEL_NAME",
    "LOYALCHAT_PADDLE_ENGINE",
)


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """OCR touches no database: skip the suite's table truncation."""


@pytest.fixture(scope="module")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("paddle-models")


def settings_for(root: Path, **changes: object) -> PaddleOcrSettings:
    """Settings that ignore any LOYALCHAT_PADDLE_* in the environment."""
    values: dict[str, object] = {
        "model_dir": root,
        "det_model_dir": None,
        "rec_model_dir": None,
        "det_model_name": None,
        "rec_model_name": None,
        "engine": None,
    }
    return PaddleOcrSettings(**{**values, **changes})  # type: ignore[arg-type]


def refuse_network(*args: object, **kwargs: object) -> None:
    raise OSError("the network is off in this test: nothing may be downloaded")


@pytest.fixture(scope="module")
def paddle(model_root: Path) -> Iterator[PaddleOcrEngine]:
    """The engine, its pipeline built and warmed with every connection refused."""
    engine = PaddleOcrEngine(settings_for(model_root))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse_network)
        patch.setattr(socket, "getaddrinfo", refuse_network)
        lines = engine.read_sync(as_bytes(draw_receipt(RECEIPT_LINES[5:6], width=400)))
    assert any("42.50" in line.text for line in lines)
    yield engine


def test_plugin_registers_through_its_entry_point() -> None:
    engines = get_ocr_engines(build_plugin_manager(load_entrypoints=True))

    assert engines.owner("paddleocr") == "paddleocr"
    assert isinstance(engines["paddleocr"], OcrEngine)
    assert engines["paddleocr"].label


def test_model_folders_are_built_from_the_rapidocr_wheel(
    paddle: PaddleOcrEngine, model_root: Path
) -> None:
    source = bundled_source_dir()
    det, rec = model_folders(paddle.settings)

    assert (det.name, rec.name) == (DET_MODEL_NAME, REC_MODEL_NAME)
    assert (det.path, rec.path) == (model_root / DET_MODEL_NAME, model_root / REC_MODEL_NAME)
    for folder in (det, rec):
        assert sorted(p.name for p in folder.path.iterdir()) == ["inference.onnx", "inference.yml"]
        wheel_file = source / BUNDLED_FILES[folder.name]
        assert (folder.path / "inference.onnx").read_bytes() == wheel_file.read_bytes()
        config = yaml.safe_load((folder.path / "inference.yml").read_text(encoding="utf-8"))
        assert config["Global"]["model_name"] == folder.name
    # The recogniser's characters come from its ONNX metadata: one per CTC class, less
    # the blank and the space PaddleX adds.
    config = yaml.safe_load((rec.path / "inference.yml").read_text(encoding="utf-8"))
    characters = config["PostProcess"]["character_dict"]
    session = ort.InferenceSession(
        str(rec.path / "inference.onnx"), providers=["CPUExecutionProvider"]
    )
    assert session.get_outputs()[0].shape[-1] == len(characters) + 2
    assert {"A", "z", "0", "總", "计", "¥", "$"} <= set(characters)
    # PaddleX fetched nothing: no official-model cache anywhere we can see.
    assert not list(model_root.rglob("official_models"))


def test_building_again_leaves_the_folders_alone(paddle: PaddleOcrEngine, model_root: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in model_root.glob("PP-OCRv6_*/*")}
    build_bundled_folders(model_root)
    assert {p: p.stat().st_mtime_ns for p in model_root.glob("PP-OCRv6_*/*")} == before


async def test_reads_chinese_and_english_receipt(paddle: PaddleOcrEngine) -> None:
    result = await read_lines(as_bytes(draw_receipt()), paddle)

    assert result.engine == "paddleocr"
    assert result.rotation == 0
    assert result.passes == 1
    assert_reads_keys(result)
    assert result.mean_confidence > 0.9
    tops = [min(y for _, y in line.box) for line in result.lines]
    assert tops == sorted(tops)
    width, height = result.size
    for line in result.lines:
        assert len(line.box) == 4
        assert all(len(point) == 2 and isinstance(point[0], float) for point in line.box)
        assert 0 <= line.confidence <= 1
        assert all(-2 <= x <= width + 2 and -2 <= y <= height + 2 for x, y in line.box)


async def test_reads_like_rapidocr(paddle: PaddleOcrEngine) -> None:
    data = as_bytes(draw_receipt())
    ours, theirs = await paddle.read(data), await RapidOcrEngine().read(data)

    assert len(ours) == len(theirs) == len(RECEIPT_LINES)
    for mine, other in zip(ours, theirs, strict=True):
        assert "".join(mine.text.split()) == "".join(other.text.split())
        assert abs(min(y for _, y in mine.box) - min(y for _, y in other.box)) < 8


async def test_upside_down_receipt_is_turned(paddle: PaddleOcrEngine) -> None:
    photo = draw_receipt(RECEIPT_LINES[4:]).rotate(180, fillcolor="white")
    result = await read_lines(as_bytes(photo), paddle)

    assert result.rotation == 180
    assert_reads_keys(result, ("TOTAL42.50", "總計HK$128.50"))


async def test_concurrent_reads_share_one_pipeline(paddle: PaddleOcrEngine) -> None:
    data = as_bytes(draw_receipt(RECEIPT_LINES[4:6], width=400))
    first, second = await asyncio.gather(paddle.read(data), paddle.read(data))
    assert [line.text for line in first] == [line.text for line in second]


async def test_real_receipt_shows_its_labelled_total(paddle: PaddleOcrEngine) -> None:
    labels_path = SHARED_RECEIPTS / "labels.json"
    if not labels_path.is_file():
        pytest.fail(
            f"shared receipts not found at {SHARED_RECEIPTS} (expected next to the repository, "
            "with labels.json and images/); they are not committed to the repository"
        )
    labels = {Path(row["image"]).name: row for row in json.loads(labels_path.read_text())}
    row = labels[REAL_RECEIPT]

    result = await read_lines((SHARED_RECEIPTS / row["image"]).read_bytes(), paddle)

    texts = squashed(result)
    amount = f"{Decimal(row['total']):.2f}"
    assert any(amount in text for text in texts), texts
    assert any("HOMEMASTERHARDWARE" in text for text in texts), texts
    assert result.rotation == 0
    assert result.mean_confidence > 0.9


async def test_other_model_folders_from_settings(
    paddle: PaddleOcrEngine, model_root: Path, tmp_path: Path
) -> None:
    # Copies of the built folders stand in for models downloaded by hand.
    det = shutil.copytree(model_root / DET_MODEL_NAME, tmp_path / "det")
    rec = shutil.copytree(model_root / REC_MODEL_NAME, tmp_path / "rec")
    engine = PaddleOcrEngine(
        settings_for(tmp_path / "unused", det_model_dir=det, rec_model_dir=rec)
    )

    lines = await engine.read(as_bytes(draw_receipt(RECEIPT_LINES[5:7], width=400)))

    assert [line.text.replace(" ", "") for line in lines] == ["TOTAL42.50", "總計HK$128.50"]
    assert not (tmp_path / "unused").exists()  # nothing was built


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"det_model_dir": "nope"}, r"nope \(LOYALCHAT_PADDLE_DET_MODEL_DIR\) does not exist"),
        (
            {"rec_model_dir": "empty"},
            r"empty \(LOYALCHAT_PADDLE_REC_MODEL_DIR\) has no inference\.yml",
        ),
        ({"engine": "tensorflow"}, r"LOYALCHAT_PADDLE_ENGINE must be one of onnxruntime, paddle"),
        (
            {"engine": "paddle"},
            r"runs paddle, but .* has no inference\.json \+ inference\.pdiparams",
        ),
        (
            {"rec_model_dir": "rec", "rec_model_name": "PP-OCRv5_server_rec"},
            r"LOYALCHAT_PADDLE_REC_MODEL_NAME=PP-OCRv5_server_rec but .* declares model_name PP-OCRv6_small_rec",
        ),
    ],
)
async def test_misconfigured_models_name_the_missing_piece(
    paddle: PaddleOcrEngine,
    model_root: Path,
    tmp_path: Path,
    change: dict[str, str],
    message: str,
) -> None:
    (tmp_path / "empty").mkdir()
    shutil.copytree(model_root / REC_MODEL_NAME, tmp_path / "rec")
    resolved = {
        key: tmp_path / value if key.endswith("_dir") else value for key, value in change.items()
    }
    engine = PaddleOcrEngine(settings_for(model_root, **resolved))

    with pytest.raises(OcrUnavailable, match=message):
        await engine.read(as_bytes(draw_receipt(RECEIPT_LINES[:1])))


@pytest.mark.skipif(
    importlib.util.find_spec("paddle") is not None,
    reason="PaddlePaddle is installed here",
)
async def test_paddle_format_folders_ask_for_paddlepaddle(tmp_path: Path) -> None:
    for kind in ("det", "rec"):
        folder = tmp_path / kind
        folder.mkdir()
        for name in ("inference.json", "inference.pdiparams"):
            (folder / name).write_bytes(b"")
        (folder / "inference.yml").write_text(f"Global:\n  model_name: PP-OCRv5_server_{kind}\n")
    engine = PaddleOcrEngine(
        settings_for(tmp_path, det_model_dir=tmp_path / "det", rec_model_dir=tmp_path / "rec")
    )

    with pytest.raises(OcrUnavailable, match=r"'paddlepaddle' package.*pip install paddlepaddle"):
        await engine.read(as_bytes(draw_receipt(RECEIPT_LINES[:1])))


async def test_missing_paddleocr_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "paddleocr", None)  # import paddleocr now fails
    engine = PaddleOcrEngine(settings_for(tmp_path))

    with pytest.raises(
        OcrUnavailable, match=r"'paddleocr' package.*pip install 'loyalchat\[paddle\]'"
    ):
        await engine.read(as_bytes(draw_receipt(RECEIPT_LINES[:1])))


def test_plugin_lists_without_paddleocr_installed(tmp_path: Path) -> None:
    image = tmp_path / "receipt.png"
    image.write_bytes(as_bytes(draw_receipt(RECEIPT_LINES[:1])))
    script = f"""
import asyncio, sys
sys.modules["paddleocr"] = sys.modules["paddlex"] = None  # as if the extra were absent
from loyalchat.extensions.ocr import get_ocr_engines
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.receipts.reading import OcrUnavailable
engine = get_ocr_engines(build_plugin_manager(load_entrypoints=True))["paddleocr"]
try:
    asyncio.run(engine.read(open({str(image)!r}, "rb").read()))
except OcrUnavailable as exc:
    print("unavailable:", exc)
"""
    env = {**os.environ, "LOYALCHAT_PADDLE_MODEL_DIR": str(tmp_path / "models")}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )

    assert run.returncode == 0, run.stderr
    assert "unavailable:" in run.stdout and "pip install 'loyalchat[paddle]'" in run.stdout


def test_cli_reads_with_paddleocr(
    paddle: PaddleOcrEngine, model_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PADDLE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOYALCHAT_PADDLE_MODEL_DIR", str(model_root))
    pm = build_plugin_manager(load_entrypoints=True)
    assert get_ocr_engines(pm)["paddleocr"].settings == paddle.settings  # the loaded pipeline
    path = tmp_path / "receipt.png"
    path.write_bytes(as_bytes(draw_receipt()))
    runner = CliRunner()

    as_json = runner.invoke(ocr_command, [str(path), "--engine", "paddleocr", "--json"], obj=pm)
    table = runner.invoke(ocr_command, [str(path), "--engine", "paddleocr"], obj=pm)

    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["engine"] == "paddleocr"
    assert body["rotation"] == 0
    assert any("".join(line["text"].split()) == "TOTAL42.50" for line in body["lines"])
    assert all(len(line["box"]) == 4 for line in body["lines"])
    assert all(0 <= line["confidence"] <= 1 for line in body["lines"])
    assert table.exit_code == 0, table.output
    assert "engine paddleocr, rotation 0" in table.output


def test_cli_reports_an_engine_that_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALCHAT_PADDLE_DET_MODEL_DIR", str(tmp_path / "missing"))
    pm = build_plugin_manager(load_entrypoints=True)
    path = tmp_path / "receipt.png"
    path.write_bytes(as_bytes(draw_receipt(RECEIPT_LINES[:1])))

    run = CliRunner().invoke(ocr_command, [str(path), "--engine", "paddleocr"], obj=pm)

    assert run.exit_code == 1
    assert "engine 'paddleocr' cannot run" in run.output
    assert "LOYALCHAT_PADDLE_DET_MODEL_DIR" in run.output
