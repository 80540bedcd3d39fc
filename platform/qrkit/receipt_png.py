"""The receipt-printer PNG: 1-bit, as wide as a thermal printer's line at 203 dpi (58 mm
paper: 384 dots, 80 mm: 576), the QR code and one line of text under it.

A POS prints it on every receipt; whole dots per module and no grey (a thermal head has
none), so the code scans off cheap paper.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from loyalchat.qrkit.content import RECEIPT_LINE, KitContent, KitQr, qr_matrix
from loyalchat.qrkit.fonts import cjk_font

WIDTHS = {58: 384, 80: 576}  # paper mm -> printable dots at 203 dpi
QUIET = 4
QR_SHARE = 0.75  # of the width: big enough to scan, room for the quiet zone
MIN_TEXT_PX, MAX_TEXT_PX = 16, 28


def _font(content: KitContent, size: int) -> ImageFont.FreeTypeFont:
    face = cjk_font(content.locales[0])
    return ImageFont.truetype(face.path, size, index=face.index)


def _line(content: KitContent, width: int) -> tuple[str, ImageFont.FreeTypeFont]:
    """The line under the code: both languages when they fit at a readable size, else the
    shop's own language alone (shrunk to fit)."""
    zh, en = content.say(RECEIPT_LINE)
    for text in (f"{zh} {en}" if zh != en else en, zh):
        for size in range(MAX_TEXT_PX, MIN_TEXT_PX - 1, -2):
            font = _font(content, size)
            if font.getlength(text) <= width:
                return text, font
    return zh, _font(content, MIN_TEXT_PX)


def receipt_png(content: KitContent, qr: KitQr, paper_mm: int) -> bytes:
    """The 1-bit PNG for ``paper_mm`` (58 or 80) paper."""
    width = WIDTHS[paper_mm]
    matrix = qr_matrix(qr.link)
    count = len(matrix) + 2 * QUIET
    module = max(1, int(width * QR_SHARE) // count)
    side = module * count
    margin = 8
    text, font = _line(content, width - 2 * margin)
    ascent, descent = font.getmetrics()
    height = side + ascent + descent + 2 * margin
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    left = (width - side) // 2
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x, y = left + (QUIET + c) * module, (QUIET + r) * module
                draw.rectangle((x, y, x + module - 1, y + module - 1), fill=0)
    # Text drawn in grey levels, then cut at half: crisp 1-bit letters, no dither speckle.
    line = Image.new("L", (width, ascent + descent), 255)
    ImageDraw.Draw(line).text(((width - font.getlength(text)) / 2, 0), text, font=font, fill=0)
    image.paste(line.point(lambda v: 255 if v > 127 else 0).convert("1"), (0, side + margin))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(203, 203))
    return out.getvalue()
