"""A pen-written amount: uneven, slanted glyphs in ballpoint ink.

No handwriting font ships with Noto CJK, so each character is drawn on its own with a
random size, tilt and baseline, then the whole word is sheared and the strokes thickened.
"""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from loyalchat.tools.receipt_synth.fonts import get_font


def hand_text(text: str, size: int, ink: tuple[int, int, int], rng: random.Random) -> Image.Image:
    """``text`` as handwriting on a transparent RGBA image cropped to the writing."""
    family = rng.choice(("sans", "serif"))
    pad = size
    width = int(size * 0.75 * len(text)) + 2 * pad
    height = size * 2 + 2 * pad // 2
    mask = Image.new("L", (width, height), 0)
    x = pad
    for ch in text:
        glyph_size = max(8, round(size * rng.uniform(0.85, 1.15)))
        font = get_font(family, False, "zh-Hant", glyph_size)
        advance = font.getlength(ch)
        tile = Image.new("L", (glyph_size * 2, glyph_size * 2), 0)
        ImageDraw.Draw(tile).text((glyph_size, glyph_size), ch, font=font, fill=255, anchor="mm")
        squash = (glyph_size * 2, round(glyph_size * 2 * rng.uniform(0.85, 1.15)))
        tile = tile.resize(squash, Image.Resampling.BILINEAR)
        tile = tile.rotate(rng.uniform(-14, 14), resample=Image.Resampling.BILINEAR)
        y = height // 2 - glyph_size + round(rng.uniform(-0.15, 0.15) * size)
        mask = ImageChops.lighter(
            mask, _placed(tile, (width, height), (round(x + advance / 2) - glyph_size, y))
        )
        x += advance * rng.uniform(0.85, 1.1)
    slant = rng.uniform(0.15, 0.35)
    mask = mask.transform(
        mask.size,
        Image.Transform.AFFINE,
        (1, slant, -slant * height / 2, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
    )
    if rng.random() < 0.5:  # a broader pen
        mask = mask.filter(ImageFilter.MaxFilter(3))
    if rng.random() < 0.5:  # underlined with one quick stroke
        box = mask.getbbox() or (0, 0, width, height)
        y = box[3] + size // 6
        points = [
            (box[0] + i * (box[2] - box[0]) / 6, y + rng.uniform(-2, 2) - i * rng.uniform(0, 1.5))
            for i in range(7)
        ]
        ImageDraw.Draw(mask).line(points, fill=255, width=max(2, size // 14), joint="curve")
    mask = mask.filter(ImageFilter.GaussianBlur(0.6))
    box = mask.getbbox() or (0, 0, 1, 1)
    mask = mask.crop(box)
    out = Image.new("RGBA", mask.size, (*ink, 0))
    out.putalpha(mask.point(lambda v: min(255, int(v * 1.1))))
    return out


def _placed(tile: Image.Image, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    canvas = Image.new("L", size, 0)
    canvas.paste(tile, at)
    return canvas
