"""The RapidOCR engine object; models load on first use, once per process and settings."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyalchat.extensions.ocr import OcrLine
from loyalchat.receipts.reading.ocr import OcrUnavailable, bgr_array, reading_order

MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

# rapidocr's own resize caps the long side at 2000 px before detection, which would
# shrink a long receipt strip; image preparation already bounds the size instead.
_NO_GLOBAL_CAP = 20_000


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc


@dataclass(frozen=True)
class RapidOcrSettings:
    """How the process-wide RapidOCR instance is built (read from ``LOYALCHAT_OCR_*``)."""

    threads: int = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_THREADS", -1))
    det_limit_side: int = field(
        default_factory=lambda: _env_int("LOYALCHAT_OCR_DET_LIMIT_SIDE", 736)
    )
    use_cls: bool = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_USE_CLS", 0) == 1)
    min_score: float = 0.5  # rapidocr drops lines recognised below this


class RapidOcrEngine:
    """PP-OCRv6 small (detection + recognition) on ONNX Runtime, CPU."""

    name = "rapidocr"
    label = "RapidOCR (PP-OCRv6 small, ONNX Runtime)"

    def __init__(self, settings: RapidOcrSettings | None = None) -> None:
        self.settings = settings or RapidOcrSettings()

    async def read(self, image: bytes) -> list[OcrLine]:
        return await asyncio.to_thread(self.read_sync, image)

    def read_sync(self, image: bytes) -> list[OcrLine]:
        """The blocking read, for callers already on a worker thread."""
        runner = _runner(self.settings)
        bgr = bgr_array(image)
        with runner.lock:
            result = runner.ocr(bgr)
        boxes, texts, scores = (getattr(result, key, None) for key in ("boxes", "txts", "scores"))
        if boxes is None or texts is None or scores is None:
            return []
        lines = [
            OcrLine(
                text=str(text).strip(),
                box=tuple((float(x), float(y)) for x, y in box),  # type: ignore[arg-type]
                confidence=max(0.0, min(1.0, float(score))),
            )
            for box, text, score in zip(boxes, texts, scores, strict=True)
            if str(text).strip()
        ]
        return reading_order(lines)


@dataclass
class _Runner:
    ocr: Any
    lock: threading.Lock


_runners: dict[RapidOcrSettings, _Runner] = {}
_runners_lock = threading.Lock()


def model_dir() -> Path:
    """Where the ``rapidocr`` wheel keeps its bundled ONNX models."""
    try:
        import rapidocr
    except ImportError as exc:
        raise OcrUnavailable(
            "the rapidocr engine needs the 'rapidocr' and 'onnxruntime' packages: "
            "pip install rapidocr onnxruntime"
        ) from exc
    return Path(rapidocr.__file__).parent / "models"


def model_paths() -> dict[str, Path]:
    """The bundled model files; :class:`OcrUnavailable` names any that are missing."""
    folder = model_dir()
    paths = {task: folder / filename for task, filename in MODEL_FILES.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise OcrUnavailable(
            "RapidOCR model files are missing (loyalchat never downloads models): "
            + ", ".join(missing)
            + ". Reinstall a rapidocr wheel that bundles PP-OCRv6 small models."
        )
    return paths


def _runner(settings: RapidOcrSettings) -> _Runner:
    runner = _runners.get(settings)
    if runner is None:
        with _runners_lock:
            runner = _runners.get(settings)
            if runner is None:
                runner = _Runner(ocr=_build(settings), lock=threading.Lock())
                _runners[settings] = runner
    return runner


def _build(settings: RapidOcrSettings) -> Any:
    paths = model_paths()
    try:
        import onnxruntime  # noqa: F401  (fail here with our message, not deep inside)
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise OcrUnavailable(
            f"the rapidocr engine cannot import its runtime ({exc}): "
            "pip install rapidocr onnxruntime"
        ) from exc
    quiet_logging()
    params: dict[str, Any] = {
        "Global.log_level": "warning",
        "Global.model_root_dir": str(paths["Det"].parent),
        "Global.max_side_len": _NO_GLOBAL_CAP,
        "Global.use_cls": settings.use_cls,
        "Global.text_score": settings.min_score,
        "Det.limit_side_len": settings.det_limit_side,
        "EngineConfig.onnxruntime.intra_op_num_threads": settings.threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    for task, path in paths.items():
        params[f"{task}.model_path"] = str(path)
    ocr = RapidOCR(params=params)
    quiet_logging()
    return ocr


def quiet_logging() -> None:
    """rapidocr logs coloured INFO lines on its own handler; keep warnings only."""
    logger = logging.getLogger("RapidOCR")
    logger.setLevel(logging.WARNING)
    for handler in logger.handlers:
        handler.setLevel(logging.WARNING)
