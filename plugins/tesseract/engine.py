"""The Tesseract engine object: words from ``image_to_data`` grouped into lines."""

from __future__ import annotations

import asyncio
import io
import os
import re
import threading
from typing import Any

from loyalchat.extensions.ocr import OcrLine
from loyalchat.receipts.reading.ocr import OcrUnavailable, box_from_rect, reading_order

DEFAULT_LANGS = "chi_tra+chi_sim+eng"
DEBIAN_PACKAGES = {
    "chi_tra": "tesseract-ocr-chi-tra",
    "chi_sim": "tesseract-ocr-chi-sim",
    "eng": "tesseract-ocr-eng",
}
# psm 4: "a single column of text of variable sizes", the shape of a receipt.
CONFIG = "--oem 1 --psm 4"

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# Tesseract splits CJK text into one "word" per character; rejoin without spaces.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")

_checked: dict[str, Any] = {}
_check_lock = threading.Lock()


class TesseractEngine:
    """Tesseract 5 (LSTM) with Traditional and Simplified Chinese and English."""

    name = "tesseract"
    label = "Tesseract (chi_tra+chi_sim+eng)"
    # Tesseract's word confidences run lower than PP-OCR's on the same upright text; below
    # this mean the orientation search runs (each extra pass costs seconds).
    good_confidence = 0.6

    def __init__(self, langs: str | None = None) -> None:
        self.langs = langs or os.environ.get("LOYALCHAT_OCR_TESSERACT_LANGS", "") or DEFAULT_LANGS

    async def read(self, image: bytes) -> list[OcrLine]:
        return await asyncio.to_thread(self.read_sync, image)

    def read_sync(self, image: bytes) -> list[OcrLine]:
        """The blocking read, for callers already on a worker thread."""
        from PIL import Image

        pytesseract = check_available(self.langs)
        with Image.open(io.BytesIO(image)) as decoded:
            data = pytesseract.image_to_data(
                decoded.convert("RGB"),
                lang=self.langs,
                config=CONFIG,
                output_type=pytesseract.Output.DICT,
            )
        return reading_order(group_lines(data))


def group_lines(data: dict[str, list[Any]]) -> list[OcrLine]:
    """Words of ``image_to_data`` grouped by (block, paragraph, line) into lines."""
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, text in enumerate(data["text"]):
        if not str(text).strip() or float(data["conf"][i]) < 0:
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        groups.setdefault(key, []).append(i)
    lines: list[OcrLine] = []
    for indexes in groups.values():
        words = [str(data["text"][i]).strip() for i in indexes]
        text = _CJK_GAP.sub("", " ".join(words))
        left = min(int(data["left"][i]) for i in indexes)
        top = min(int(data["top"][i]) for i in indexes)
        right = max(int(data["left"][i]) + int(data["width"][i]) for i in indexes)
        bottom = max(int(data["top"][i]) + int(data["height"][i]) for i in indexes)
        # Weighted by word length so one confident stray mark does not lift a line.
        weights = [max(1, len(word)) for word in words]
        conf = sum(w * float(data["conf"][i]) for w, i in zip(weights, indexes, strict=True)) / (
            100 * sum(weights)
        )
        lines.append(
            OcrLine(
                text=text,
                box=box_from_rect(left, top, right, bottom),
                confidence=max(0.0, min(1.0, conf)),
            )
        )
    return lines


def check_available(langs: str) -> Any:
    """``pytesseract``, once the binary and every language pack are known to be there."""
    with _check_lock:
        if langs in _checked:
            return _checked[langs]
        try:
            import pytesseract
        except ImportError as exc:
            raise OcrUnavailable(
                "the tesseract engine needs the 'pytesseract' package: "
                "pip install 'loyalchat[tesseract]'"
            ) from exc
        try:
            pytesseract.get_tesseract_version()
            installed = set(pytesseract.get_languages(config=""))
        except (pytesseract.TesseractNotFoundError, OSError) as exc:
            raise OcrUnavailable(
                "the tesseract engine needs the 'tesseract' program "
                "(Debian/Ubuntu: apt-get install tesseract-ocr)"
            ) from exc
        missing = [lang for lang in langs.split("+") if lang not in installed]
        if missing:
            packages = " ".join(
                DEBIAN_PACKAGES.get(lang, f"tesseract-ocr-{lang}") for lang in missing
            )
            raise OcrUnavailable(
                f"tesseract language data missing: {', '.join(missing)} "
                f"(Debian/Ubuntu: apt-get install {packages})"
            )
        _checked[langs] = pytesseract
        return pytesseract
