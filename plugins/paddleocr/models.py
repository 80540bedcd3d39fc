"""PaddleOCR model folders: built from the rapidocr wheel's ONNX files, or taken from settings.

PaddleX loads a model from a folder holding ``inference.onnx`` (or Paddle's
``inference.json`` + ``inference.pdiparams``) and an ``inference.yml`` that names the model
and describes its pre- and post-processing. The rapidocr wheel ships PP-OCRv6 small
detection and recognition as bare ONNX files (the recogniser's character list sits in the
ONNX metadata), so the folders are assembled here once, at first use: nothing is
downloaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loyalchat.receipts.reading.ocr import OcrUnavailable

DET_MODEL_NAME = "PP-OCRv6_small_det"
REC_MODEL_NAME = "PP-OCRv6_small_rec"

# File names inside <site-packages>/rapidocr/models/.
BUNDLED_FILES = {
    DET_MODEL_NAME: "PP-OCRv6_det_small.onnx",
    REC_MODEL_NAME: "PP-OCRv6_rec_small.onnx",
}

ONNX_FILE = "inference.onnx"
CONFIG_FILE = "inference.yml"
PADDLE_FILES = (("inference.json", "inference.pdmodel"), ("inference.pdiparams",))

# PaddleX's own inference.yml content for PP-OCRv6 (paddlex/modules/base/utils/
# pdparams2safetensors/inference_meta.py), without the TensorRT shape hints.
_DET_CONFIG: dict[str, Any] = {
    "PreProcess": {
        "transform_ops": [
            {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
            {"DetLabelEncode": None},
            {"DetResizeForTest": {"limit_side_len": 736, "limit_type": "min"}},
            {
                "NormalizeImage": {
                    "mean": [0.485, 0.456, 0.406],
                    "std": [0.229, 0.224, 0.225],
                    "scale": "1./255.",
                    "order": "hwc",
                }
            },
            {"ToCHWImage": None},
            {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
        ]
    },
    "PostProcess": {
        "name": "DBPostProcess",
        "thresh": 0.3,
        "box_thresh": 0.6,
        "max_candidates": 1000,
        "unclip_ratio": 1.5,
    },
}
_REC_PREPROCESS: dict[str, Any] = {
    "transform_ops": [
        {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
        {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
        {"RecResizeImg": {"image_shape": [3, 48, 320]}},
        {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}},
    ]
}


@dataclass(frozen=True)
class ModelFolder:
    """A model folder PaddleX can load, with the model name its inference.yml declares."""

    name: str
    path: Path
    formats: tuple[str, ...]  # "onnx" (for onnxruntime) and/or "paddle" (for paddlepaddle)


def bundled_source_dir() -> Path:
    """Where the ``rapidocr`` wheel keeps its ONNX models."""
    try:
        import rapidocr
    except ImportError as exc:
        raise OcrUnavailable(
            "the paddleocr engine builds its default models from the rapidocr wheel's ONNX "
            "files, but 'rapidocr' is not installed: pip install rapidocr (or set "
            "LOYALCHAT_PADDLE_DET_MODEL_DIR and LOYALCHAT_PADDLE_REC_MODEL_DIR)"
        ) from exc
    return Path(rapidocr.__file__).parent / "models"


def build_bundled_folders(root: Path) -> tuple[ModelFolder, ModelFolder]:
    """``root/PP-OCRv6_small_det`` and ``root/PP-OCRv6_small_rec``, built if missing or stale.

    Each holds ``inference.onnx`` (a hard link to, or copy of, the wheel's file) and an
    ``inference.yml`` PaddleX reads; files already up to date are left alone, and both are
    replaced atomically, so processes building at once do not see half-written files.
    """
    source_dir = bundled_source_dir()
    sources = {name: source_dir / filename for name, filename in BUNDLED_FILES.items()}
    missing = [str(path) for path in sources.values() if not path.is_file()]
    if missing:
        raise OcrUnavailable(
            "PP-OCRv6 small ONNX files are missing from the rapidocr wheel (loyalchat never "
            f"downloads models): {', '.join(missing)}. Reinstall a rapidocr wheel that "
            "bundles them, or set LOYALCHAT_PADDLE_DET_MODEL_DIR and "
            "LOYALCHAT_PADDLE_REC_MODEL_DIR to PaddleOCR model folders."
        )
    det_source, rec_source = sources[DET_MODEL_NAME], sources[REC_MODEL_NAME]
    try:
        det = _build_folder(root / DET_MODEL_NAME, det_source, lambda: det_config(DET_MODEL_NAME))
        rec = _build_folder(
            root / REC_MODEL_NAME,
            rec_source,
            lambda: rec_config(REC_MODEL_NAME, rec_characters(rec_source)),
        )
    except OSError as exc:
        raise OcrUnavailable(
            f"cannot write the paddleocr model folders under {root} ({exc}); "
            "set LOYALCHAT_PADDLE_MODEL_DIR to a writable folder"
        ) from exc
    return (
        ModelFolder(DET_MODEL_NAME, det, ("onnx",)),
        ModelFolder(REC_MODEL_NAME, rec, ("onnx",)),
    )


def det_config(name: str) -> dict[str, Any]:
    return {"Global": {"model_name": name}, **_DET_CONFIG}


def rec_config(name: str, characters: list[str]) -> dict[str, Any]:
    return {
        "Global": {"model_name": name},
        "PreProcess": _REC_PREPROCESS,
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": characters},
    }


def rec_characters(onnx_file: Path) -> list[str]:
    """The recogniser's character list, one per CTC class, from the ONNX metadata."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Only the metadata is wanted: skip graph optimisation.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        str(onnx_file), sess_options=options, providers=["CPUExecutionProvider"]
    )
    characters = session.get_modelmeta().custom_metadata_map.get("character", "")
    if not characters:
        raise OcrUnavailable(
            f"{onnx_file} carries no 'character' list in its ONNX metadata; the paddleocr "
            "engine cannot decode its output"
        )
    return characters.split("\n")


