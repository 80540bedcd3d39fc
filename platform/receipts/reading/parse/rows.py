"""Group OCR boxes into visual rows, so a label can be paired with its value.

A receipt row is often read as several boxes ("TOTAL" on the left, "120.00" on the
right), and a value is sometimes printed on the line below its label. Rows are built
from box geometry only: boxes whose vertical centres are within half a line height of
each other belong together, after removing the photo's average tilt.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from loyalchat.extensions.ocr import OcrLine


@dataclass(frozen=True, slots=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float
    index: int  # position in the engine's output

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(slots=True)
class Row:
    boxes: list[Box] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(b.text for b in self.boxes)

    @property
    def y0(self) -> float:
        return min(b.y0 for b in self.boxes)

    @property
    def y1(self) -> float:
        return max(b.y1 for b in self.boxes)

    @property
    def height(self) -> float:
        return statistics.median(b.height for b in self.boxes)

    @property
    def confidence(self) -> float:
        return min(b.confidence for b in self.boxes)

    def right_of(self, box: Box) -> str:
        """Text of the boxes to the right of ``box`` on this row."""
        return " ".join(b.text for b in self.boxes if b.x0 >= box.x1 - box.height and b is not box)


def _tilt(lines: Sequence[OcrLine]) -> float:
    """Median slope of the wider boxes' top edges (photos are rarely held level)."""
    slopes = []
    for line in lines:
        (xa, ya), (xb, yb) = line.box[0], line.box[1]
        if xb - xa > 3 * abs(line.box[3][1] - ya) and xb > xa:
            slopes.append((yb - ya) / (xb - xa))
    if not slopes:
        return 0.0
    slope = statistics.median(slopes)
    return slope if abs(slope) < math.tan(math.radians(15)) else 0.0


def to_boxes(lines: Sequence[OcrLine]) -> list[Box]:
    """Axis-aligned boxes in a deskewed frame (rotated by the median tilt)."""
    slope = _tilt(lines)
    boxes = []
    for i, line in enumerate(lines):
        if not line.text.strip():
            continue
        xs = [p[0] for p in line.box]
        # Shear instead of rotate: for small angles it is the same and keeps x unchanged.
        ys = [p[1] - slope * p[0] for p in line.box]
        boxes.append(Box(line.text.strip(), min(xs), min(ys), max(xs), max(ys), line.confidence, i))
    return boxes


def group_rows(lines: Sequence[OcrLine]) -> list[Row]:
    """Visual rows, top to bottom, each with its boxes left to right."""
    rows: list[Row] = []
    for box in sorted(to_boxes(lines), key=lambda b: (b.cy, b.x0)):
        best, best_overlap = None, 0.0
        for row in rows[-3:]:
            overlap = min(row.y1, box.y1) - max(row.y0, box.y0)
            share = overlap / min(box.height, row.height)
            centre_gap = abs(box.cy - statistics.mean(b.cy for b in row.boxes))
            if share > 0.5 and centre_gap < 0.5 * max(box.height, row.height):
                if share > best_overlap and not _overlaps_horizontally(row, box):
                    best, best_overlap = row, share
        if best is None:
            rows.append(Row([box]))
        else:
            best.boxes.append(box)
            best.boxes.sort(key=lambda b: b.x0)
    rows.sort(key=lambda r: (r.y0 + r.y1) / 2)
    return rows


def _overlaps_horizontally(row: Row, box: Box) -> bool:
    # Two boxes over the same x range are two printed lines, not one.
    return any(
        min(b.x1, box.x1) - max(b.x0, box.x0) > 0.5 * min(b.x1 - b.x0, box.x1 - box.x0)
        for b in row.boxes
    )


def row_below(rows: Sequence[Row], index: int) -> Row | None:
    """The next row if it sits within about one and a half line heights."""
    if index + 1 >= len(rows):
        return None
    here, below = rows[index], rows[index + 1]
    if below.y0 - here.y1 <= 1.5 * max(here.height, below.height):
        return below
    return None
