"""Image preparation: untrusted upload bytes in, a checked, upright, bounded RGB image out.

Everything a customer sends goes through :func:`prepare` before any OCR engine sees it:
only JPEG, PNG and WebP are opened, the pixel count is checked from the header before
the pixels are decoded (decompression bombs), EXIF orientation is applied, and big
photos are scaled down while long thin receipts keep their width.

Peak memory stays bounded: a JPEG is decoded at a reduced size where that is enough
(libjpeg's DCT scaling, ``draft``); PNG and WebP cannot be, so they have lower pixel
limits (:data:`FULL_DECODE_PIXELS`), and a big decode is reduced to RGB strip by strip
right away, so the colour conversion and the EXIF turn never copy it at full size
(``bench/image_memory.py`` measures it).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

MAX_BYTES = 20 * 1024 * 1024  # larger than any phone photo of a receipt
MAX_PIXELS = 64_000_000  # input limit, from the header; 50 MP phone photos pass
# PNG and WebP are always decoded in full, so they get lower limits. Measured peaks
# (bench/image_memory.py): PNG about 4 bytes a pixel, WebP about 16 while libwebp
# decodes (its canvas, a copy, Pillow's image). 32 MP still takes a 1440 x 22,000
# scrolling screenshot of an e-receipt; 16 MP a 12 MP photo saved as WebP. Peaks stay
# near 130 MiB (PNG) and 250 MiB (WebP) instead of 750-930 MiB at 60 MP.
FULL_DECODE_PIXELS = {"PNG": 32_000_000, "WEBP": 16_000_000}
_STRIP_ROWS = 64  # output rows per strip when reducing a big decode
MAX_SIDE = 8192  # output long side: only extreme strips reach it
MAX_SHORT_SIDE = 1536  # output short side: a receipt's width needs no more to be read
MAX_OUTPUT_PIXELS = 6_000_000  # bounds detection time on a 2-core CPU

RejectReason = Literal[
    "not_an_image", "unsupported_format", "too_large", "too_many_pixels", "truncated"
]

_MESSAGES: dict[str, str] = {
    "not_an_image": "the file is not an image",
    "unsupported_format": "the image format is not accepted (JPEG, PNG or WebP only)",
    "too_large": "the file is too large",
    "too_many_pixels": "the image has too many pixels",
    "truncated": "the image file is truncated or damaged",
}


class ImageRejected(ValueError):
    """The upload cannot be read as a receipt photo; ``reason`` is a stable code."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        message = _MESSAGES[reason]
        super().__init__(f"{message} ({detail})" if detail else message)


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """An upright RGB image ready for OCR, and how it relates to the upload.

    ``scale`` maps upload pixels (after EXIF rotation) to prepared pixels:
    ``prepared = upload * scale``.
    """

    array: np.ndarray  # H x W x 3, uint8, RGB
    format: str  # the upload's format: "JPEG", "PNG" or "WEBP"
    original_size: tuple[int, int]  # (width, height) of the upload after EXIF rotation
    scale: float
    exif_transposed: bool  # True when EXIF orientation turned or mirrored the upload

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the prepared image."""
        return int(self.array.shape[1]), int(self.array.shape[0])

    @cached_property
    def png(self) -> bytes:
        """The prepared image as PNG (no metadata survives re-encoding)."""
        return encode_png(self.array)

    def rotated(self, degrees: int) -> np.ndarray:
        """The pixels turned ``degrees`` clockwise (0, 90, 180 or 270)."""
        return rotate(self.array, degrees)


def prepare(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    max_short_side: int = MAX_SHORT_SIDE,
    max_output_pixels: int = MAX_OUTPUT_PIXELS,
    full_decode_pixels: Mapping[str, int] = FULL_DECODE_PIXELS,
) -> PreparedImage:
    """Check, decode, turn upright and bound an uploaded image.

    Raises :class:`ImageRejected` for anything that is not a readable JPEG/PNG/WebP
    within the byte and pixel limits (``max_pixels``; ``full_decode_pixels`` by format
    for those that cannot be decoded at a reduced size). Dark or blurred photos are
    accepted: they are a matter for OCR confidence, not for rejection.
    """
    if len(data) > max_bytes:
        raise ImageRejected("too_large", f"{len(data)} bytes, limit {max_bytes}")
    if not data:
        raise ImageRejected("not_an_image", "empty file")
    image = _open(data, max_pixels)
    fmt = image.format or "?"
    limit = full_decode_pixels.get(fmt, max_pixels)
    if image.width * image.height > limit:
        raise ImageRejected(
            "too_many_pixels", f"{image.width}x{image.height}, limit {limit} pixels for {fmt}"
        )
    header_size = image.size
    header_scale = output_scale(*image.size, max_side, max_short_side, max_output_pixels)
    try:
        if fmt == "JPEG" and header_scale < 0.5:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 size: much faster, never below target.
            image.draft(
                "RGB", (round(image.width * header_scale), round(image.height * header_scale))
            )
        image.load()  # decode now so a damaged file fails here, typed
        orientation = _orientation(image)
        # Shrink by a whole factor (never below the target) while making it RGB, before
        # anything else copies the full decode; the final resize below does the rest.
        factor = int(1 / output_scale(*image.size, max_side, max_short_side, max_output_pixels))
        image = _reduced_rgb(image, factor) if factor >= 2 else _to_rgb(image)
        if orientation in _TRANSPOSE:
            image = image.transpose(_TRANSPOSE[orientation])
        transposed = orientation in _TRANSPOSE
        width, height = image.size
        swapped = orientation in (5, 6, 7, 8)  # EXIF values that turn by 90 or 270 degrees
        original = (header_size[1], header_size[0]) if swapped else header_size
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("truncated", str(exc)) from exc
    # Sizes from here on are of the (possibly draft-reduced) decoded image.
    scale = output_scale(width, height, max_side, max_short_side, max_output_pixels)
    if scale < 1.0:
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return PreparedImage(
        array=np.asarray(image, dtype=np.uint8),
        format=fmt,
        original_size=original,
        scale=image.size[0] / original[0],
        exif_transposed=transposed,
    )


def output_scale(
    width: int, height: int, max_side: int, max_short_side: int, max_output_pixels: int
) -> float:
    """The downscale factor (<= 1) for a ``width`` x ``height`` image.

    The short side is what keeps a long thin receipt readable, so it has its own limit;
    the long side and the pixel count only cap the extremes.
    """
    short, long = min(width, height), max(width, height)
    return min(
        1.0,
        max_short_side / short,
        max_side / long,
        (max_output_pixels / (width * height)) ** 0.5,
    )


def rotate(array: np.ndarray, degrees: int) -> np.ndarray:
    """``array`` turned ``degrees`` clockwise (0, 90, 180 or 270)."""
    if degrees % 90:
        raise ValueError(f"rotation must be a multiple of 90, not {degrees}")
    # np.rot90 turns counter-clockwise for positive k.
    return np.ascontiguousarray(np.rot90(array, k=-(degrees // 90) % 4))


def encode_png(array: np.ndarray) -> bytes:
    """Lossless PNG of an RGB array: what engines receive.

    Uncompressed, because it never leaves memory and encoding is twice as fast.
    """
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG", compress_level=0)
    return out.getvalue()


def encode_jpeg(array: np.ndarray, quality: int = 85) -> bytes:
    """A JPEG of an RGB array, for keeping (the image staff see with the OCR boxes):
    a tenth of the size of :func:`encode_png`'s output, and text stays legible."""
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Read the header only and check format and pixel count before any decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except UnidentifiedImageError as exc:
        other = sniff_format(data)
        if other is None:
            raise ImageRejected("not_an_image") from exc
        raise ImageRejected("unsupported_format", other) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("truncated", str(exc)) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageRejected("not_an_image", "empty image")
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels", f"{width}x{height}, limit {max_pixels} pixels")
    return image


# Formats we recognise only to name them in the refusal; never decoded.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GIF8", "GIF"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"%PDF", "PDF"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"<svg", "SVG"),
    (0, b"<?xml", "SVG/XML"),
)


def sniff_format(data: bytes) -> str | None:
    """The name of a known but refused image format, from its signature, or None."""
    for offset, magic, name in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return name
    return None


# EXIF orientation -> the turn that makes the image upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation of the upload (1 = none)."""
    try:
        return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # a damaged EXIF block is not worth rejecting a receipt over
        return 1


def _reduced_rgb(image: Image.Image, factor: int) -> Image.Image:
    """``image`` box-reduced ``factor`` times and made RGB, a strip of rows at a time.

    Converting a whole 30 MP palette or RGBA decode would allocate another full-size
    copy (or two); a strip costs ``factor * 64`` rows.
    """
    width, height = image.size
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    step = factor * _STRIP_ROWS
    for top in range(0, height, step):
        strip = _to_rgb(image.crop((0, top, width, min(height, top + step))))
        out.paste(strip.reduce(factor), (0, top // factor))
    return out


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency flattened onto white paper rather than black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, (255, 255, 255))
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image.convert("RGB")
