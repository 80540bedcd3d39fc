"""OCR lines of labelled receipt photos, read once and kept as JSON.

Training the total ranker and re-running the benchmark's extraction must not re-run OCR
(about a second a photo). Each photo is read through the same path as ``ReceiptReader``
(``read_lines`` with the named engine from the plugin manager) and its ``OcrLine`` list is
stored as ``<sha256 of the file>-<engine>.json`` under the cache folder, so a renamed or
copied photo is not read again and a changed one is.

    python -m loyalchat.tools.ocr_cache /work/shared/receipts            # every photo
    python -m loyalchat.tools.ocr_cache /tmp/synth --cache bench-results/ocr-cache

    from loyalchat.tools.ocr_cache import OcrCache
    lines = await OcrCache(folder).lines(image_path)   # read once, then from disk
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path

import click

from loyalchat.extensions.ocr import OcrEngine, OcrLine, get_ocr_engines
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.receipts.reading.ocr import read_lines

DEFAULT_CACHE = Path("bench-results/ocr-cache")
DEFAULT_ENGINE = "rapidocr"


def image_key(data: bytes, engine: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()}-{engine}"


def _to_json(lines: list[OcrLine]) -> list[dict]:
    return [
        {"text": ln.text, "box": [list(p) for p in ln.box], "confidence": ln.confidence}
        for ln in lines
    ]


def _from_json(items: list[dict]) -> list[OcrLine]:
    return [
        OcrLine(i["text"], tuple(tuple(p) for p in i["box"]), float(i["confidence"]))  # type: ignore[arg-type]
        for i in items
    ]


class OcrCache:
    """Lines of each photo by content hash; the engine is loaded only on a miss."""

    def __init__(self, cache: Path = DEFAULT_CACHE, engine: str = DEFAULT_ENGINE) -> None:
        self.cache = cache
        self.engine_name = engine
        self._engine: OcrEngine | None = None

    def path_for(self, data: bytes) -> Path:
        return self.cache / f"{image_key(data, self.engine_name)}.json"

    def cached(self, data: bytes) -> list[OcrLine] | None:
        path = self.path_for(data)
        if not path.exists():
            return None
        return _from_json(json.loads(path.read_text(encoding="utf-8")))

    async def lines(self, image: Path | bytes) -> list[OcrLine]:
        """The photo's OCR lines, from the cache or read now and stored."""
        data = image if isinstance(image, bytes) else await asyncio.to_thread(image.read_bytes)
        found = self.cached(data)
        if found is not None:
            return found
        if self._engine is None:
            self._engine = get_ocr_engines(build_plugin_manager())[self.engine_name]
        result = await read_lines(data, self._engine)
        self.cache.mkdir(parents=True, exist_ok=True)
        path = self.path_for(data)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(_to_json(result.lines), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        return result.lines


def labelled_lines(
    folder: Path, labels: list[dict], cache: OcrCache, label: str = "OCR"
) -> list[list[OcrLine] | None]:
    """OCR lines of each labelled photo (None for an unreadable file), with a progress bar."""

    async def run() -> list[list[OcrLine] | None]:
        out: list[list[OcrLine] | None] = []
        with click.progressbar(labels, label=label, file=sys.stderr, show_pos=True) as bar:
            for item in bar:
                try:
                    out.append(await cache.lines(folder / item["image"]))
                except Exception as exc:
                    click.echo(f"\n{item['image']}: {exc}", err=True)
                    out.append(None)
        return out

    return asyncio.run(run())


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CACHE)
@click.option("--engine", default=DEFAULT_ENGINE, show_default=True)
def main(folder: Path, cache: Path, engine: str) -> None:
    """Read every photo of FOLDER/labels.json once into the OCR cache."""
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    found = labelled_lines(folder, labels, OcrCache(cache, engine))
    click.echo(f"{sum(x is not None for x in found)}/{len(labels)} photos cached in {cache}")


if __name__ == "__main__":
    main()
