"""Business registration documents: checked by content, previewed, read by the OCR engine.

An upload is a PDF, JPEG or PNG of at most :data:`MAX_BYTES`, told apart by its first
bytes (the file name and the browser's Content-Type are never trusted). A PDF must open,
have 1 to :data:`MAX_PAGES` pages, not be encrypted, and carry nothing that runs or
hides: no JavaScript, no open or page actions, no launch actions, no embedded files, no
XFA forms (pypdf walks every object; pdfium counts scripts and attachments as a second
opinion). Its first page is rendered to PNG with pdfium: the preview the merchant and the
reviewer see, and what the OCR engine reads. An image goes through the receipt reader's
checks (``receipts.reading.image.prepare``: the pixel count from the header before any
decoding, so a decompression bomb is refused). Nothing here touches the database or
the media store: :func:`check_upload` is bytes in, a :class:`CheckedDocument` out.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pypdfium2 as pdfium
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from loyalchat.domain import DomainError
from loyalchat.i18n import N_
from loyalchat.receipts.reading.image import (
    MAX_PIXELS,
    ImageRejected,
    encode_jpeg,
    encode_png,
    prepare,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_PAGES = 20  # a registration certificate is one or two pages
MAX_OBJECTS = 20_000  # a PDF with more is not a scanned certificate; walking it costs
PREVIEW_SIDE = 1600  # long side of the first page's PNG, in pixels
PREVIEW_MAX_SCALE = 4.0  # at most 288 dpi, whatever the page size says

# Keys that make a PDF act, or carry other files (PDF 1.7, 12.6 and 7.11).
FORBIDDEN_KEYS = {
    "/JS": "javascript",
    "/JavaScript": "javascript",
    "/AA": "open_action",
    "/Launch": "launch",
    "/EmbeddedFiles": "embedded_file",
    "/EmbeddedFile": "embedded_file",
    "/XFA": "javascript",
    "/RichMedia": "embedded_file",
}
FORBIDDEN_ACTIONS = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/ImportData": "launch",
    "/SubmitForm": "launch",
    "/GoToE": "embedded_file",
}

MESSAGES = {
    "empty": N_("The file is empty."),
    "too_large": N_("The file is too large: at most 10 MB."),
    "unsupported": N_("Upload a PDF, JPEG or PNG file. Other kinds of file are not accepted."),
    "broken_pdf": N_("This PDF cannot be opened. Save it again or upload a photo instead."),
    "encrypted": N_("This PDF is password-protected. Upload a copy without a password."),
    "no_pages": N_("This PDF has no pages."),
    "too_many_pages": N_("This PDF has too many pages: at most 20."),
    "javascript": N_("This PDF contains scripts. Upload a plain scan or photo instead."),
    "open_action": N_(
        "This PDF runs actions when it is opened. Upload a plain scan or photo instead."
    ),
    "launch": N_("This PDF tries to open other programs. Upload a plain scan or photo instead."),
    "embedded_file": N_("This PDF carries other files inside it. Upload the certificate alone."),
    "not_an_image": N_("This file is not a readable picture. Upload a PDF, JPEG or PNG file."),
    "too_many_pixels": N_("The picture has too many pixels. Upload a smaller one."),
    "truncated": N_("The file is damaged or incomplete. Upload it again."),
}


class DocumentRejected(DomainError):
    """An upload that cannot be a registration document; ``reason`` is a key of MESSAGES."""

    code = "document_rejected"
    status = 400

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(MESSAGES[reason], reason=reason, detail=detail)
        self.reason = reason


@dataclass(frozen=True)
class CheckedDocument:
    """An accepted upload: its sniffed type, pages, and the first page as PNG."""

    content_type: str  # "application/pdf" | "image/jpeg" | "image/png"
    pages: int
    preview_png: bytes  # the first page (PDF) or the upright picture, for people and OCR
    size: int


def sniff(data: bytes) -> str | None:
    """The content type from the first bytes: PDF, JPEG or PNG; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def check_upload(data: bytes) -> CheckedDocument:
    """Check an upload and render its preview; :class:`DocumentRejected` says why not.

    CPU-bound (PDF parsing, rendering, image decoding): call it in a thread.
    """
    if not data:
        raise DocumentRejected("empty")
    if len(data) > MAX_BYTES:
        raise DocumentRejected("too_large", f"{len(data)} bytes")
    kind = sniff(data)
    if kind is None:
        raise DocumentRejected("unsupported")
    if kind == "application/pdf":
        pages = _check_pdf(data)
        return CheckedDocument(kind, pages, _render_first_page(data), len(data))
    try:
        prepared = prepare(
            data,
            max_bytes=MAX_BYTES,
            max_pixels=MAX_PIXELS,
            max_side=PREVIEW_SIDE,
            max_short_side=PREVIEW_SIDE,
            max_output_pixels=PREVIEW_SIDE * PREVIEW_SIDE,
        )
    except ImageRejected as exc:
        reason = exc.reason if exc.reason in MESSAGES else "not_an_image"
        if exc.reason == "unsupported_format":
            reason = "unsupported"
        raise DocumentRejected(reason, str(exc)) from exc
    if prepared.format not in ("JPEG", "PNG"):
        raise DocumentRejected("unsupported", prepared.format)
    return CheckedDocument(kind, 1, encode_png(prepared.array), len(data))


