"""Image preparation: what uploads are refused, and how accepted ones are turned and sized."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from loyalchat.receipts.reading.image import (
    MAX_SHORT_SIDE,
    ImageRejected,
    encode_png,
    prepare,
    rotate,
)


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """Image preparation touches no database: skip the suite's table truncation."""


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def marked(width: int, height: int) -> Image.Image:
    """White image with a black block in the top-left corner, to see where "up" went."""
    image = Image.new("RGB", (width, height), "white")
    image.paste((0, 0, 0), (0, 0, width // 4, height // 4))
    return image


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (a decompression bomb shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    # Only a few rows of real data: the decoder would have to invent the rest.
    idat = zlib.compress(row * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_allowed_formats_come_back_as_rgb_arrays(fmt: str) -> None:
    source = Image.new("L", (300, 200), 200)
    prepared = prepare(encoded(source, fmt))

    assert prepared.format == fmt
    assert prepared.size == (300, 200)
    assert prepared.original_size == (300, 200)
    assert prepared.scale == 1.0
    assert prepared.array.shape == (200, 300, 3)
    assert prepared.array.dtype == np.uint8
    assert Image.open(io.BytesIO(prepared.png)).format == "PNG"


def test_transparent_png_is_flattened_onto_white() -> None:
    source = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    prepared = prepare(encoded(source, "PNG"))
    assert prepared.array.min() == 255


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"TOTAL 42.50\nthis is a text file, not a photo\n", "not_an_image"),
        (b"", "not_an_image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "unsupported_format"),
    ],
)
def test_non_images_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        prepare(data)
    assert caught.value.reason == reason


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")])
def test_formats_outside_the_allow_list_are_refused(fmt: str, name: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        prepare(encoded(marked(64, 64), fmt))
    assert caught.value.reason == "unsupported_format"
    assert name in str(caught.value)


def test_truncated_jpeg_is_refused() -> None:
    rng = np.random.default_rng(7)
    noisy = Image.fromarray(rng.integers(0, 255, (400, 400, 3), dtype=np.uint8))
    data = encoded(noisy, "JPEG", quality=90)
    with pytest.raises(ImageRejected) as caught:
        prepare(data[: len(data) // 2])
    assert caught.value.reason == "truncated"


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_header_only(30_000, 30_000)
    assert len(bomb) < 10_000
    with pytest.raises(ImageRejected) as caught:
        prepare(bomb)
    assert caught.value.reason == "too_many_pixels"


def test_pixel_limit_below_pillows_own_is_checked_from_the_header() -> None:
    # 10000 x 8000 = 80 MP: under Pillow's bomb threshold, over ours.
    with pytest.raises(ImageRejected) as caught:
        prepare(png_header_only(10_000, 8_000))
    assert caught.value.reason == "too_many_pixels"
    with pytest.raises(ImageRejected) as caught:
        prepare(encoded(marked(300, 300), "PNG"), max_pixels=200 * 200)
    assert caught.value.reason == "too_many_pixels"


def test_oversized_payload_is_refused_before_opening() -> None:
    with pytest.raises(ImageRejected) as caught:
        prepare(b"\xff\xd8\xff" + b"\x00" * 2_000_000, max_bytes=1_000_000)
    assert caught.value.reason == "too_large"
    assert "1000000" in str(caught.value)


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(1, "top_left"), (3, "bottom_right"), (6, "top_right"), (8, "bottom_left")],
)
def test_exif_orientation_is_applied(orientation: int, corner: str) -> None:
    # Stored landscape 400x200 with the block top-left; EXIF says how to turn it upright.
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(marked(400, 200), "JPEG", exif=exif.tobytes(), quality=95)

    prepared = prepare(data)

    turned = orientation in (6, 8)
    assert prepared.size == ((200, 400) if turned else (400, 200))
    assert prepared.original_size == prepared.size
    assert prepared.exif_transposed is (orientation != 1)
    grey = prepared.array.mean(axis=2)
    h, w = grey.shape
    corners = {
        "top_left": grey[: h // 10, : w // 10],
        "top_right": grey[: h // 10, -w // 10 :],
        "bottom_left": grey[-h // 10 :, : w // 10],
        "bottom_right": grey[-h // 10 :, -w // 10 :],
    }
    assert corners[corner].mean() < 60
    assert all(region.mean() > 200 for name, region in corners.items() if name != corner)


def test_big_photo_is_scaled_down_by_its_short_side() -> None:
    prepared = prepare(encoded(marked(4000, 3000), "JPEG", quality=80))
    width, height = prepared.size
    assert min(width, height) <= MAX_SHORT_SIDE
    assert min(width, height) >= MAX_SHORT_SIDE - 2
    assert prepared.original_size == (4000, 3000)
    assert prepared.scale == pytest.approx(width / 4000, rel=1e-3)
    assert abs(width / height - 4 / 3) < 0.01


def test_long_thin_receipt_keeps_its_width() -> None:
    prepared = prepare(encoded(marked(600, 6000), "PNG"))
    assert prepared.size == (600, 6000)
    assert prepared.scale == 1.0


def test_extreme_strip_is_capped_without_crushing_its_width() -> None:
    prepared = prepare(encoded(marked(1000, 12_000), "JPEG", quality=70))
    width, height = prepared.size
    assert height <= 8192
    assert width >= 600


def test_dark_and_blurred_photos_are_accepted() -> None:
    dark = Image.new("RGB", (500, 800), (8, 8, 8))
    prepared = prepare(encoded(dark, "JPEG"))
    assert prepared.array.max() < 40


def test_rotate_turns_clockwise() -> None:
    array = np.asarray(marked(40, 20))
    turned = rotate(array, 90)
    assert turned.shape == (40, 20, 3)
    assert turned[0, -1].max() == 0  # the top-left block is now top-right
    assert np.array_equal(rotate(turned, 270), array)
    assert Image.open(io.BytesIO(encode_png(turned))).size == (20, 40)
    with pytest.raises(ValueError, match="multiple of 90"):
        rotate(array, 45)
