"""``loyalchat receipts read | profile | synth | train``: the reading engine from the shell.

``read`` loads the models once per process and prints each image as soon as it is read
(one JSON object per image and line with ``--json``), in the order given; ``--jobs N``
reads N at once in N processes; a progress bar goes to stderr, never stdout. A bad file
gives an object with ``error``, the run goes on and ends with exit status 1. The benchmark
(bench/receipts.py) uses the same reader.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import click
import pluggy

from loyalchat.commands.synth import synth_command
from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.reading import ImageRejected, OcrUnavailable
from loyalchat.receipts.reading.reader import DEFAULT_ENGINE, ReceiptReader, UnknownEngine
from loyalchat.tools.train_total_ranker import train_command

MAX_FILE_BYTES = 25 * 1024 * 1024

log = logging.getLogger(__name__)


@click.group("receipts")
def receipts_group() -> None:
    """Read receipt photos, propose receipt profiles, generate test receipts."""


def _reader(ctx: click.Context, engine: str, profile: ReceiptProfile | None, today: date | None):
    pm = ctx.find_object(pluggy.PluginManager)
    try:
        return ReceiptReader(engine, profile=profile, pm=pm, now=_end_of(today))
    except UnknownEngine as exc:
        raise click.ClickException(str(exc)) from exc


def _end_of(today: date | None) -> datetime | None:
    return datetime.combine(today, datetime.max.time()) if today else None


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


async def _read_one(reader: ReceiptReader, image: str) -> tuple[str, Any, str | None]:
    """(image, reading or None, error or None); only ``OcrUnavailable`` (no image can be
    read) ends a run."""
    try:
        reading = await reader.read(await asyncio.to_thread(_load, Path(image)))
    except ImageRejected as exc:
        return image, None, f"{exc.reason}: {exc}"
    except OSError as exc:
        return image, None, f"unreadable file: {exc.strerror or exc}"
    except OcrUnavailable:
        raise
    except Exception as exc:  # a bug on one odd photo must not end a batch of thousands
        log.exception("reading %s failed", image)
        return image, None, f"internal_error: {type(exc).__name__}: {exc}"
    return image, reading, None


async def read_many(
    reader: ReceiptReader, images: Iterable[str]
) -> list[tuple[str, Any, str | None]]:
    """(image, reading or None, error or None) per image, in order; never raises per file."""
    return [await _read_one(reader, image) for image in images]


def _row(image: str, reading: Any, error: str | None) -> dict[str, Any]:
    """The JSON line of one image: the reading's keys, or ``image`` and ``error``."""
    return {"image": image, "error": error} if error else reading.to_json(image)


