"""QR codes printed on a receipt (e-invoice links, the POS's own order codes)."""

from __future__ import annotations

import io

import numpy as np
import zxingcpp
from PIL import Image


def qr_payloads(image_bytes: bytes) -> list[str]:
    """Decoded text of every QR code in the image, top to bottom; [] if none or unreadable.

    ``image_bytes`` should already be validated by the image preparation step; a file
    that Pillow cannot open simply yields no payloads here.
    """
    try:
        with Image.open(io.BytesIO(image_bytes)) as img:
            img.load()
            gray = img.convert("L")
    except (OSError, ValueError, Image.DecompressionBombError):
        return []
    return _decode(gray)


def qr_payloads_of_pixels(rgb: np.ndarray) -> list[str]:
    """:func:`qr_payloads` of a prepared RGB array (no encode and decode on the way)."""
    return _decode(Image.fromarray(rgb).convert("L"))


def _decode(gray: Image.Image) -> list[str]:
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode)
    found = zxingcpp.read_barcodes(gray, formats=formats)
    if not found and max(gray.size) > 1600:
        # Small codes on a big photo: a second pass on a reduced copy often finds them.
        ratio = 1600 / max(gray.size)
        small = gray.resize((int(gray.width * ratio), int(gray.height * ratio)))
        found = zxingcpp.read_barcodes(small, formats=formats)
    found = sorted(found, key=lambda r: (r.position.top_left.y, r.position.top_left.x))
    return list(dict.fromkeys(r.text for r in found if r.valid and r.text))
