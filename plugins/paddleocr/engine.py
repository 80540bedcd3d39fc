"""The PaddleOCR engine object: PaddleOCR 3.x's OCR pipeline, built on first use.

One pipeline is built per process and settings, lazily, and reads one image at a time
under a lock. PaddleX runs the models itself; with ONNX model folders it uses its
``onnxruntime`` engine, so PaddlePaddle is not needed.
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyalchat.extensions.ocr import OcrLine
from loyalchat.plugins.paddleocr.models import (
    ModelFolder,
    build_bundled_folders,
    configured_folder,
)
from loyalchat.receipts.reading.ocr import OcrUnavailable, bgr_array, reading_order

ENGINES = ("onnxruntime", "paddle")
INSTALL_HINT = "pip install 'loyalchat[paddle]'"

# PaddleX shrinks any image whose long side would pass 4000 px after detection resizing,
# which would make a long receipt strip unreadable; image preparation bounds the size.
_NO_GLOBAL_CAP = 20_000


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc


def _env_str(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def _env_path(name: str) -> Path | None:
    raw = _env_str(name)
    return Path(raw).expanduser() if raw else None


@dataclass(frozen=True)
class PaddleOcrSettings:
    """How the process-wide PaddleOCR pipeline is built (from ``LOYALCHAT_PADDLE_*``)."""

    model_dir: Path | None = field(default_factory=lambda: _env_path("LOYALCHAT_PADDLE_MODEL_DIR"))
    det_model_dir: Path | None = field(
        default_factory=lambda: _env_path("LOYALCHAT_PADDLE_DET_MODEL_DIR")
    )
    rec_model_dir: Path | None = field(
        default_factory=lambda: _env_path("LOYALCHAT_PADDLE_REC_MODEL_DIR")
    )
    det_model_name: str | None = field(
        default_factory=lambda: _env_str("LOYALCHAT_PADDLE_DET_MODEL_NAME")
    )
    rec_model_name: str | None = field(
        default_factory=lambda: _env_str("LOYALCHAT_PADDLE_REC_MODEL_NAME")
    )
    engine: str | None = field(default_factory=lambda: _env_str("LOYALCHAT_PADDLE_ENGINE"))
    threads: int = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_THREADS", -1))
    det_limit_side: int = field(
        default_factory=lambda: _env_int("LOYALCHAT_OCR_DET_LIMIT_SIDE", 736)
    )
    min_score: float = 0.5  # lines recognised below this are dropped, as rapidocr does

    def models_root(self) -> Path:
        """Where the bundled model folders are built: the setting, else under var_dir."""
        if self.model_dir is not None:
            return self.model_dir
        from loyalchat.settings import get_settings

        return get_settings().var_dir / "models" / "paddleocr"


class PaddleOcrEngine:
    """PaddleOCR 3.x (PaddleX's OCR pipeline): detection + recognition, CPU."""

    name = "paddleocr"
    label = "PaddleOCR 3 (PP-OCRv6 small by default, PaddleX on ONNX Runtime)"

    def __init__(self, settings: PaddleOcrSettings | None = None) -> None:
        self.settings = settings or PaddleOcrSettings()

    async def read(self, image: bytes) -> list[OcrLine]:
        return await asyncio.to_thread(self.read_sync, image)

    def read_sync(self, image: bytes) -> list[OcrLine]:
        """The blocking read, for callers already on a worker thread."""
        runner = _runner(self.settings)
        bgr = bgr_array(image)
        with runner.lock:
            results = runner.ocr.predict(bgr)
        if not results:
            return []
        result = results[0]
        polys, texts, scores = (result.get(key) for key in ("rec_polys", "rec_texts", "rec_scores"))
        if polys is None or texts is None or scores is None:
            return []
        lines = [
            OcrLine(
                text=str(text).strip(),
                box=tuple((float(x), float(y)) for x, y in poly),  # type: ignore[arg-type]
                confidence=max(0.0, min(1.0, float(score))),
            )
            for poly, text, score in zip(polys, texts, scores, strict=True)
            if str(text).strip() and len(poly) == 4
        ]
        return reading_order(lines)


@dataclass
class _Runner:
    ocr: Any
    lock: threading.Lock


_runners: dict[PaddleOcrSettings, _Runner] = {}
_runners_lock = threading.Lock()


def _runner(settings: PaddleOcrSettings) -> _Runner:
    runner = _runners.get(settings)
    if runner is None:
        with _runners_lock:
            runner = _runners.get(settings)
            if runner is None:
                runner = _build(settings)
                _runners[settings] = runner
    return runner


def model_folders(settings: PaddleOcrSettings) -> tuple[ModelFolder, ModelFolder]:
    """The detection and recognition folders: configured ones, else built from rapidocr's."""
    det = rec = None
    if settings.det_model_dir is not None:
        det = configured_folder(
            settings.det_model_dir,
            "LOYALCHAT_PADDLE_DET_MODEL_DIR",
            settings.det_model_name,
            "LOYALCHAT_PADDLE_DET_MODEL_NAME",
        )
    if settings.rec_model_dir is not None:
        rec = configured_folder(
            settings.rec_model_dir,
            "LOYALCHAT_PADDLE_REC_MODEL_DIR",
            settings.rec_model_name,
            "LOYALCHAT_PADDLE_REC_MODEL_NAME",
        )
    if det is None or rec is None:
        bundled_det, bundled_rec = build_bundled_folders(settings.models_root())
        det, rec = det or bundled_det, rec or bundled_rec
    return det, rec


def choose_engine(settings: PaddleOcrSettings, det: ModelFolder, rec: ModelFolder) -> str:
    """PaddleX's inference engine: the setting, else onnxruntime when both folders allow it.

    Raises :class:`OcrUnavailable` naming a folder without the engine's files, or
    PaddlePaddle when the ``paddle`` engine is chosen but not installed.
    """
    both_onnx = "onnx" in det.formats and "onnx" in rec.formats
    engine = settings.engine or ("onnxruntime" if both_onnx else "paddle")
    if engine not in ENGINES:
        raise OcrUnavailable(
            f"LOYALCHAT_PADDLE_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}"
        )
    wanted = "onnx" if engine == "onnxruntime" else "paddle"
    files = "inference.onnx" if wanted == "onnx" else "inference.json + inference.pdiparams"
    for folder in (det, rec):
        if wanted not in folder.formats:
            raise OcrUnavailable(
                f"the paddleocr engine runs {engine}, but {folder.path} has no {files}"
            )
    module = "onnxruntime" if engine == "onnxruntime" else "paddle"
    if importlib.util.find_spec(module) is None:
        package = "onnxruntime" if module == "onnxruntime" else "paddlepaddle"
        raise OcrUnavailable(
            f"the paddleocr engine's {engine} models need the '{package}' package, which is "
            f"not installed: pip install {package}"
        )
    return engine


def _build(settings: PaddleOcrSettings) -> _Runner:
    root = settings.models_root()
    _offline_environment(root)
    try:
        from paddleocr import PaddleOCR
        from paddlex.inference import load_pipeline_config
    except ImportError as exc:
        raise OcrUnavailable(
            f"the paddleocr engine needs the 'paddleocr' package (PaddleOCR 3.x), which "
            f"cannot be imported ({exc}): {INSTALL_HINT}"
        ) from exc
    quiet_logging()
    det, rec = model_folders(settings)
    engine = choose_engine(settings, det, rec)
    pipeline = copy.deepcopy(load_pipeline_config("OCR"))
    pipeline["SubModules"]["TextDetection"]["max_side_limit"] = _NO_GLOBAL_CAP
    options: dict[str, Any] = {}
    if engine == "onnxruntime":
        engine_config: dict[str, Any] = {"inter_op_num_threads": 1}
        if settings.threads > 0:
            engine_config["intra_op_num_threads"] = settings.threads
        options["engine_config"] = engine_config
    elif settings.threads > 0:
        options["cpu_threads"] = settings.threads
    try:
        ocr = PaddleOCR(
            paddlex_config=pipeline,
            text_detection_model_name=det.name,
            text_detection_model_dir=str(det.path),
            text_recognition_model_name=rec.name,
            text_recognition_model_dir=str(rec.path),
            # The reading engine searches the page's orientation itself.
            use_doc_orientation_classify=False,
            use_doc_unwarping=False,
            use_textline_orientation=False,
            text_det_limit_side_len=settings.det_limit_side,
            text_det_limit_type="min",
            text_rec_score_thresh=settings.min_score,
            engine=engine,
            device="cpu",
            **options,
        )
    except Exception as exc:  # PaddleX raises many kinds; all mean "cannot run here"
        raise OcrUnavailable(
            f"PaddleOCR could not load {det.name} from {det.path} and {rec.name} from "
            f"{rec.path} with engine {engine}: {exc}"
        ) from exc
    quiet_logging()
    return _Runner(ocr=ocr, lock=threading.Lock())


def _offline_environment(root: Path) -> None:
    """PaddleX flags, read when it is first imported: never probe model hosters, and keep
    its cache (locks, temp files) beside the model folders instead of ``~/.paddlex``."""
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(root.absolute() / "paddlex-cache"))


def quiet_logging() -> None:
    """PaddleX logs an INFO line per model it creates on its own handler; keep warnings."""
    logger = logging.getLogger("paddlex")
    logger.setLevel(logging.WARNING)
    for handler in logger.handlers:
        handler.setLevel(logging.WARNING)