def configured_folder(path: Path, setting: str, name: str | None, name_setting: str) -> ModelFolder:
    """A model folder named by a setting, checked; the name defaults to its inference.yml's."""
    if not path.is_dir():
        raise OcrUnavailable(f"paddleocr model folder {path} ({setting}) does not exist")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise OcrUnavailable(
            f"paddleocr model folder {path} ({setting}) has no {CONFIG_FILE}; "
            "use a PaddleOCR inference model folder"
        )
    formats = model_formats(path)
    if not formats:
        raise OcrUnavailable(
            f"paddleocr model folder {path} ({setting}) has neither {ONNX_FILE} nor "
            "inference.json + inference.pdiparams"
        )
    declared = _declared_name(config_path)
    if name and declared and name != declared:
        raise OcrUnavailable(
            f"{name_setting}={name} but {config_path} declares model_name {declared}"
        )
    if not (name or declared):
        raise OcrUnavailable(
            f"{config_path} declares no Global.model_name: set {name_setting} "
            "(e.g. PP-OCRv5_server_det)"
        )
    return ModelFolder(name or declared or "", path, formats)


def model_formats(path: Path) -> tuple[str, ...]:
    """Which model files ``path`` holds: ``onnx``, ``paddle``, both or neither."""
    found = []
    if (path / ONNX_FILE).is_file():
        found.append("onnx")
    if all(any((path / name).is_file() for name in choice) for choice in PADDLE_FILES):
        found.append("paddle")
    return tuple(found)


def _declared_name(config_path: Path) -> str | None:
    import yaml

    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise OcrUnavailable(f"cannot read {config_path}: {exc}") from exc
    name = (config.get("Global") or {}).get("model_name") if isinstance(config, dict) else None
    return str(name) if name else None


def _build_folder(folder: Path, source: Path, make_config: Any) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ONNX_FILE
    if not _same_file(source, target):
        _place(source, target)
    config_path = folder / CONFIG_FILE
    text = yaml.safe_dump(make_config(), allow_unicode=True, sort_keys=False)
    if not config_path.is_file() or config_path.read_text(encoding="utf-8") != text:
        _write_atomic(config_path, text)
    return folder


def _same_file(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    if os.path.samefile(source, target):
        return True
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _place(source: Path, target: Path) -> None:
    """Hard-link ``source`` to ``target`` (a copy across file systems), replacing atomically."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
    except OSError:
        shutil.copy2(source, temp)  # keeps the mtime, which _same_file compares
    os.replace(temp, target)


def _write_atomic(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temp, 0o644)  # mkstemp makes it private; other users' processes read it
    os.replace(temp, path)
