"""Receipt fingerprints for the duplicate check: the same file is caught, a different
receipt of the same shop is never rejected as a duplicate, a photo taken again is at most
a hint for review, hostile bytes are refused. Real photos come from
``<repo>/../shared/receipts`` (skipped without it); a receipt drawn by the project's own
generator (loyalchat.tools.receipt_synth) runs everywhere. bench/receipt_dupes.py has the
figures over all 300 real photos (and why a perceptual distance does not reject alone).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import random

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from loyalchat.receipts.fingerprint import (
    REVIEW_DISTANCE,
    Fingerprint,
    ImageRejected,
    distance,
    fingerprint,
    looks_alike,
    same_receipt,
)
from loyalchat.tools.receipt_synth import make_spec, render_receipt
from tests.drawn_receipts import SHARED_RECEIPTS
from tests.media_helpers import png_bomb

TODAY = dt.date(2026, 11, 22)
WOOD = (118, 88, 60)
# What differs between two receipts of one shop: the purchase, not the header or the layout.
CONTENT_FIELDS = (
    *("items", "charges", "total", "payments", "receipt_no", "meta_lines", "qr_payload"),
    *("date", "time", "date_text", "time_text"),
)


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """No database here: skip the suite's table truncation."""


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def photographed_again(image: Image.Image, turn: float = 3.0) -> bytes:
    """The same receipt in a second photo: on a table, turned, smaller, dimmer and warmer,
    a little blurred, and compressed at another JPEG quality."""
    image = image.convert("RGB")
    image = image.resize((round(image.width * 0.7), round(image.height * 0.7)))
    pad_x, pad_y = image.width // 12, image.height // 20
    table = Image.new("RGB", (image.width + 2 * pad_x, image.height + 2 * pad_y), WOOD)
    table.paste(image, (pad_x, pad_y))
    image = table.rotate(turn, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=WOOD)
    image = ImageEnhance.Brightness(image).enhance(0.85)
    warm = np.asarray(image, dtype=np.float32) * np.array([1.06, 1.0, 0.92], dtype=np.float32)
    image = Image.fromarray(np.clip(warm, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    return jpeg(image, quality=65)


def drawn(seed: int, *, content_of: int | None = None) -> Image.Image:
    """A Hong Kong receipt from the generator; with ``content_of``, the same shop, layout and
    paper printing the items, number, date and total of another receipt."""
    spec = make_spec(seed, "hk", today=TODAY)
    if content_of is not None:
        other = make_spec(content_of, "hk", today=TODAY)
        spec = dataclasses.replace(spec, **{f: getattr(other, f) for f in CONTENT_FIELDS})
    return render_receipt(spec, random.Random(f"paper:{seed}"))


def shared_labels() -> list[dict]:
    labels_path = SHARED_RECEIPTS / "labels.json"
    if not labels_path.is_file():
        pytest.fail(
            f"shared receipts not found at {SHARED_RECEIPTS} (expected next to the repository, "
            "with labels.json and images/; they are not committed to the repository)"
        )
    return json.loads(labels_path.read_text())


def test_the_same_file_has_the_same_fingerprint_and_another_file_another_sha256() -> None:
    data = jpeg(drawn(1))
    first, second = fingerprint(data), fingerprint(data)
    assert first == second and same_receipt(first, second)
    assert len(first.sha256) == 64 and int(first.perceptual, 16) >= 0
    recompressed = fingerprint(jpeg(drawn(1), quality=60))
    assert recompressed.sha256 != first.sha256


def test_a_drawn_receipt_photographed_again_looks_alike_but_is_not_rejected() -> None:
    paper = drawn(2)
    original, again = fingerprint(jpeg(paper)), fingerprint(photographed_again(paper))
    assert original.sha256 != again.sha256
    gap = distance(original, again)
    assert looks_alike(original, again), f"distance {gap} > {REVIEW_DISTANCE}"
    assert not same_receipt(original, again)  # a perceptual match alone never rejects


def test_another_receipt_of_the_same_drawn_shop_does_not_look_alike() -> None:
    first, second = drawn(3), drawn(3, content_of=4)
    assert first.size[0] == second.size[0]  # same shop header, paper width
    one, other = fingerprint(jpeg(first)), fingerprint(jpeg(second))
    assert not same_receipt(one, other)
    assert not looks_alike(one, other), f"distance {distance(one, other)} <= {REVIEW_DISTANCE}"


def test_different_real_receipts_of_the_same_company_are_not_the_same_receipt() -> None:
    by_company: dict[str, list[str]] = {}
    for row in shared_labels():
        by_company.setdefault(row["company"], []).append(row["image"])
    busiest = sorted(by_company.values(), key=len, reverse=True)[:3]
    for images in busiest:
        prints = [fingerprint((SHARED_RECEIPTS / name).read_bytes()) for name in images[:4]]
        for i, one in enumerate(prints):
            for j in range(i + 1, len(prints)):
                assert not same_receipt(one, prints[j]), (
                    f"{images[i]} and {images[j]}: distance {distance(one, prints[j])}"
                )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not_an_image"),
        (b"this is not a picture at all", "not_an_image"),
        (b"GIF89a" + b"\0" * 64, "unsupported_format"),
        (jpeg(Image.new("RGB", (60, 40), "white"))[:200], "truncated"),
        (png_bomb(), "too_many_pixels"),
    ],
    ids=["empty", "text", "gif", "truncated_jpeg", "decompression_bomb"],
)
def test_hostile_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        fingerprint(data)
    assert caught.value.reason == reason


def test_a_blank_or_tiny_picture_still_has_a_fingerprint() -> None:
    """No print to find on the paper: the whole picture is hashed, nothing crashes."""
    for image in (Image.new("RGB", (1, 1), "white"), Image.new("RGB", (300, 900), "white")):
        assert isinstance(fingerprint(jpeg(image)), Fingerprint)


def test_hashes_of_different_methods_are_not_compared() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        distance("ab" * 8, "ab" * 32)
