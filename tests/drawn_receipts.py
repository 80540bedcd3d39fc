"""Receipts drawn with Pillow and Noto Sans CJK (Debian ``fonts-noto-cjk``) for the OCR tests,
and the few real receipts they read from ``<repo>/../shared/receipts``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from loyalchat.receipts.reading import OcrResult

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SHARED_RECEIPTS = Path(__file__).resolve().parents[1].parent / "shared" / "receipts"

RECEIPT_LINES = (
    "美味茶餐廳",
    "TASTY CAFE LIMITED",
    "日期 2026-11-22 12:30",
    "奶茶 x2      HK$ 36.00",
    "合计 ¥36.00",
    "TOTAL 42.50",
    "總計 HK$ 128.50",
    "多謝惠顧 Thank you",
)
KEY_STRINGS = ("總計HK$128.50", "合计¥36.00", "TOTAL42.50", "美味茶餐廳")


def font(size: int) -> ImageFont.FreeTypeFont:
    if not FONT.is_file():
        pytest.fail(f"{FONT} is missing: install Debian's fonts-noto-cjk")
    return ImageFont.truetype(str(FONT), size)


def draw_receipt(lines: tuple[str, ...] = RECEIPT_LINES, width: int = 560) -> Image.Image:
    face = font(30)
    image = Image.new("RGB", (width, 60 + 52 * len(lines)), (250, 250, 246))
    pen = ImageDraw.Draw(image)
    for i, text in enumerate(lines):
        pen.text((30, 30 + 52 * i), text, fill=(20, 20, 20), font=face)
    return image


def as_bytes(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def squashed(result: OcrResult) -> list[str]:
    return ["".join(line.text.split()) for line in result.lines]


def assert_reads_keys(result: OcrResult, keys: tuple[str, ...] = KEY_STRINGS) -> None:
    texts = squashed(result)
    missing = [key for key in keys if not any(key in text for text in texts)]
    assert not missing, f"{missing} not read; got {texts}"
