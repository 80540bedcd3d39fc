"""Noto CJK fonts from Debian's ``fonts-noto-cjk`` (they cover Latin too).

Each ``.ttc`` holds several faces; the index picks the regional variant, which matters
for how some characters look (Traditional vs Simplified forms).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from PIL import ImageFont

FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
)
FILES = {
    ("sans", False): "NotoSansCJK-Regular.ttc",
    ("sans", True): "NotoSansCJK-Bold.ttc",
    ("mono", False): "NotoSansCJK-Regular.ttc",
    ("mono", True): "NotoSansCJK-Bold.ttc",
    ("serif", False): "NotoSerifCJK-Regular.ttc",
    ("serif", True): "NotoSerifCJK-Bold.ttc",
}
# Face index inside the collection, per family and language (JP, KR, SC, TC, HK order).
INDEX = {
    ("sans", "zh-Hans"): 2,
    ("sans", "zh-Hant"): 3,
    ("sans", "zh-HK"): 4,
    ("mono", "zh-Hans"): 7,
    ("mono", "zh-Hant"): 8,
    ("mono", "zh-HK"): 9,
    ("serif", "zh-Hans"): 2,
    ("serif", "zh-Hant"): 3,
    ("serif", "zh-HK"): 4,
}
FAMILIES = ("mono", "sans", "serif")


class FontsMissing(RuntimeError):
    """The Noto CJK fonts are not installed (Debian: ``apt-get install fonts-noto-cjk``)."""


def font_dir() -> Path:
    """The folder holding the Noto CJK collections (``LOYALCHAT_SYNTH_FONT_DIR`` overrides)."""
    candidates = [os.environ.get("LOYALCHAT_SYNTH_FONT_DIR", ""), *FONT_DIRS]
    for folder in candidates:
        if folder and (Path(folder) / FILES[("sans", False)]).is_file():
            return Path(folder)
    raise FontsMissing(
        "Noto CJK fonts not found in " + ", ".join(FONT_DIRS) + "; install fonts-noto-cjk"
    )


@functools.lru_cache(maxsize=256)
def get_font(family: str, bold: bool, lang: str, size: int) -> ImageFont.FreeTypeFont:
    """A loaded face; English receipts use the Traditional Chinese faces for Latin text."""
    region = lang if lang in ("zh-Hans", "zh-Hant", "zh-HK") else "zh-Hant"
    path = font_dir() / FILES[(family, bold)]
    return ImageFont.truetype(str(path), size=max(size, 6), index=INDEX[(family, region)])
