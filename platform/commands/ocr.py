"""``loyalchat ocr IMAGE``: the lines an OCR engine reads from one image, with timing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import pluggy

from loyalchat.extensions.ocr import get_ocr_engines
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts.reading.image import ImageRejected
from loyalchat.receipts.reading.ocr import OcrResult, OcrUnavailable, read_lines

DEFAULT_ENGINE = "rapidocr"


@click.command("ocr")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--engine", "engine_name", default=DEFAULT_ENGINE, show_default=True, help="OCR engine name."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def ocr_command(ctx: click.Context, image: Path, engine_name: str, as_json: bool) -> None:
    """Read IMAGE with an OCR engine and print its lines, confidences and boxes."""
    pm = ctx.find_object(pluggy.PluginManager) or current_plugin_manager()
    engines = get_ocr_engines(pm)
    if engine_name not in engines:
        known = ", ".join(engines) or "none installed"
        raise click.UsageError(f"unknown OCR engine {engine_name!r} (available: {known})")
    try:
        result = asyncio.run(read_lines(image.read_bytes(), engines[engine_name]))
    except ImageRejected as exc:
        raise click.ClickException(f"{image}: {exc} [{exc.reason}]") from exc
    except OcrUnavailable as exc:
        raise click.ClickException(f"engine {engine_name!r} cannot run: {exc}") from exc
    if as_json:
        click.echo(json.dumps(result_to_dict(result, str(image)), ensure_ascii=False, indent=2))
    else:
        click.echo(format_result(result))


def result_to_dict(result: OcrResult, image: str) -> dict:
    """A JSON-ready description of ``result``."""
    prepared = result.image
    return {
        "image": image,
        "engine": result.engine,
        "elapsed_ms": round(result.elapsed_ms, 1),
        "rotation": result.rotation,
        "passes": result.passes,
        "size": list(result.size),
        "original_size": list(prepared.original_size),
        "scale": round(prepared.scale, 4),
        "format": prepared.format,
        "lines": [
            {
                "text": line.text,
                "confidence": round(line.confidence, 4),
                "box": [[round(x, 1), round(y, 1)] for x, y in line.box],
            }
            for line in result.lines
        ],
    }


def format_result(result: OcrResult) -> str:
    """One line per text line: confidence, bounding rectangle, text; then a summary."""
    rows = []
    for line in result.lines:
        xs = [p[0] for p in line.box]
        ys = [p[1] for p in line.box]
        rect = f"{min(xs):.0f},{min(ys):.0f}-{max(xs):.0f},{max(ys):.0f}"
        rows.append(f"{line.confidence:5.3f}  {rect:<21}  {line.text}")
    if not rows:
        rows.append("(no text found)")
    width, height = result.size
    rows.append(
        f"-- {len(result.lines)} lines, engine {result.engine}, rotation {result.rotation}, "
        f"{width}x{height} px, {result.passes} pass(es), {result.elapsed_ms:.0f} ms"
    )
    return "\n".join(rows)
