"""Hooks for OCR engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from loyalchat.hookimpl import hookspec

if TYPE_CHECKING:
    from loyalchat.extensions.ocr import OcrEngine


@hookspec
def register_ocr_engines(register: Callable[[OcrEngine], None]) -> None:
    """Called when the receipt reader picks an engine and when the console lists them.

    Call ``register(engine)`` once per engine. ``engine`` implements
    :class:`loyalchat.extensions.ocr.OcrEngine`: a unique ``name`` and an async
    ``read(image) -> list[OcrLine]``. Return nothing.
    """
