"""OCR engines: image bytes in, lines of text with boxes and confidences out.

An engine does no web or database work; the host picks the tenant's engine (default
``rapidocr``) and hands the lines to a receipt parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pluggy

from loyalchat.extensions.base import Registry, collect

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class OcrLine:
    text: str
    box: tuple[Point, Point, Point, Point]  # pixel corners, clockwise from top-left
    confidence: float  # 0.0 - 1.0


@runtime_checkable
class OcrEngine(Protocol):
    name: str  # "rapidocr", "paddleocr", "tesseract"...
    label: str

    async def read(self, image: bytes) -> list[OcrLine]:
        """Lines of text in reading order (top to bottom, left to right).

        ``image`` is an already validated and normalised PNG or JPEG. CPU-heavy engines
        run their work in a thread so the event loop stays free.
        """
        ...


def get_ocr_engines(pm: pluggy.PluginManager) -> Registry[OcrEngine]:
    """Every registered OCR engine, by ``name``."""
    return collect(pm, "register_ocr_engines", OcrEngine, what="OCR engine")