def _rows_here(reader: ReceiptReader, images: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, row) per image, read one after the other in this process."""
    with asyncio.Runner() as runner:
        for position, image in enumerate(images):
            yield position, _row(*runner.run(_read_one(reader, image)))


# --jobs N: one process per job (image preparation, the OCR library's Python and the parser
# hold the GIL, so threads would not read in parallel), each with its own reader; the
# models load once per process, on its first image.
_worker: tuple[asyncio.Runner, ReceiptReader] | None = None


def _start_worker(
    engine: str, profile: ReceiptProfile | None, today: date | None, threads: int
) -> None:
    import signal

    from loyalchat.log import configure_logging
    from loyalchat.pluginmanager import build_plugin_manager, install_plugin_manager
    from loyalchat.settings import get_settings

    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # Read by the OCR engine when the reader is built, below.
    os.environ["LOYALCHAT_OCR_THREADS"] = str(threads)
    configure_logging(get_settings())
    pm = build_plugin_manager()
    install_plugin_manager(pm)
    reader = ReceiptReader(engine, profile=profile, pm=pm, now=_end_of(today))
    _worker = (asyncio.Runner(), reader)


def _read_in_worker(image: str) -> tuple[str, Any]:
    """("row", row) or ("unavailable", message): exceptions stay in the worker."""
    assert _worker is not None
    runner, reader = _worker
    try:
        return "row", _row(*runner.run(_read_one(reader, image)))
    except OcrUnavailable as exc:
        return "unavailable", str(exc)


def worker_threads(jobs: int, cores: int | None = None) -> int:
    """OCR threads per worker so that ``jobs`` workers together use at most every core
    (fewer if ``LOYALCHAT_OCR_THREADS`` asks for fewer)."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
        cores = cores or os.cpu_count() or 1
    threads = max(1, cores // jobs)
    raw = os.environ.get("LOYALCHAT_OCR_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        threads = min(threads, int(raw))
    return threads


def _rows_in_processes(
    images: list[str], jobs: int, engine: str, profile: ReceiptProfile | None, today: date | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, row) per image as each is read (completion order), ``jobs`` at a time."""
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),  # no forked event loop or threads
        initializer=_start_worker,
        initargs=(engine, profile, today, worker_threads(jobs)),
    )
    finished = False
    try:
        futures = {pool.submit(_read_in_worker, image): n for n, image in enumerate(images)}
        for future in as_completed(futures):
            position = futures[future]
            try:
                kind, payload = future.result()
            except BrokenProcessPool:
                payload = {"image": images[position], "error": "worker_died: the process exited"}
            else:
                if kind == "unavailable":
                    raise OcrUnavailable(payload)
            yield position, payload
        finished = True
    finally:
        if not finished:
            # Ctrl-C, a closed stdout, no OCR: stop now, not after the photos being read.
            if hasattr(pool, "terminate_workers"):  # Python 3.14
                pool.terminate_workers()
            else:
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


class _Progress:
    """Images done out of all, on stderr: a bar redrawn in place on a terminal, else (only
    with ``--progress``) one line per image. Never writes to stdout."""

    def __init__(self, total: int, file: TextIO) -> None:
        self.total = total
        self.file = file
        self.tty = file.isatty()
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        if self.tty:
            self._draw()

    def advance(self, image: str, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if self.tty:
            self._draw()
        else:
            self.file.write(f"{self._counts()}  {image}\n")
            self.file.flush()

    def clear(self) -> None:
        """Take the bar off the terminal's line before something else is printed."""
        if self.tty:
            self.file.write("\r\x1b[K")
            self.file.flush()

    def close(self) -> None:
        if self.tty:
            self.file.write("\n")
            self.file.flush()

    def _counts(self) -> str:
        text = f"{self.done}/{self.total}"
        if self.failed:
            text += f", {self.failed} failed"
        if 0 < self.done < self.total:
            left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
            text += f", {int(left) // 60}:{int(left) % 60:02d} left"
        return text

    def _draw(self) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        label, counts = "Reading receipts ", f"  {self._counts()}"
        widest = len(f"  {self.total}/{self.total}, {self.total} failed, 00:00 left")
        width = max(10, min(40, columns - len(label) - widest - 1))  # the same on each draw
        filled = width * self.done // self.total
        line = f"{label}[{'#' * filled}{'-' * (width - filled)}]{counts}"
        self.file.write("\r\x1b[K" + line[: columns - 1])
        self.file.flush()


@receipts_group.command("read")
@click.argument("images", nargs=-1, required=True)
@click.option("--engine", "engine", default=DEFAULT_ENGINE, show_default=True)
@click.option("--profile", "profile_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge dates as of this day.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image per line.")
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Images read at once, each job in its own process; the cores are shared out "
    "between them (LOYALCHAT_OCR_THREADS per job).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr. Default: a bar when stderr is a terminal and there is more "
    "than one image.",
)
@click.pass_context
def read_command(
    ctx: click.Context,
    images: tuple[str, ...],
    engine: str,
    profile_path: Path | None,
    today: datetime | None,
    as_json: bool,
    jobs: int,
    progress: bool | None,
) -> None:
    """Read merchant, date, total and more off receipt photos.

    Each image is printed as soon as it is read, in the order given (with --jobs, an image
    read early waits for those before it). With --json: one JSON object per image and
    line, with "image" in each; an image that cannot be read gives {"image", "error"} and
    the run goes on. Exit status 1 when any image could not be read.
    """
    day = today.date() if today else None
    profile = _load_profile(profile_path)
    reader = _reader(ctx, engine, profile, day)  # an unknown engine fails here, before any job
    paths = list(images)
    jobs = min(jobs, len(paths))
    show_progress = progress if progress is not None else len(paths) > 1 and sys.stderr.isatty()
    bar = _Progress(len(paths), sys.stderr) if show_progress else None

    def emit(row: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))  # click.echo flushes
        elif "error" in row:
            click.echo(f"{row['image']}: {row['error']}", err=True)
        else:
            _print_reading(row)

    rows = (
        _rows_in_processes(paths, jobs, engine, profile, day)
        if jobs > 1
        else _rows_here(reader, paths)
    )
    waiting: dict[int, dict[str, Any]] = {}
    printed = failed = 0
    try:
        for position, row in rows:
            failed += "error" in row
            waiting[position] = row
            if bar:
                bar.clear()
            while printed in waiting:
                emit(waiting.pop(printed))
                printed += 1
            if bar:
                bar.advance(row["image"], "error" in row)
    except OcrUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    except BrokenPipeError:
        # The reader of stdout has gone (`| head`): stop, and say nothing more on stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        ctx.exit(1)
    finally:
        rows.close()  # stops the jobs still running (Ctrl-C, an error)
        if bar:
            bar.close()
    if failed:
        click.echo(f"{failed} of {len(paths)} images could not be read.", err=True)
        ctx.exit(1)


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
receipts_group.add_command(train_command)

__all__ = ["read_many", "receipts_group"]
