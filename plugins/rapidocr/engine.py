"""The RapidOCR engine object; models load on first use, once per process and settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Iterator
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

log = logging.getLogger(__name__)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc


RUNTIMES = ("openvino", "onnxruntime")


def _env_runtime() -> str:
    raw = os.environ.get("LOYALCHAT_OCR_RUNTIME", "").strip().lower() or "auto"
    if raw not in ("auto", *RUNTIMES):
        raise ValueError(
            f"LOYALCHAT_OCR_RUNTIME must be auto, {' or '.join(RUNTIMES)}, not {raw!r}"
        )
    return raw


def installed_runtime(wanted: str = "auto") -> str:
    """The inference runtime a read uses: OpenVINO when it is installed (1.7 times faster
    than ONNX Runtime on the same models on a 2-core CPU, the same text), else ONNX Runtime."""
    if wanted != "auto":
        return wanted
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "onnxruntime"
    return "openvino"


@dataclass(frozen=True)
class RapidOcrSettings:
    """How the process-wide RapidOCR instance is built (read from ``LOYALCHAT_OCR_*``)."""

    threads: int = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_THREADS", -1))
    # Photos read at once per process, each by its own copy of the models (0: two where
    # there are two cores or more). One read keeps about one core busy whatever its
    # threads (inference alternates with Python work), so with one copy a burst of photos
    # left the second core half idle: 10 photos at once took 7.3 s for the last, 4.5 s
    # with two (bench/receipt_pipeline.py).
    lanes: int = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_LANES", 0))
    runtime: str = field(default_factory=_env_runtime)
    det_limit_side: int = field(
        default_factory=lambda: _env_int("LOYALCHAT_OCR_DET_LIMIT_SIDE", 736)
    )
    use_cls: bool = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_USE_CLS", 0) == 1)
    # The recogniser pads every batch of line crops to at least this width (48 px high).
    # rapidocr's 320 spends a sixth of a read on padding receipts' many short amounts;
    # 160 reads the same (development part of ../shared/receipts, 120: total, date and
    # merchant 98.3 / 98.3 / 99.2 % either way; 90 unseen-vocabulary synthetic: 98.9 /
    # 97.8 / 98.9 % either way) for 15 % less OCR CPU. 48 loses decimal points.
    rec_min_width: int = field(default_factory=lambda: _env_int("LOYALCHAT_OCR_REC_MIN_WIDTH", 160))
    min_score: float = 0.5  # rapidocr drops lines recognised below this


class RapidOcrEngine:
    """PP-OCRv6 small (detection + recognition) on OpenVINO or ONNX Runtime, CPU."""

    name = "rapidocr"

    def __init__(self, settings: RapidOcrSettings | None = None) -> None:
        self.settings = settings or RapidOcrSettings()

    @property
    def label(self) -> str:
        runtime = installed_runtime(self.settings.runtime)
        return (
            f"RapidOCR (PP-OCRv6 small, {'OpenVINO' if runtime == 'openvino' else 'ONNX Runtime'})"
        )

    async def read(self, image: bytes) -> list[OcrLine]:
        return await asyncio.to_thread(self.read_sync, image)

    def warm_up(self) -> None:
        """Load the models now (blocking; the other copies follow on their own thread)."""
        with _lanes(self.settings).taken():
            pass

    async def read_pixels(self, rgb: Any) -> list[OcrLine]:
        """The prepared RGB pixels, without the PNG round trip of :meth:`read`."""
        return await asyncio.to_thread(self.read_rgb_sync, rgb)

    def read_sync(self, image: bytes) -> list[OcrLine]:
        """The blocking read, for callers already on a worker thread."""
        return self._read_bgr(bgr_array(image))

    def read_rgb_sync(self, rgb: Any) -> list[OcrLine]:
        import numpy as np

        return self._read_bgr(np.ascontiguousarray(rgb[:, :, ::-1]))

    def _read_bgr(self, bgr: Any) -> list[OcrLine]:
        with _lanes(self.settings).taken() as ocr:
            result = ocr(bgr)
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


def lane_plan(settings: RapidOcrSettings, cores: int | None = None) -> int:
    """How many photos ``settings`` lets one process read at once on ``cores`` CPUs.

    Default two wherever there are two cores or more: a lone photo still gets every core
    (threads are per read), and a burst keeps both busy."""
    cores = cores or os.cpu_count() or 1
    if settings.lanes > 0:
        return settings.lanes
    return 2 if cores > 1 else 1


class _Lanes:
    """Model copies handed out first come, first served: a read waits for a free one.

    The first read builds the first copy; the others are built on a background thread
    right after, so a burst of photos does not wait for them."""

    def __init__(self, settings: RapidOcrSettings) -> None:
        self.count = lane_plan(settings)
        self._settings = settings
        self._free: queue.Queue[Any] = queue.Queue()
        self._first: Any = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def taken(self) -> Iterator[Any]:
        """A model copy for one read, handed back afterwards (even when the read failed)."""
        ocr = self._take()
        try:
            yield ocr
        finally:
            self._free.put(ocr)

    def _take(self) -> Any:
        if self._first is None:
            with self._lock:
                if self._first is None:
                    self._first = _build(self._settings)
                    if self.count > 1:
                        threading.Thread(target=self._build_rest, daemon=True).start()
                    return self._first
        return self._free.get()

    def _build_rest(self) -> None:
        for _ in range(self.count - 1):
            try:
                self._free.put(_build(self._settings))
            except Exception:  # the first copy was built: this one will not fail differently
                log.exception("could not load another copy of the OCR models")
                return


_lane_sets: dict[RapidOcrSettings, _Lanes] = {}
_lane_sets_lock = threading.Lock()


def _lanes(settings: RapidOcrSettings) -> _Lanes:
    lanes = _lane_sets.get(settings)
    if lanes is None:
        with _lane_sets_lock:
            lanes = _lane_sets.setdefault(settings, _Lanes(settings))
    return lanes


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


def _build(settings: RapidOcrSettings) -> Any:
    paths = model_paths()
    runtime = installed_runtime(settings.runtime)
    try:
        # Fail here with our message, not deep inside rapidocr.
        __import__(runtime)
        from rapidocr import EngineType, RapidOCR
    except ImportError as exc:
        raise OcrUnavailable(
            f"the rapidocr engine cannot import its runtime ({exc}): pip install rapidocr {runtime}"
        ) from exc
    quiet_logging()
    params: dict[str, Any] = {
        "Global.log_level": "warning",
        "Global.model_root_dir": str(paths["Det"].parent),
        "Global.max_side_len": _NO_GLOBAL_CAP,
        "Global.use_cls": settings.use_cls,
        "Global.text_score": settings.min_score,
        "Det.limit_side_len": settings.det_limit_side,
        "Rec.rec_img_shape": [3, 48, max(16, settings.rec_min_width)],
        "EngineConfig.onnxruntime.intra_op_num_threads": settings.threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "EngineConfig.openvino.inference_num_threads": settings.threads,
        # OpenVINO pins each copy's threads to cores; two copies (lanes, or worker
        # processes) then queue on the same cores. Unpinned, 24 photos read by two lanes
        # took 8.1-8.9 s instead of 11.2-11.5 s (2-core machine); one lane alone is the same.
        "EngineConfig.openvino.enable_cpu_pinning": False,
    }
    for task, path in paths.items():
        # OpenVINO reads the same ONNX files: nothing else to ship or convert.
        params[f"{task}.model_path"] = str(path)
        params[f"{task}.engine_type"] = EngineType(runtime)
    ocr = RapidOCR(params=params)
    quiet_logging()
    return ocr


def quiet_logging() -> None:
    """rapidocr logs coloured INFO lines on its own handler; keep warnings only."""
    logger = logging.getLogger("RapidOCR")
    logger.setLevel(logging.WARNING)
    for handler in logger.handlers:
        handler.setLevel(logging.WARNING)
