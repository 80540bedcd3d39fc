"""Build OCR lines for parser tests: rows of text laid out like a printed receipt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from loyalchat.extensions.ocr import OcrLine

FIXTURES = Path(__file__).parent / "data" / "ocr_lines"


def box(
    text: str, x: float, y: float, width: float | None = None, height: float = 24, tilt: float = 0.0
) -> OcrLine:
    """A box with its top-left corner at (x, y); ``tilt`` slants it like a rotated photo."""
    w = width if width is not None else 14 * max(len(text), 1)
    corners = ((x, y), (x + w, y), (x + w, y + height), (x, y + height))
    return OcrLine(text, tuple((px, py + tilt * px) for px, py in corners), 0.98)


def layout(
    rows: Sequence[str | Sequence[str]], line_height: float = 40, tilt: float = 0.0
) -> list[OcrLine]:
    """One row per item; a list puts its first box on the left and the rest on the right."""
    lines = []
    for i, row in enumerate(rows):
        y = 20 + i * line_height
        parts = [row] if isinstance(row, str) else list(row)
        if len(parts) == 1:
            lines.append(box(parts[0], 60, y, tilt=tilt))
            continue
        lines.append(box(parts[0], 20, y, tilt=tilt))
        for k, part in enumerate(parts[1:]):
            x = 420 + 130 * (k - len(parts) + 2)
            lines.append(box(part, x, y + 1.5, width=110, tilt=tilt))
    return lines


def load_fixture(name: str) -> tuple[list[OcrLine], dict[str, str]]:
    """Real rapidocr output for one shared receipt, and its labelled values."""
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    lines = [
        OcrLine(x["text"], tuple(tuple(p) for p in x["box"]), x["score"]) for x in data["lines"]
    ]
    return lines, data["expected"]


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))
