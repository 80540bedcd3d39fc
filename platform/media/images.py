"""Pictures people upload (reward images): checked, turned upright, made web-sized, stored.

The checks are the receipt reader's (:func:`loyalchat.receipts.reading.image.prepare`):
JPEG, PNG and WebP only, the pixel count read from the header before any decoding
(decompression bombs), damaged files refused, EXIF orientation applied. What is stored is
a fresh JPEG of at most :data:`MAX_SIDE` pixels a side, re-encoded from the pixels alone,
so no metadata (EXIF location, camera, comments) survives.
"""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from loyalchat.api_errors import N_
from loyalchat.domain import DomainError
from loyalchat.media import store
from loyalchat.receipts.reading.image import MAX_PIXELS, ImageRejected, PreparedImage, prepare

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # a phone photo is 2-6 MB
MAX_SIDE = 1200  # enough for a phone screen at 3x and a console card
JPEG_QUALITY = 85

# Why an upload was refused (ImageRejected.reason), in words for the person uploading.
MESSAGES = {
    "not_an_image": N_("This file is not a picture. Choose a JPEG, PNG or WebP image."),
    "unsupported_format": N_(
        "Pictures in this format are not accepted. Choose a JPEG, PNG or WebP image."
    ),
    "too_large": N_("The picture is too large: at most %(limit_mb)s MB."),
    "too_many_pixels": N_("The picture has too many pixels. Choose a smaller one."),
    "truncated": N_("The picture is damaged or incomplete. Choose another one."),
}


class InvalidImage(DomainError):
    """An upload that is not an acceptable picture; ``extra["reason"]`` says why."""

    code = "invalid_image"


def check_image(
    data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_side: int = MAX_SIDE
) -> PreparedImage:
    """The upload decoded, upright and at most ``max_side`` pixels a side.

    Raises :class:`InvalidImage` (with ``extra["reason"]``, one of :data:`MESSAGES`) for
    anything that is not a readable JPEG/PNG/WebP within the byte and pixel limits.
    Transparent parts become white.
    """
    try:
        return prepare(
            data,
            max_bytes=max_bytes,
            max_pixels=MAX_PIXELS,
            max_side=max_side,
            max_short_side=max_side,
            max_output_pixels=max_side * max_side,
        )
    except ImageRejected as exc:
        values = {"limit_mb": max_bytes // (1024 * 1024)}
        raise InvalidImage(
            MESSAGES[exc.reason] % values, reason=exc.reason, detail=str(exc), **values
        ) from exc


def web_image(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_side: int = MAX_SIDE) -> bytes:
    """The upload as a JPEG of at most ``max_side`` pixels a side, without metadata; refused
    as :func:`check_image` refuses."""
    prepared = check_image(data, max_bytes=max_bytes, max_side=max_side)
    out = io.BytesIO()
    Image.fromarray(prepared.array).save(
        out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
    )
    return out.getvalue()


async def save_web_image(data: bytes, *, kind: str, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Check and normalise an uploaded picture, store it, and return its media key.

    Nothing is stored when the upload is refused (:class:`InvalidImage`). Decoding and
    re-encoding run in a thread: a large photo takes a noticeable fraction of a second.
    """
    picture = await asyncio.to_thread(web_image, data, max_bytes=max_bytes)
    return await store.save(picture, kind=kind)
