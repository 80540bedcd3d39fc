"""Draw a receipt as a flat thermal print: narrow paper, aligned columns, faded ink.

Rows are drawn one strip at a time into an ink mask (0 = paper, 255 = full ink), so a
double-height total is just a stretched strip; a handwritten total goes on a colour
overlay. The result is the paper alone, as a scanner would see it; ``augment`` turns
it into a phone photo.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from loyalchat.tools.receipt_synth import holdout_rows
from loyalchat.tools.receipt_synth.fonts import FAMILIES, get_font
from loyalchat.tools.receipt_synth.handwriting import hand_text
from loyalchat.tools.receipt_synth.holdout import HoldoutSpec
from loyalchat.tools.receipt_synth.rows import Row, build_rows, choose_template
from loyalchat.tools.receipt_synth.spec import ReceiptSpec

try:  # optional: receipts simply print no QR code without it
    import qrcode
except ImportError:  # pragma: no cover - depends on the environment
    qrcode = None

PAPER_WIDTHS = (384, 432, 512, 576)  # 58 mm and 80 mm rolls at 203 dpi, and between


class _Style:
    """The per-receipt drawing choices: widths, fonts, spacing."""

    def __init__(self, spec: ReceiptSpec, rng: random.Random) -> None:
        self.width = rng.choice(PAPER_WIDTHS)
        self.margin = rng.randint(14, 30)
        self.family = rng.choices(FAMILIES, weights=(5, 3, 2))[0]
        self.lang = "zh-HK" if spec.style == "hk" and rng.random() < 0.4 else spec.lang
        self.size = rng.randint(19, 23) if self.width < 450 else rng.randint(21, 26)
        self.spacing = rng.uniform(1.2, 1.45)
        self.bold = rng.random() < 0.25
        self.hand_ink = rng.choice(((25, 45, 150), (20, 25, 70), (30, 30, 30), (150, 30, 30)))

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    def font(self, row: Row, bold: bool | None = None) -> ImageFont.FreeTypeFont:
        strong = self.bold if bold is None else bold
        strong = strong or row.emphasis in ("bold", "large", "tall")
        return get_font(self.family, strong, self.lang, round(self.size * row.scale))

    def line_height(self, row: Row) -> int:
        return round(self.size * row.scale * self.spacing)


def render_receipt(spec: ReceiptSpec, rng: random.Random) -> Image.Image:
    """The receipt printed on flat paper, as an RGB image (width 384-576 px)."""
    if isinstance(spec, HoldoutSpec):  # the held-out vocabulary prints its own templates
        rows = holdout_rows.build_rows(spec, rng)
        style = _Style(spec, rng)
        rows = _fit_rows(rows, style)
    else:
        tpl = choose_template(spec, rng)
        style = _Style(spec, rng)
        rows = _fit_rows(build_rows(spec, tpl, rng), style)
    strips = [_draw_row(row, style, rng) for row in rows]
    height = sum(s[0].height for s in strips) + style.margin
    mask = Image.new("L", (style.width, height), 0)
    overlay = Image.new("RGBA", (style.width, height), (0, 0, 0, 0))
    y = style.margin // 2
    for ink, hand in strips:
        mask.paste(ink, (0, y))
        if hand is not None:
            overlay.alpha_composite(hand, (0, y))
        y += ink.height
    paper = _print(mask, rng)
    paper.paste(overlay, (0, 0), overlay)
    return paper


def _fit_rows(rows: list[Row], style: _Style) -> list[Row]:
    """Shrink or wrap text that does not fit the paper, as POS software does."""
    fitted: list[Row] = []
    for row in rows:
        if row.kind != "text":
            fitted.append(row)
            continue
        font = style.font(row)
        if row.center:
            while font.getlength(row.center) > style.inner and row.scale > 0.7:
                row.scale = round(row.scale - 0.05, 2)
                font = style.font(row)
            fitted += [
                Row(center=part, scale=row.scale, emphasis=row.emphasis)
                for part in _wrap(row.center, font, style.inner)
            ]
            continue
        right = font.getlength(row.right) if row.right else 0
        mid_room = font.getlength(row.mid) + style.size * 1.5 if row.mid else 0
        left_room = style.inner - right - mid_room - style.size
        if row.mid:
            left_room = min(left_room, style.inner * 0.62 - mid_room)
        if font.getlength(row.left) <= left_room or not (row.right or row.mid):
            if font.getlength(row.left) > style.inner:
                fitted += [Row(left=p, scale=row.scale) for p in _wrap(row.left, font, style.inner)]
            else:
                fitted.append(row)
            continue
        if row.emphasis in ("large", "tall", "hand"):  # a long total label: drop the scale
            row.scale = 1.0
        lines = _wrap(row.left, font, style.inner)
        fitted += [Row(left=p, scale=row.scale) for p in lines]
        fitted.append(
            Row(left="", mid=row.mid, right=row.right, scale=row.scale, emphasis=row.emphasis)
        )
    return fitted


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, current = [], ""
    for token in _tokens(text):
        if current and font.getlength(current + token) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    return [*lines, current] if current else lines


def _tokens(text: str) -> list[str]:
    """Words for Latin text, single characters for CJK (which wraps anywhere)."""
    tokens, word = [], ""
    for ch in text:
        if ord(ch) > 0x2E80:
            tokens += [word, ch] if word else [ch]
            word = ""
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    return [t for t in [*tokens, word] if t]


def _draw_row(
    row: Row, style: _Style, rng: random.Random
) -> tuple[Image.Image, Image.Image | None]:
    height = style.line_height(row)
    if row.kind == "gap":
        return Image.new("L", (style.width, height // 2), 0), None
    if row.kind == "qr":
        return _qr_strip(row.payload, style), None
    if row.emphasis == "hand":
        height = round(height * 1.6)  # handwriting is larger than print
    strip = Image.new("L", (style.width, height), 0)
    draw = ImageDraw.Draw(strip)
    font = style.font(row)
    baseline = round(height * 0.78)
    left, right = style.margin, style.width - style.margin
    if row.kind == "sep":
        _separator(draw, row.sep_char, font, left, right, height)
        return strip, None
    if row.center:
        draw.text((style.width // 2, baseline), row.center, font=font, fill=255, anchor="ms")
    if row.left:
        draw.text((left, baseline), row.left, font=font, fill=255, anchor="ls")
    if row.mid:
        mid_x = min(left + style.inner * 0.72, right - font.getlength(row.right) - style.size)
        draw.text((mid_x, baseline), row.mid, font=font, fill=255, anchor="rs")
    hand = None
    if row.right and row.emphasis == "hand":
        hand = Image.new("RGBA", (style.width, height), (0, 0, 0, 0))
        written = hand_text(row.right, round(style.size * 1.35), style.hand_ink, rng)
        x = max(right - written.width, left + style.inner // 3)
        hand.alpha_composite(
            written, (x, max(0, min(height - written.height, baseline - written.height * 3 // 4)))
        )
    elif row.right:
        draw.text((right, baseline), row.right, font=font, fill=255, anchor="rs")
    if row.emphasis == "tall":  # ESC/POS double height
        strip = strip.resize((style.width, height * 2), Image.Resampling.BILINEAR)
    return strip, hand


def _separator(
    draw: ImageDraw.ImageDraw, char: str, font: ImageFont.FreeTypeFont, x0: int, x1: int, h: int
) -> None:
    y = h // 2
    if char == "line":
        for x in range(x0, x1, 10):
            draw.line((x, y, min(x + 6, x1), y), fill=255, width=2)
        return
    count = int((x1 - x0) / max(font.getlength(char), 1))
    draw.text((x0, y), char * count, font=font, fill=255, anchor="lm")


def _qr_strip(payload: str, style: _Style) -> Image.Image:
    if qrcode is None:
        return Image.new("L", (style.width, 1), 0)
    code = qrcode.QRCode(border=0, box_size=1)
    code.add_data(payload)
    code.make(fit=True)
    matrix = np.array(code.get_matrix(), dtype=np.uint8) * 255
    box = max(3, int(style.inner * 0.42) // matrix.shape[0])
    qr = Image.fromarray(matrix, "L").resize(
        (matrix.shape[1] * box, matrix.shape[0] * box), Image.Resampling.NEAREST
    )
    strip = Image.new("L", (style.width, qr.height + style.size), 0)
    strip.paste(qr, ((style.width - qr.width) // 2, style.size // 2))
    return strip


def _print(mask: Image.Image, rng: random.Random) -> Image.Image:
    """Ink the mask onto paper: uneven thermal density, the odd faded column band."""
    nprng = np.random.default_rng(rng.getrandbits(64))
    ink = np.asarray(mask, dtype=np.float32) / 255.0
    h, w = ink.shape
    density = rng.uniform(0.75, 1.0)
    columns = np.ones(w, dtype=np.float32)
    if rng.random() < 0.35:  # a worn print-head element leaves a light vertical band
        for _ in range(rng.randint(1, 3)):
            x = rng.randrange(w)
            columns[x : x + rng.randint(2, 12)] *= rng.uniform(0.35, 0.7)
    rows = 1.0 - 0.15 * np.abs(np.sin(np.linspace(0, rng.uniform(1, 6), h)))[:, None]
    speckle = nprng.uniform(0.85, 1.0, size=ink.shape).astype(np.float32)
    alpha = np.clip(ink * density * columns[None, :] * rows * speckle, 0, 1)[..., None]
    paper = np.array(
        rng.choice(((252, 252, 248), (246, 245, 238), (255, 255, 255), (243, 242, 236))),
        dtype=np.float32,
    )
    tone = rng.randint(15, 55)
    colour = np.array((tone, tone, tone + rng.randint(0, 15)), dtype=np.float32)
    out = paper * (1 - alpha) + colour * alpha
    return Image.fromarray(out.astype(np.uint8), "RGB")
