"""Peak memory of preparing large uploads (receipts and reward pictures), by format.

Run: ``.venv/bin/python bench/image_memory.py [--keep DIR]``.

It draws receipt-like images (white paper, black text lines; flat areas compress well, as
in a decompression bomb) at a few sizes, saves them as PNG (RGB, RGBA, palette), WebP and
JPEG, then prepares each one in a FRESH process (so ``ru_maxrss`` is that file's peak)
with ``receipts.reading.image.prepare`` (the receipt reader) and
``media.images.web_image`` (reward pictures). It prints, per file: its size in pixels,
the outcome (prepared size or the refusal reason), and the peak resident memory above
the process's baseline after the imports, in MiB. Pillow allocates image memory outside
Python's allocator, so ``tracemalloc`` would not see it; ``getrusage`` does.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (name, width, height, format, Pillow mode to save)
CASES = (
    ("jpeg-48mp", 8000, 6000, "JPEG", "RGB"),
    ("png-rgb-60mp", 7800, 7800, "PNG", "RGB"),
    ("png-rgba-60mp", 7800, 7800, "PNG", "RGBA"),
    ("png-p-60mp", 7800, 7800, "PNG", "P"),
    ("webp-60mp", 7800, 7800, "WEBP", "RGB"),
    ("png-rgba-31mp", 5600, 5600, "PNG", "RGBA"),
    ("png-p-31mp", 5600, 5600, "PNG", "P"),
    ("png-strip-32mp", 1440, 22000, "PNG", "RGB"),
    ("webp-24mp", 6000, 4000, "WEBP", "RGB"),
    ("webp-15mp", 4800, 3200, "WEBP", "RGB"),
    ("png-rgb-2mp", 1200, 1600, "PNG", "RGB"),
)


def _draw(width: int, height: int, fmt: str, mode: str, path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for y in range(40, height - 40, 60):  # text-like lines, like a receipt
        for x in range(40, width - 200, 400):
            draw.rectangle((x, y, x + 280, y + 24), fill=(20, 20, 20))
    if mode != "RGB":
        image = image.convert(mode)
    options = {"quality": 80} if fmt in ("JPEG", "WEBP") else {"compress_level": 1}
    image.save(path, format=fmt, **options)


def _child(path: str, how: str) -> None:
    """Prepare one file in this fresh process and print JSON with the peak above baseline."""
    from loyalchat.media.images import InvalidImage, web_image
    from loyalchat.receipts.reading.image import ImageRejected, prepare

    data = Path(path).read_bytes()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        if how == "receipt":
            outcome = "x".join(map(str, prepare(data).size))
        else:
            outcome = f"{len(web_image(data, max_bytes=64 * 1024 * 1024)) // 1024} KiB jpeg"
    except ImageRejected as exc:
        outcome = f"refused: {exc.reason}"
    except InvalidImage as exc:
        outcome = f"refused: {exc.extra['reason']}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "peak_mib": (peak - base) / 1024, "s": seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the generated images in this folder")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lc-image-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{'file':<20} {'pixels':>8} {'MiB':>6}  {'path':<8} {'peak MiB':>9} {'s':>5}  outcome")
    for name, width, height, fmt, mode in CASES:
        path = folder / f"{name}.{fmt.lower()}"
        if not path.exists():
            # Drawn in a child too, so the drawing's memory does not count anywhere.
            code = f"import sys; sys.argv=['x']; from bench.image_memory import _draw; from pathlib import Path; _draw({width}, {height}, {fmt!r}, {mode!r}, Path({str(path)!r}))"
            subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
        size_mib = path.stat().st_size / 2**20
        for how in ("receipt", "media"):
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(path), how],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"{name:<20} {width * height / 1e6:>6.1f}MP {size_mib:>6.1f}  {how:<8} "
                f"{row['peak_mib']:>9.0f} {row['s']:>5.1f}  {row['outcome']}"
            )


if __name__ == "__main__":
    main()
