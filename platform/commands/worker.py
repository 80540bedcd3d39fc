"""``loyalchat worker`` and ``loyalchat scheduler``: the queue's processes when Redis is used.

``worker`` runs dramatiq's own worker CLI on :mod:`loyalchat.tasks.bootstrap` (process
supervision, graceful shutdown on SIGTERM, restarts are dramatiq's). ``scheduler`` sends
the periodic jobs; run one or more (a Redis lock keeps them from sending a job twice).
Without ``LOYALCHAT_REDIS_URL`` neither is needed: ``loyalchat serve`` runs both in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import click

from loyalchat.settings import get_settings

BOOTSTRAP_MODULE = "loyalchat.tasks.bootstrap"


def _require_redis() -> str:
    url = get_settings().redis_url
    if not url:
        raise click.ClickException(
            "LOYALCHAT_REDIS_URL is not set. Separate worker and scheduler processes need a "
            "shared Redis queue; without Redis, `loyalchat serve` runs the worker in-process."
        )
    return url


def dramatiq_args(processes: int, threads: int, queues: tuple[str, ...] = ()) -> list[str]:
    """Arguments for ``dramatiq.cli`` that run our bootstrap module."""
    args = [BOOTSTRAP_MODULE, "--processes", str(processes), "--threads", str(threads)]
    if queues:
        args += ["--queues", *queues]
    return args


@click.command("worker")
@click.option(
    "--processes", "-p", type=int, default=None, help="Default: LOYALCHAT_WORKER_PROCESSES."
)
@click.option("--threads", "-t", type=int, default=None, help="Default: LOYALCHAT_WORKER_THREADS.")
@click.option("--queues", "-Q", multiple=True, help="Only these queues (default: all).")
def worker_command(processes: int | None, threads: int | None, queues: tuple[str, ...]) -> None:
    """Process queued work (needs LOYALCHAT_REDIS_URL)."""
    _require_redis()
    settings = get_settings()
    # Each worker process reads one photo at a time unless told otherwise: processes are
    # how a queue deployment uses more cores, and two copies of the OCR models in each of
    # two processes on two cores made a burst of photos slower (bench/receipt_pipeline.py:
    # p50 4.1 s instead of 2.9 s). ``serve``, a single process, reads two at once.
    os.environ.setdefault("LOYALCHAT_OCR_LANES", "1")
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    args = make_argument_parser().parse_args(
        dramatiq_args(
            processes or settings.worker_processes, threads or settings.worker_threads, queues
        )
    )
    sys.exit(dramatiq_main(args))


@click.command("scheduler")
@click.option("--tick", type=float, default=1.0, show_default=True, help="Seconds between checks.")
def scheduler_command(tick: float) -> None:
    """Send periodic jobs such as the sweeper (needs LOYALCHAT_REDIS_URL)."""
    _require_redis()
    asyncio.run(_run_scheduler(tick))


async def _run_scheduler(tick: float) -> None:
    from loyalchat import db
    from loyalchat.tasks import import_actors, setup_broker
    from loyalchat.tasks.scheduler import run_scheduler

    settings = get_settings()
    db.configure_database(settings)
    setup_broker(settings)
    import_actors()
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop_event.set)
    click.echo(f"loyalchat scheduler running (tick {tick}s); Ctrl+C stops", err=True)
    await run_scheduler(stop_event, tick_seconds=tick)
