"""OCR engines: image bytes in, lines of text with boxes and confidences out.

An engine does no web or database work; the host picks the tenant's engine (default
``rapidocr``) and hands the lines to a receipt parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

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


class PixelOcrEngine(OcrEngine, Protocol):
    """An engine that can also take the prepared pixels directly (optional).

    ``read_pixels`` gets the upright, bounded RGB array (H x W x 3, uint8) the image
    preparation made, so the reader skips a PNG encode and decode per pass: about 25 ms
    a photo, 3 % of a read, on a 2-core CPU. Engines without it get :meth:`read`'s PNG.
    """

    async def read_pixels(self, rgb: Any) -> list[OcrLine]: ...


class WarmOcrEngine(OcrEngine, Protocol):
    """An engine that can load its models before the first read (optional).

    A worker that reads receipts calls ``warm_up()`` on a thread of its own as it boots,
    for the default engine: the first photo after a start is then read at full speed.
    Blocking; exceptions are logged and the models load on first use instead.
    """

    def warm_up(self) -> None: ...


def get_ocr_engines(pm: pluggy.PluginManager) -> Registry[OcrEngine]:
    """Every registered OCR engine, by ``name``."""
    return collect(pm, "register_ocr_engines", OcrEngine, what="OCR engine")
