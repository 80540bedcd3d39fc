"""Large uploads stay within bounded memory: PNG and WebP (decoded in full, always) have
lower pixel limits than JPEG (decoded reduced), and a big decode is reduced to RGB strip
by strip, with the same result as converting it whole. bench/image_memory.py has figures.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from loyalchat.media.images import InvalidImage, web_image
from loyalchat.receipts.reading.image import (
    FULL_DECODE_PIXELS,
    MAX_PIXELS,
    ImageRejected,
    _to_rgb,
    prepare,
)
from tests.test_ocr_image import encoded, marked, png_header_only


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """No database here: skip the suite's table truncation."""


def test_limits_are_lower_for_formats_decoded_in_full() -> None:
    assert FULL_DECODE_PIXELS["PNG"] < MAX_PIXELS and FULL_DECODE_PIXELS["WEBP"] < MAX_PIXELS
    assert "JPEG" not in FULL_DECODE_PIXELS  # libjpeg decodes at 1/2, 1/4, 1/8 on request


def test_a_png_over_its_limit_is_refused_from_the_header() -> None:
    # 6000 x 6000 = 36 MP: under the 64 MP JPEG limit, over PNG's.
    bomb = png_header_only(6000, 6000)
    with pytest.raises(ImageRejected) as caught:
        prepare(bomb)
    assert caught.value.reason == "too_many_pixels" and "PNG" in caught.value.detail
    with pytest.raises(InvalidImage) as refused:
        web_image(bomb)
    assert refused.value.extra["reason"] == "too_many_pixels"


def test_a_webp_over_its_limit_is_refused_and_one_under_is_read_reduced() -> None:
    big = encoded(Image.new("RGB", (4200, 4100), "white"), "WEBP", quality=10, method=0)
    with pytest.raises(ImageRejected) as caught:
        prepare(big)
    assert caught.value.reason == "too_many_pixels"
    fits = encoded(marked(4000, 3600), "WEBP", quality=80, method=0)
    prepared = prepare(fits)
    assert prepared.size == (1707, 1536) and prepared.original_size == (4000, 3600)
    assert prepared.array[10, 10].tolist() == [0, 0, 0]  # the marked corner is top-left


@pytest.mark.parametrize("mode", ["RGBA", "P", "LA"])
def test_strip_reduction_matches_converting_the_whole_image(mode: str) -> None:
    """Transparent parts become white paper, as before; the picture is the same."""
    source = marked(4000, 3200).convert("RGBA")
    source.paste((0, 0, 0, 0), (2000, 1600, 4000, 3200))  # a transparent quarter
    source = source.convert(mode) if mode != "P" else source.quantize(colors=16)
    if mode == "P":
        source.info["transparency"] = source.getpixel((3999, 3199))
    data = encoded(
        source, "PNG", **({"transparency": source.info["transparency"]} if mode == "P" else {})
    )
    prepared = prepare(data)
    width, height = prepared.size
    reference = np.asarray(
        _to_rgb(Image.open(io.BytesIO(data))).resize(
            (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0
        ),
        dtype=np.int16,
    )
    assert (width, height) == (1920, 1536)
    assert np.abs(prepared.array.astype(np.int16) - reference).mean() < 1.0
    assert prepared.array[-5, -5].tolist() == [255, 255, 255]  # transparent -> white
    assert prepared.array[5, 5].tolist() == [0, 0, 0]


def test_exif_orientation_still_applies_to_a_reduced_decode() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to be upright
    data = encoded(marked(4000, 3200), "PNG", exif=exif.tobytes())
    prepared = prepare(data)
    assert prepared.exif_transposed and prepared.original_size == (3200, 4000)
    assert prepared.size == (1536, 1920)
    # The black block was top-left before turning clockwise: now it is top-right.
    assert prepared.array[5, -5].tolist() == [0, 0, 0]
    assert prepared.array[5, 5].tolist() == [255, 255, 255]


def test_normal_receipts_are_unaffected() -> None:
    for fmt in ("JPEG", "PNG", "WEBP"):
        prepared = prepare(encoded(marked(1200, 1600), fmt))
        assert prepared.size == (1200, 1600) and prepared.scale == 1.0, fmt
    photo = prepare(encoded(marked(8000, 6000), "JPEG", quality=70))  # 48 MP: draft
    assert photo.size == (2048, 1536) and photo.original_size == (8000, 6000)
