"""``loyalchat receipts read | profile | synth``: the reading engine from the shell.

``read`` loads the models once and reads many images in one process, one JSON object per
image and line with ``--json``; a bad file gives an object with ``error`` and the run goes
on. The benchmark (bench/receipts.py) uses the same reader.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import pluggy

from loyalchat.commands.synth import synth_command
from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading import ImageRejected, OcrUnavailable
from loyalchat.receipts.reading.reader import DEFAULT_ENGINE, ReceiptReader, UnknownEngine

MAX_FILE_BYTES = 25 * 1024 * 1024


@click.group("receipts")
def receipts_group() -> None:
    """Read receipt photos, propose receipt profiles, generate test receipts."""


def _reader(ctx: click.Context, engine: str, profile: ReceiptProfile | None, today: date | None):
    pm = ctx.find_object(pluggy.PluginManager)
    now = datetime.combine(today, datetime.max.time()) if today else None
    try:
        return ReceiptReader(engine, profile=profile, pm=pm, now=now)
    except UnknownEngine as exc:
        raise click.ClickException(str(exc)) from exc


def _load_profile(path: Path | None) -> ReceiptProfile | None:
    if path is None:
        return None
    from loyalchat.receipts.profile import profile_from_dict

    try:
        return profile_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"cannot read profile {path}: {exc}") from exc


def _load(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImageRejected("too_large", f"over {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return path.read_bytes()


async def read_many(
    reader: ReceiptReader, images: Iterable[str]
) -> list[tuple[str, Any, str | None]]:
    """(image, reading or None, error or None) per image, in order; never raises per file."""
    results: list[tuple[str, Any, str | None]] = []
    for image in images:
        try:
            reading = await reader.read(await asyncio.to_thread(_load, Path(image)))
        except ImageRejected as exc:
            results.append((image, None, f"{exc.reason}: {exc}"))
        except OSError as exc:
            results.append((image, None, f"unreadable file: {exc.strerror or exc}"))
        else:
            results.append((image, reading, None))
    return results


@receipts_group.command("read")
@click.argument("images", nargs=-1, required=True)
@click.option("--engine", "engine", default=DEFAULT_ENGINE, show_default=True)
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge dates as of this day.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image per line.")
@click.pass_context
def read_command(
    ctx: click.Context,
    images: tuple[str, ...],
    engine: str,
    profile_path: Path | None,
    today: datetime | None,
    as_json: bool,
) -> None:
    """Read merchant, date, total and more off receipt photos."""
    reader = _reader(ctx, engine, _load_profile(profile_path), today.date() if today else None)

    async def run() -> None:
        for image, reading, error in await read_many(reader, images):
            if as_json:
                row = {"image": image, "error": error} if error else reading.to_json(image)
                click.echo(json.dumps(row, ensure_ascii=False))
            elif error:
                click.echo(f"{image}: {error}", err=True)
            else:
                _print_reading(reading.to_json(image))

    try:
        asyncio.run(run())
    except OcrUnavailable as exc:
        raise click.ClickException(str(exc)) from exc


def _print_reading(row: dict[str, Any]) -> None:
    click.echo(row["image"])
    for key in ("merchant", "date", "time", "total", "currency", "receipt_no", "payment_method"):
        value = row[key]
        conf = row["confidence"].get(key)
        shown = "-" if value is None else value
        click.echo(f"  {key:<15} {shown!s:<40} {'' if conf is None else f'{conf:.2f}'}")
    if row["warnings"]:
        click.echo(f"  warnings        {', '.join(row['warnings'])}")
    click.echo(f"  {row['elapsed_ms']:.0f} ms ({row['engine']}, rotation {row['rotation']})")


@receipts_group.command("profile")
@click.argument("samples", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--pos", "pos_system", default="", help="The merchant's POS system, if known.")
@click.option("--engine", "engine", default=DEFAULT_ENGINE, show_default=True)
@click.option("--currency", default="HKD", show_default=True, help="Default when none printed.")
@click.option("--timezone", default="Asia/Hong_Kong", show_default=True)
@click.pass_context
def profile_command(
    ctx: click.Context,
    samples: tuple[str, ...],
    pos_system: str,
    engine: str,
    currency: str,
    timezone: str,
) -> None:
    """Propose a receipt profile (JSON) from a merchant's sample receipts."""
    from loyalchat.receipts.profile import profile_to_dict
    from loyalchat.receipts.samples import profile_from_readings

    base = ReceiptProfile(currency=currency.upper(), timezone=timezone)
    reader = _reader(ctx, engine, base, None)
    results = asyncio.run(read_many(reader, samples))
    readings = []
    for image, reading, error in results:
        if error:
            click.echo(f"{image}: skipped ({error})", err=True)
            continue
        readings.append(reading)
    if not readings:
        raise click.ClickException("no sample could be read")
    # The console's receipt profile page and onboarding propose through the same function.
    profile = profile_from_readings(readings, pos_system, base=base)
    click.echo(json.dumps(profile_to_dict(profile), ensure_ascii=False, indent=2))


receipts_group.add_command(synth_command)

__all__ = ["read_many", "receipts_group"]
