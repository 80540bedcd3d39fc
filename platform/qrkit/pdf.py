"""The PDF print files: the counter display (A5, A6) and the A4 sticker sheet.

One page per channel. The QR is drawn as vector rectangles (sharp at any print size) with
a four-module quiet zone; the text is set in an embedded CJK font subset (:mod:`.fonts`).
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

from fpdf import FPDF

from loyalchat.qrkit.content import AFTER, STICKER, TITLE, KitContent, KitQr, qr_matrix
from loyalchat.qrkit.fonts import cjk_font

# fontTools logs every glyph of a subset at INFO: noise in the logs, time in the request.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Portrait page sizes in mm.
SIZES = {"a4": (210.0, 297.0), "a5": (148.0, 210.0), "a6": (105.0, 148.0)}
QUIET = 4  # modules of white around a QR code, as the standard asks
# A fixed date: the same kit gives the same bytes (an ETag, a cache, a diff of two runs).
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# A4 sticker labels, 3 x 7 of 63.5 x 38.1 mm (the common 21-per-sheet label stock).
STICKER_W, STICKER_H, STICKER_COLS, STICKER_ROWS = 63.5, 38.1, 3, 7
STICKER_LEFT, STICKER_TOP, STICKER_GAP = 7.2, 15.1, 2.5


def _document(content: KitContent, size: str) -> FPDF:
    pdf = FPDF(unit="mm", format=SIZES[size])
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creation_date(EPOCH)
    pdf.set_title(content.shop_name())
    pdf.set_creator("loyalchat")
    locale = content.locales[0]
    regular, bold = cjk_font(locale), cjk_font(locale, bold=True)
    pdf.add_font("cjk", "", regular.path, collection_font_number=regular.index)
    pdf.add_font("cjk", "B", bold.path, collection_font_number=bold.index)
    return pdf


def _qr(pdf: FPDF, link: str, x: float, y: float, size: float) -> None:
    """The QR code with its quiet zone in the square (x, y, size): runs of dark modules
    as one rectangle each."""
    matrix = qr_matrix(link)
    count = len(matrix) + 2 * QUIET
    module = size / count
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(
                x + (QUIET + start) * module,
                y + (QUIET + r) * module,
                (c - start) * module + 0.01,  # a hair's overlap: no white seams between runs
                module + 0.01,
                style="F",
            )


def _lines(pdf: FPDF, text: str, size: float, *, bold: bool = False, gap: float = 1.0) -> None:
    """Centred text across the page between its side margins, wrapped."""
    pdf.set_font("cjk", "B" if bold else "", size)
    pdf.multi_cell(0, size * 0.45, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(pdf.get_y() + gap)


def _counter_page(pdf: FPDF, content: KitContent, qr: KitQr, width: float, scale: float) -> None:
    """One counter display page's content from the current y down."""
    if content.logo:
        pdf.image(io.BytesIO(content.logo), x=(width - 24 * scale) / 2, h=16 * scale)
        pdf.set_y(pdf.get_y() + 2 * scale)
    _lines(pdf, content.shop_name(), 20 * scale, bold=True, gap=1.5 * scale)
    zh, en = content.say(TITLE)
    _lines(pdf, zh, 14 * scale, bold=True, gap=0)
    _lines(pdf, en, 11 * scale, gap=2 * scale)
    side = width * 0.62
    top = pdf.get_y()
    _qr(pdf, qr.link, (width - side) / 2, top, side)
    pdf.set_y(top + side + 1.5 * scale)
    _lines(pdf, content.label(qr), 9 * scale, bold=True, gap=0.5 * scale)
    if branch := content.branch_name():
        _lines(pdf, branch, 9 * scale, gap=0.5 * scale)
    for text in (*content.step(qr.kind), *content.say(AFTER)):
        _lines(pdf, text, 7.5 * scale, gap=0.3 * scale)


def counter_display(content: KitContent, size: str) -> bytes:
    """The counter display (``size`` "a5" or "a6"): the shop's name, how to join in two
    languages, one channel's QR per page, centred on the page."""
    pdf = _document(content, size)
    width, height = SIZES[size]
    scale = width / SIZES["a6"][0]
    margin = 8 * scale
    pdf.set_margins(margin, margin, margin)
    for qr in content.qrs:
        pdf.add_page()
        with pdf.offset_rendering() as dummy:  # measured first, to centre it
            dummy.set_y(0)
            _counter_page(dummy, content, qr, width, scale)
            used = dummy.get_y()
        pdf.set_y(max(margin, (height - used) / 2))
        _counter_page(pdf, content, qr, width, scale)
    return bytes(pdf.output())


def _sticker(pdf: FPDF, content: KitContent, qr: KitQr, x: float, y: float) -> None:
    pad = 2.5
    side = STICKER_H - 2 * pad
    _qr(pdf, qr.link, x + pad, y + pad, side)
    left = x + pad + side + 1.5
    width = x + STICKER_W - pad - left
    pdf.set_xy(left, y + pad + 2)
    pdf.set_font("cjk", "B", 9)
    pdf.multi_cell(width, 4, content.shop_name(), align="L", new_x="LEFT", new_y="NEXT")
    zh, en = content.say(STICKER)
    pdf.set_font("cjk", "", 7)
    pdf.multi_cell(width, 3.2, zh, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_font("cjk", "", 6)
    pdf.multi_cell(width, 2.8, en, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_font("cjk", "", 5.5)
    below = content.branch_name() or content.label(qr)
    pdf.multi_cell(width, 2.6, below, align="L", new_x="LEFT", new_y="NEXT")


def sticker_sheet(content: KitContent) -> bytes:
    """An A4 sheet of 21 stickers (3 x 7 labels of 63.5 x 38.1 mm), one channel per page,
    for the shop's handwritten receipt books."""
    pdf = _document(content, "a4")
    for qr in content.qrs:
        pdf.add_page()
        for row in range(STICKER_ROWS):
            for col in range(STICKER_COLS):
                x = STICKER_LEFT + col * (STICKER_W + STICKER_GAP)
                y = STICKER_TOP + row * STICKER_H
                _sticker(pdf, content, qr, x, y)
    return bytes(pdf.output())
