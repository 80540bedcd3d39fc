"""Real documents for the onboarding tests: PDFs made with fpdf2 (and made hostile with
pypdf), a registration certificate drawn with Noto Sans CJK, hostile images."""

from __future__ import annotations

import io
import struct
import zlib

from fpdf import FPDF
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from tests.drawn_receipts import FONT, as_bytes, font

CERTIFICATE_LINES = (
    "BUSINESS REGISTRATION CERTIFICATE",
    "商業登記證",
    "Name of Business: ALPHA TEA LIMITED",
    "業務名稱: 阿爾法茶室有限公司",
    "Certificate No. 12345678-000-07-25-A",
    "Address: 1 QUEEN'S ROAD CENTRAL",
)


def certificate_image(lines: tuple[str, ...] = CERTIFICATE_LINES) -> Image.Image:
    face = font(30)
    image = Image.new("RGB", (900, 80 + 60 * len(lines)), (252, 252, 250))
    pen = ImageDraw.Draw(image)
    for i, text in enumerate(lines):
        pen.text((40, 40 + 60 * i), text, fill=(15, 15, 15), font=face)
    return image


def certificate_png(lines: tuple[str, ...] = CERTIFICATE_LINES) -> bytes:
    return as_bytes(certificate_image(lines))


def certificate_pdf(lines: tuple[str, ...] = CERTIFICATE_LINES, pages: int = 1) -> bytes:
    """A PDF with the certificate's text in a real font (pdfium renders it)."""
    pdf = FPDF()
    pdf.add_font("noto", fname=str(FONT))
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("noto", size=16)
        for text in lines:
            pdf.cell(0, 12, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def plain_pdf(pages: int = 1) -> bytes:
    pdf = FPDF()
    for n in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=14)
        pdf.cell(0, 10, f"page {n + 1}")
    return bytes(pdf.output())


def _rewrite(data: bytes, change) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """A document-level script in the /Names /JavaScript tree (what add_js used to write)."""

    def change(writer: PdfWriter) -> None:
        script = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hello');"),
            }
        )
        tree = DictionaryObject(
            {
                NameObject("/Names"): ArrayObject(
                    [TextStringObject("js"), writer._add_object(script)]
                )
            }
        )
        names = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
        writer._root_object[NameObject("/Names")] = writer._add_object(names)

    return _rewrite(plain_pdf(), change)


def pdf_with_open_action_launch() -> bytes:
    def change(writer: PdfWriter) -> None:
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/Launch"),
                NameObject("/F"): TextStringObject("calc.exe"),
            }
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    return _rewrite(plain_pdf(), change)


def pdf_with_attachment() -> bytes:
    return _rewrite(plain_pdf(), lambda w: w.add_attachment("payload.exe", b"MZ\x90\x00" * 10))


def pdf_encrypted() -> bytes:
    return _rewrite(plain_pdf(), lambda w: w.encrypt("secret"))


def renamed_executable() -> bytes:
    """The first bytes of a Windows program: what a ".pdf" that is not a PDF carries."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200 + b"This program cannot be run"


def png_bomb(side: int = 30_000) -> bytes:
    """A tiny PNG whose header claims side x side pixels (a decompression bomb)."""
    raw_row = b"\x00" + b"\x00" * side
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(raw_row) for _ in range(200)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def jpeg_photo() -> bytes:
    return as_bytes(certificate_image(), "JPEG", quality=90)
