"""Run an OCR engine on an uploaded image, turning the image upright when it reads poorly.

Engines see the image as it is; this module decides the orientation. The first pass
reads the prepared image; if that pass looks like a sideways or upside-down receipt
(mostly vertical boxes, few lines, low confidence), the image is turned by 90, 180 and
270 degrees and the best reading is kept.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loyalchat.extensions.ocr import OcrEngine, OcrLine, Point
from loyalchat.receipts.reading.image import PreparedImage, encode_png, prepare

# A first pass is trusted when it has this many lines at this mean confidence, mostly
# horizontal; otherwise the other orientations are tried.
Box = tuple[Point, Point, Point, Point]

GOOD_MIN_LINES = 3
GOOD_MEAN_CONFIDENCE = 0.85
VERTICAL_SHARE = 0.5


class OcrUnavailable(RuntimeError):
    """An engine cannot run here: a package, binary, language pack or model is missing.

    The message names the missing piece and how to install it.
    """


@dataclass(frozen=True, eq=False)
class OcrResult:
    """What an engine read, in reading order, from the upright image.

    ``rotation`` is how many degrees clockwise the prepared image was turned before the
    lines were read; boxes are in the pixels of that turned image, whose (width, height)
    is ``size``. ``image`` is the prepared (unturned) image, for QR decoding or hashing.
    """

    lines: list[OcrLine]
    elapsed_ms: float  # preparation plus every OCR pass
    rotation: int  # 0, 90, 180 or 270
    engine: str
    image: PreparedImage
    size: tuple[int, int]
    passes: int = 1  # OCR passes run (more than one when orientation was searched)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def mean_confidence(self) -> float:
        return mean_confidence(self.lines)


async def read_lines(
    image: bytes | PreparedImage,
    engine: OcrEngine,
    *,
    try_rotations: bool = True,
) -> OcrResult:
    """Prepare ``image`` (unless already prepared) and read it with ``engine``.

    Raises :class:`~loyalchat.receipts.reading.image.ImageRejected` for bad uploads and
    :class:`OcrUnavailable` when the engine cannot run.
    """
    started = time.perf_counter()
    prepared = image if isinstance(image, PreparedImage) else prepare(image)
    best_rotation = 0
    best = await _read(engine, prepared.array)
    passes = 1
    good = getattr(engine, "good_confidence", GOOD_MEAN_CONFIDENCE)
    if try_rotations and not reads_well(best, good):
        for rotation in candidate_rotations(best):
            lines = await _read(engine, prepared.rotated(rotation))
            passes += 1
            if reading_score(lines) > reading_score(best):
                best, best_rotation = lines, rotation
            if reads_well(best, good) and best_rotation:
                break
    width, height = prepared.size
    size = (height, width) if best_rotation in (90, 270) else (width, height)
    return OcrResult(
        lines=reading_order(best),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        rotation=best_rotation,
        engine=engine.name,
        image=prepared,
        size=size,
        passes=passes,
    )


async def _read(engine: OcrEngine, rgb: np.ndarray) -> list[OcrLine]:
    """The engine's read of these pixels: directly when it takes pixels, else as PNG."""
    read_pixels = getattr(engine, "read_pixels", None)
    if read_pixels is not None:
        return await read_pixels(rgb)
    return await engine.read(encode_png(rgb))


def candidate_rotations(lines: Sequence[OcrLine]) -> list[int]:
    """Turns to try after a poor first pass, likeliest first."""
    if vertical_share(lines) >= VERTICAL_SHARE:
        return [90, 270, 180]
    return [180, 90, 270]


def reads_well(lines: Sequence[OcrLine], good_confidence: float = GOOD_MEAN_CONFIDENCE) -> bool:
    """Enough upright lines read confidently: no need to try other orientations.

    An engine may set ``good_confidence`` when its confidences run on another scale.
    """
    return (
        len(lines) >= GOOD_MIN_LINES
        and mean_confidence(lines) >= good_confidence
        and vertical_share(lines) < VERTICAL_SHARE
    )


def reading_score(lines: Sequence[OcrLine]) -> float:
    """Confidence-weighted amount of text read on horizontal lines.

    Upside-down or sideways text comes back as short fragments with low confidence, so
    the upright orientation scores highest.
    """
    score = 0.0
    for line in lines:
        if _is_vertical(line):
            continue
        chars = len("".join(line.text.split()))
        score += chars * line.confidence**2
    return score


def mean_confidence(lines: Sequence[OcrLine]) -> float:
    """Mean confidence weighted by line length (0 when nothing was read)."""
    weights = [max(1, len(line.text.strip())) for line in lines]
    if not weights:
        return 0.0
    total = sum(w * line.confidence for w, line in zip(weights, lines, strict=True))
    return total / sum(weights)


def vertical_share(lines: Sequence[OcrLine]) -> float:
    """Share of text (by characters) in boxes taller than wide: a sideways page."""
    counted = [(len(line.text.strip()), _is_vertical(line)) for line in lines]
    total = sum(n for n, _ in counted if n > 1)
    if not total:
        return 0.0
    return sum(n for n, vertical in counted if vertical and n > 1) / total


def bgr_array(image: bytes):
    """Decoded image bytes as a contiguous uint8 array in OpenCV's BGR order, which the
    PaddleOCR-family engines take."""
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(image)) as decoded:
        return np.ascontiguousarray(np.asarray(decoded.convert("RGB"))[:, :, ::-1])


def reading_order(lines: Sequence[OcrLine]) -> list[OcrLine]:
    """Top to bottom, then left to right within a row.

    Lines whose vertical centres are within half a line height of a row's first line
    share that row, so a label and its amount printed side by side stay together.
    """
    ordered = sorted(lines, key=lambda line: (_center_y(line), _left(line)))
    rows: list[list[OcrLine]] = []
    for line in ordered:
        if rows:
            anchor = rows[-1][0]
            tolerance = 0.5 * min(_height(anchor), _height(line))
            if abs(_center_y(line) - _center_y(anchor)) <= tolerance:
                rows[-1].append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=_left)]


def box_from_rect(left: float, top: float, right: float, bottom: float) -> Box:
    """Four clockwise corners from the top-left, for engines that report rectangles."""
    return ((left, top), (right, top), (right, bottom), (left, bottom))


def _is_vertical(line: OcrLine) -> bool:
    return _height(line) > 1.5 * _width(line) and len(line.text.strip()) > 1


def _width(line: OcrLine) -> float:
    xs = [p[0] for p in line.box]
    return max(xs) - min(xs)


def _height(line: OcrLine) -> float:
    ys = [p[1] for p in line.box]
    return max(ys) - min(ys)


def _center_y(line: OcrLine) -> float:
    return sum(p[1] for p in line.box) / 4


def _left(line: OcrLine) -> float:
    return min(p[0] for p in line.box)