def preview_jpeg(png: bytes) -> bytes:
    """A smaller JPEG of a preview (for pages that show many at once)."""
    return encode_jpeg(prepare(png, max_side=800, max_short_side=800).array)


def _check_pdf(data: bytes) -> int:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentRejected("encrypted")
        pages = len(reader.pages)
        _walk(reader)
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentRejected("broken_pdf", str(exc)[:200]) from exc
    except Exception as exc:  # pypdf raises many kinds on hostile files; none is a 500
        raise DocumentRejected("broken_pdf", type(exc).__name__) from exc
    if pages < 1:
        raise DocumentRejected("no_pages")
    if pages > MAX_PAGES:
        raise DocumentRejected("too_many_pages", str(pages))
    _second_opinion(data)
    return pages


def _walk(reader: PdfReader) -> None:
    """Every object reachable from the trailer, each once: refuse any that acts or hides
    files. Compressed object streams are read by pypdf, so nothing hides in them."""
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise DocumentRejected("broken_pdf", "too many objects")
        if isinstance(item, DictionaryObject):
            for key in item:
                if key in FORBIDDEN_KEYS:
                    raise DocumentRejected(FORBIDDEN_KEYS[key], key)
            _check_open_action(item.get("/OpenAction"))
            action = item.get("/S")
            if isinstance(action, NameObject) and action in FORBIDDEN_ACTIONS:
                raise DocumentRejected(FORBIDDEN_ACTIONS[action], action)
            # /Parent points back up the page tree: already walked from the root.
            stack.extend(v for k, v in item.items() if k != "/Parent")
        elif isinstance(item, ArrayObject):
            stack.extend(item)


def _check_open_action(value: object) -> None:
    """An /OpenAction that is a destination (an array: "show page 1") is harmless; an
    action dictionary other than /GoTo runs something when the file is opened."""
    if isinstance(value, IndirectObject):
        value = value.get_object()
    if value is None or isinstance(value, ArrayObject):
        return
    if not isinstance(value, DictionaryObject) or value.get("/S") != "/GoTo":
        raise DocumentRejected("open_action", "/OpenAction")


def _second_opinion(data: bytes) -> None:
    """pdfium's own count of document scripts and attachments (it parses differently)."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentRejected("broken_pdf", str(exc)) from exc
    try:
        if pdfium.raw.FPDFDoc_GetJavaScriptActionCount(document.raw) > 0:
            raise DocumentRejected("javascript", "pdfium")
        if document.count_attachments() > 0:
            raise DocumentRejected("embedded_file", "pdfium")
    finally:
        document.close()


def _render_first_page(data: bytes) -> bytes:
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        width, height = page.get_size()  # points
        longest = max(width, height, 1.0)
        scale = min(PREVIEW_MAX_SCALE, PREVIEW_SIDE / longest)
        bitmap = page.render(scale=scale)
        image = bitmap.to_pil().convert("RGB")
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    except pdfium.PdfiumError as exc:
        raise DocumentRejected("broken_pdf", str(exc)) from exc
    finally:
        document.close()


SAFE_FILENAME = re.compile(r"[^\w.\- ()\u3400-\u9fff]+")


def clean_filename(name: str | None) -> str:
    """The uploaded file's name as shown back (no path, no control characters, short)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return SAFE_FILENAME.sub("_", base).strip()[:120] or "document"
