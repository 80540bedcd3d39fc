"""The receipt reading engine: image preparation and OCR with orientation search.

No web or database code lives here: bytes in, lines (and later fields) out.
"""

from loyalchat.receipts.reading.image import ImageRejected, PreparedImage, prepare
from loyalchat.receipts.reading.ocr import OcrResult, OcrUnavailable, read_lines

__all__ = [
    "ImageRejected",
    "OcrResult",
    "OcrUnavailable",
    "PreparedImage",
    "prepare",
    "read_lines",
]
