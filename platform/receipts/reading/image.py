"""Image preparation: untrusted upload bytes in, a checked, upright, bounded RGB image out.

Everything a customer sends goes through :func:`prepare` before any OCR engine sees it:
only JPEG, PNG and WebP are opened, the pixel count is checked from the header before
the pixels are decoded (decompression bombs), EXIF orientation is applied, and big
photos are scaled down while long thin receipts keep their width.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

MAX_BYTES = 20 * 1024 * 1024  # larger than any phone photo of a receipt
MAX_PIXELS = 64_000_000  # input limit, from the header; 50 MP phone photos pass
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
) -> PreparedImage:
    """Check, decode, turn upright and bound an uploaded image.

    Raises :class:`ImageRejected` for anything that is not a readable JPEG/PNG/WebP
    within the byte and pixel limits. Dark or blurred photos are accepted: they are a
    matter for OCR confidence, not for rejection.
    """
    if len(data) > max_bytes:
        raise ImageRejected("too_large", f"{len(data)} bytes, limit {max_bytes}")
    if not data:
        raise ImageRejected("not_an_image", "empty file")
    image = _open(data, max_pixels)
    fmt = image.format or "?"
    header_size = image.size
    header_scale = output_scale(*image.size, max_side, max_short_side, max_output_pixels)
    try:
        if fmt == "JPEG" and header_scale < 0.5:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 size: much faster, never below target.
            image.draft(
                "RGB", (round(image.width * header_scale), round(image.height * header_scale))
            )
        image.load()  # decode now so a damaged file fails here, typed
        image, orientation = _upright(image)
        transposed = orientation != 1
        width, height = image.size
        swapped = orientation in (5, 6, 7, 8)  # EXIF values that turn by 90 or 270 degrees
        original = (header_size[1], header_size[0]) if swapped else header_size
        image = _to_rgb(image)
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


def _upright(image: Image.Image) -> tuple[Image.Image, int]:
    """The image with its EXIF orientation applied, and that orientation (1 = none)."""
    try:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # a damaged EXIF block is not worth rejecting a receipt over
        return image, 1
    if orientation not in range(2, 9):
        return image, 1
    return ImageOps.exif_transpose(image), orientation


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
