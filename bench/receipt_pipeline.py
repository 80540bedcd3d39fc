"""Receipt pipeline benchmark: photo to reply in the chat, throughput, accuracy.

Run: ``.venv/bin/python bench/receipt_pipeline.py [--mode embedded|pg|both] [--rounds 3]
[--customers 10] [--saturation 60] [--skip-latency] [--skip-accuracy] [--limit N]``.

1. Photo to reply: ``--customers`` customers (joined beforehand) each send a photo of a
   receipt of the shop at the same moment, ``--rounds`` times; from each signed WhatsApp
   webhook POST to the bot's reply about that receipt reaching the fake Graph API
   (``tests/fakes/graph_api.py``, a thread of this process, which also serves the photos):
   p50 / p95 (issue 11's targets: p50 <= 3 s, p95 <= 10 s), the outcome of each receipt,
   and where the time went (webhook -> receipt row -> decided -> reply at the fake, from
   the rows' timestamps), with the CPU used per photo by each process and OCR alone.
   ``embedded``: ``loyalchat serve`` on SQLite with its in-process worker, as
   ``scripts/run`` starts it; ``pg``: PostgreSQL + Redis, one web process and two
   ``loyalchat worker`` processes.
2. Saturation: ``--saturation`` photos from as many customers posted at once; receipts
   per minute (first POST to last reply) and per minute per core.
3. Accuracy (``bench/receipt_accuracy.py``): a mixed set of real and generated receipts
   with duplicates, other shops' and old receipts planted, through
   ``loyalchat.receipts.pipeline.process`` (no HTTP): the truth against the outcome.

The shop's photos are drawn by ``loyalchat.tools.receipt_synth`` with the shop's name
(``receipt_pipeline_support.py``). PostgreSQL database ``--database-url`` (default
``bench_receipts``) is DROPPED and rebuilt, Redis ``--redis-url`` (default db 11) FLUSHED.
The load average is printed with each phase: other work on the machine slows every figure.

Run on 2 cores, 6 Dec 2026, nothing else running (3 rounds of 10, then 60 at once): both
targets met. Embedded: p50 2.73 s, p95 3.97 s, one photo alone 0.70 s, 79 receipts a
minute per core; PostgreSQL + Redis, two workers: p50 2.50 s, p95 3.89 s, alone 0.93 s,
95 a minute per core. (5 Dec: p50 13 s, p95 17-23 s.) What it took, in order: OCR on
OpenVINO; photos on a queue of their own; no PNG round trip; narrower recognition crops;
two OCR lanes per ``serve`` process (one read keeps about one core busy, so one lane left
the second core half idle: the last of ten replies came after 7.3 s, 4.5 s with two);
the OCR models loaded when a worker boots (a worker's first photo waited ~2 s for them);
idle queue consumers polling every 100 ms instead of backing off to 1 s (a photo crosses
three queues); the duplicate fingerprint worked out while the photo is read.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from channels import Processes, free_port, in_child, loadavg, postgres_cpu, tree_cpu  # noqa: E402
from channels_support import percentile, wait_until  # noqa: E402
from receipt_pipeline_support import (  # noqa: E402
    APP_SECRET,
    ReplyFake,
    ocr_alone_child,
    receipt_rows_child,
    setup_child,
    shop_photos,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_receipts"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
TARGET_P50_S, TARGET_P95_S = 3.0, 10.0
REPLY_TIMEOUT_S = 300.0


async def start_server(procs: Processes, port: int, web: int, name: str) -> subprocess.Popen:
    """``loyalchat serve`` on ``port``, once it answers /health."""
    import httpx

    args = ["serve", "--port", str(port)] + (["--workers", str(web)] if web > 1 else [])
    process = procs.start(name, *args)
    async with httpx.AsyncClient() as client:
        for _ in range(900):
            if process.poll() is not None:
                raise SystemExit(f"the server exited: see {procs.log_dir / name}.log")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    await asyncio.sleep(1 + web)
                    return process
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


class Chat:
    """Signed WhatsApp webhooks from customers to the shop, and their replies at the fake."""

    def __init__(self, fake: ReplyFake, port: int, shop: dict, client) -> None:
        self.fake, self.shop, self.client = fake, shop, client
        self.url = f"http://127.0.0.1:{port}/hooks/whatsapp/{shop['slug']}"

    async def post(self, message) -> None:
        from tests.fakes.whatsapp_webhooks import signed, webhook

        payload = webhook(message, phone_number_id=self.shop["phone_number_id"])
        body, headers = signed(payload, APP_SECRET)
        try:
            answer = await self.client.post(self.url, content=body, headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            # A kept-alive connection the server closed as this request went out: sent
            # again, as Meta would (the webhook is deduplicated by its message id).
            answer = await self.client.post(self.url, content=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"webhook answered {answer.status_code}: {answer.text[:200]}")

    async def join(self, senders: list[str]) -> None:
        """First contact ("hi") from each: they become members; the welcomes are not timed."""
        from tests.fakes.whatsapp_webhooks import text_message

        for sender in senders:
            await self.post(text_message("hi", wa_id=sender))
        await wait_until(lambda: all(self.fake.replies_to(s, 0) for s in senders), 180)
        await asyncio.sleep(1.5)  # the welcomes' last sends

    async def photos(
        self, senders: list[str], photos: list[bytes]
    ) -> dict[str, tuple[float, float]]:
        """Each sender posts one photo, all at once; (perf_counter, wall clock) of each POST."""
        from tests.fakes.whatsapp_webhooks import image_message

        pnid = self.shop["phone_number_id"]
        messages = [
            image_message(self.fake.add_media(data, phone_number_id=pnid), wa_id=sender)
            for sender, data in zip(senders, photos, strict=True)
        ]
        posted: dict[str, tuple[float, float]] = {}

        async def one(sender: str, message) -> None:
            posted[sender] = (time.perf_counter(), time.time())
            await self.post(message)

        await asyncio.gather(*(one(s, m) for s, m in zip(senders, messages, strict=True)))
        return posted

    def reply(self, sender: str, after: float) -> tuple[float, float, str] | None:
        found = self.fake.replies_to(sender, after)
        return found[0] if found else None

    async def replies(self, posted: dict[str, tuple[float, float]]) -> dict[str, tuple]:
        await wait_until(lambda: all(self.reply(s, p[0]) for s, p in posted.items()),
                         REPLY_TIMEOUT_S, step=0.01)  # fmt: skip
        return {s: self.reply(s, p[0]) for s, p in posted.items()}


def cpu_now(pids: dict[str, int]) -> dict[str, float]:
    return {name: tree_cpu(pid) for name, pid in pids.items()}


async def measure(args, fake, port, shop, pids, env, label, photos) -> dict:
    """Phase 1 (rounds of --customers at once) and phase 2 (--saturation at once)."""
    import httpx

    n, rounds = args.customers, args.rounds
    tag = "1" if label == "pg" else "0"
    customers = [f"8527{tag}{i:06d}" for i in range(n)]
    crowd = [f"8528{tag}{i:06d}" for i in range(args.saturation)]
    samples: list[dict] = []
    pg = env["LOYALCHAT_DATABASE_URL"] if label == "pg" else ""
    async with httpx.AsyncClient(timeout=60) as client:
        chat = Chat(fake, port, shop, client)
        await chat.join(customers + crowd)
        alone: list[float] = []
        for i in range(args.alone):  # one photo, nothing else running: the floor
            sender = customers[i % n]
            posted = await chat.photos([sender], [photos[-1 - i]])
            at, _, _ = (await chat.replies(posted))[sender]
            alone.append(at - posted[sender][0])
            await asyncio.sleep(0.5)
        cpu0, db0 = cpu_now(pids), (await postgres_cpu(pg) if pg else 0.0)
        for r in range(rounds):
            print(f"  [{label}] round {r + 1}/{rounds}: {loadavg()}", file=sys.stderr)
            batch = photos[r * n : (r + 1) * n]
            posted = await chat.photos(customers, batch)
            replies = await chat.replies(posted)
            for sender in customers:
                at, wall, text = replies[sender]
                samples.append({"sender": sender, "round": r, "posted": posted[sender][1],
                                "seconds": at - posted[sender][0], "reply_wall": wall,
                                "text": text})  # fmt: skip
            await asyncio.sleep(1)
        cpu1, db1 = cpu_now(pids), (await postgres_cpu(pg) if pg else 0.0)
        saturation = {}
        if args.saturation:
            print(f"  [{label}] {args.saturation} at once: {loadavg()}", file=sys.stderr)
            batch = photos[rounds * n : rounds * n + args.saturation]
            started = time.perf_counter()
            posted = await chat.photos(crowd, batch)
            replies = await chat.replies(posted)
            last = max(at for at, _, _ in replies.values())
            cpu2, db2 = cpu_now(pids), (await postgres_cpu(pg) if pg else 0.0)
            seconds = last - started
            saturation = {
                "count": len(crowd), "seconds": seconds,
                "per_minute": len(crowd) / seconds * 60,
                "per_minute_per_core": len(crowd) / seconds * 60 / os.cpu_count(),
                "cpu_ms": {k: (cpu2[k] - cpu1[k]) * 1000 / len(crowd) for k in cpu2}
                | ({"postgres": (db2 - db1) * 1000 / len(crowd)} if pg else {}),
                "load_after": loadavg(),
            }  # fmt: skip
    photos_sent = n * rounds
    cpu = {k: (cpu1[k] - cpu0[k]) * 1000 / photos_sent for k in cpu1}
    if pg:
        cpu["postgres"] = (db1 - db0) * 1000 / photos_sent
    rows = await asyncio.get_running_loop().run_in_executor(
        None, in_child, receipt_rows_child, {"env": env, "tenant": shop["id"]}
    )
    return {"samples": samples, "cpu_ms": cpu, "rows": rows, "saturation": saturation,
            "load_after": loadavg(), "alone": alone}  # fmt: skip


def phases(samples: list[dict], rows: list[dict]) -> dict[str, list[float]]:
    """Per receipt: POST -> row stored, row -> decided (queue wait + reading + checks +
    credit), decided -> reply at the fake (outbox + send); wall-clock seconds."""
    by_sender: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda row: row["id"]):
        by_sender.setdefault(str(row.get("sender") or ""), []).append(row)
    out: dict[str, list[float]] = {"stored": [], "decided": [], "replied": []}
    for sample in samples:
        mine = [row for key, group in by_sender.items() if key.endswith(sample["sender"])
                for row in group if row["created_at"] and row["created_at"] >= sample["posted"] - 1]  # fmt: skip
        if not mine:
            continue
        row = min(mine, key=lambda row: row["created_at"])
        decided = row["decided_at"] or row["updated_at"]
        out["stored"].append(row["created_at"] - sample["posted"])
        out["decided"].append(decided - row["created_at"])
        out["replied"].append(sample["reply_wall"] - decided)
    return out


def report_latency(label: str, result: dict, ocr: dict) -> None:
    samples = result["samples"]
    secs = [s["seconds"] for s in samples]
    p50, p95 = percentile(secs, 50), percentile(secs, 95)
    statuses = Counter(row["status"] for row in result["rows"])
    reasons = Counter(r for row in result["rows"] for r in row["reasons"] or [])
    print(f"\n1{label[0]}. photo to reply, {label}: {len(secs)} photos")
    print(f"  {'':<28}{'p50':>8}{'p95':>8}{'max':>8}  target")
    print(f"  {'POST -> reply at the fake':<28}{p50:>7.2f}s{p95:>7.2f}s{max(secs):>7.2f}s"
          f"  p50 <= {TARGET_P50_S:g} s {'met' if p50 <= TARGET_P50_S else 'MISSED'}, "
          f"p95 <= {TARGET_P95_S:g} s {'met' if p95 <= TARGET_P95_S else 'MISSED'}")  # fmt: skip
    for name, values in phases(samples, result["rows"]).items():
        if values:
            print(f"  {'  ' + name + ' (from the previous step)':<28}{percentile(values, 50):>7.2f}s"
                  f"{percentile(values, 95):>7.2f}s{max(values):>7.2f}s")  # fmt: skip
    if result["alone"]:
        alone = result["alone"]
        print(f"  {'one photo alone (' + str(len(alone)) + ')':<28}{percentile(alone, 50):>7.2f}s"
              f"{percentile(alone, 95):>7.2f}s{max(alone):>7.2f}s  (before the rounds, nothing else sent)")  # fmt: skip
    by_round = {}
    for s in samples:
        by_round.setdefault(s["round"], []).append(s["seconds"])
    print("  by round (p50 / max s): " + ", ".join(
        f"{r + 1}: {percentile(v, 50):.2f} / {max(v):.2f}" for r, v in sorted(by_round.items())))  # fmt: skip
    if not result["rows"]:
        print("  NO RECEIPT ROWS: no receipt_received hook took the photos; the times above "
              "are the bot's holding reply, not the pipeline's")  # fmt: skip
    print(f"  outcomes of all receipts in this mode: {dict(statuses)}; reasons {dict(reasons)}")
    texts = Counter(s["text"][:70] for s in samples)
    print(f"  reply texts (first 70 chars): {dict(texts.most_common(3))}")
    cpu = result["cpu_ms"]
    print("  CPU per photo in this run (ms, /proc of each process tree): "
          + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
          + f" = {sum(cpu.values()):.0f} ms in all")  # fmt: skip
    print("  " + alone_line(ocr))
    print(f"  {result['load_after']} after")


def alone_line(steps: dict) -> str:
    """The pipeline's heavy steps, one photo at a time on an otherwise idle process."""
    parts = []
    for name, step in steps.items():
        wall, cpu = percentile(step["wall_ms"], 50), percentile(step["cpu_ms"], 50)
        parts.append(f"{name} {wall:.0f} ms wall / {cpu:.0f} ms CPU")
    wall = sum(percentile(s["wall_ms"], 50) for s in steps.values())
    cpu = sum(percentile(s["cpu_ms"], 50) for s in steps.values())
    return (f"alone, one photo at a time (p50 of {len(next(iter(steps.values()))['wall_ms'])}): "
            + ", ".join(parts) + f"; in all {wall:.0f} ms wall, {cpu:.0f} ms CPU "
            f"({cpu / max(wall, 1):.2f} cores busy)")  # fmt: skip


def report_saturation(label: str, sat: dict) -> None:
    if not sat:
        return
    print(f"\n2{label[0]}. saturation, {label}: {sat['count']} photos posted at once: last reply "
          f"after {sat['seconds']:.1f} s = {sat['per_minute']:.1f} receipts/min = "
          f"{sat['per_minute_per_core']:.1f} per minute per core ({os.cpu_count()} cores); "
          "CPU per photo (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in sat["cpu_ms"].items())
          + f"; {sat['load_after']} after")  # fmt: skip


async def run_mode(args, fake: ReplyFake, label: str, photos: list[bytes], var: Path) -> dict:
    env = {
        **os.environ, "LOYALCHAT_VAR_DIR": str(var / label), "LOYALCHAT_LOG_LEVEL": "WARNING",
        "LOYALCHAT_WHATSAPP_API_BASE": fake.base_url, "LOYALCHAT_WHATSAPP_APP_SECRET": APP_SECRET,
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    if args.ocr_threads:
        env["LOYALCHAT_OCR_THREADS"] = str(args.ocr_threads)
    if args.worker_threads:
        env["LOYALCHAT_WORKER_THREADS"] = str(args.worker_threads)
    env.update(item.split("=", 1) for item in args.env)
    (var / label).mkdir(parents=True, exist_ok=True)
    if label == "embedded":
        env.update(
            LOYALCHAT_DATABASE_URL=f"sqlite:///{var}/{label}/bench.db", LOYALCHAT_REDIS_URL=""
        )
    else:
        env.update(LOYALCHAT_DATABASE_URL=args.database_url, LOYALCHAT_REDIS_URL=args.redis_url)
    procs = Processes(env, var / label)
    loop = asyncio.get_running_loop()
    try:
        shop = await loop.run_in_executor(None, in_child, setup_child, {"env": env})
        port = free_port()
        web = await start_server(procs, port, 1, "web")
        pids = {"web": web.pid}
        if label == "pg":
            for i in range(args.workers):
                worker = procs.start(f"worker{i + 1}", "worker", "--processes", "1")
                pids[f"worker{i + 1}"] = worker.pid
            await asyncio.sleep(4)
        print(f"[{label}] {env['LOYALCHAT_DATABASE_URL']}, server pid {web.pid}, logs in "
              f"{var / label}; {loadavg()}", file=sys.stderr)  # fmt: skip
        return await measure(args, fake, port, shop, pids, env, label, photos)
    finally:
        procs.stop_all()


def header(args) -> None:
    head = subprocess.run(["git", "-C", str(ROOT), "log", "--oneline", "-1"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, HEAD {head}; {os.cpu_count()} cores;"
          f" {loadavg()}; LOYALCHAT_OCR_THREADS={args.ocr_threads or os.environ.get('LOYALCHAT_OCR_THREADS', '(default: every core)')},"
          f" LOYALCHAT_WORKER_THREADS={args.worker_threads or '(default 4)'}, more env {args.env or '-'}")  # fmt: skip


async def latency(args) -> None:
    modes = ["embedded", "pg"] if args.mode == "both" else [args.mode]
    today = dt.date.today()  # the shop's day (Hong Kong) is the bench's: run it by day
    count = args.customers * args.rounds + args.saturation + args.alone
    print(f"drawing {count} receipt photos of the shop...", file=sys.stderr)
    drawn = shop_photos(count, today)
    photos = [data for _, data in drawn]
    kb = sum(len(p) for p in photos) / len(photos) / 1024
    print(f"photos: {count} drawn receipts of the shop (receipt_synth hk, seeds from 910000, "
          f"dated today, {kb:.0f} KB JPEG on average)")  # fmt: skip
    ocr_env = {"LOYALCHAT_OCR_THREADS": str(args.ocr_threads)} if args.ocr_threads else {}
    ocr = in_child(ocr_alone_child, {"env": ocr_env, "photos": photos[: args.ocr_samples]})
    fake = ReplyFake().start()
    var = Path(tempfile.mkdtemp(prefix="lc-bench-receipts-"))
    try:
        for label in modes:
            fake.clear()
            result = await run_mode(args, fake, label, photos, var)
            report_latency(label, result, ocr)
            report_saturation(label, result["saturation"])
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "pg", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=10, help="photos sent at once")
    parser.add_argument("--saturation", type=int, default=60, help="photos at once (0: skip)")
    parser.add_argument("--workers", type=int, default=2, help="loyalchat worker processes (pg)")
    parser.add_argument("--worker-threads", type=int, default=0, help="LOYALCHAT_WORKER_THREADS")
    parser.add_argument("--ocr-threads", type=int, default=0, help="LOYALCHAT_OCR_THREADS")
    parser.add_argument("--alone", type=int, default=3, help="photos sent one at a time first")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE",
        help="more environment for the server and workers (e.g. dramatiq_queue_prefetch=1)",
    )  # fmt: skip
    parser.add_argument("--ocr-samples", type=int, default=6, help="photos read alone")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="DROPPED and rebuilt")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="FLUSHED")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="accuracy: at most N receipts")
    parser.add_argument(
        "--dupes",
        type=int,
        default=4,
        help="accuracy: exact re-sends and re-photographs per set, each",
    )
    parser.add_argument("--accuracy-db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--seed", type=int, default=20261205, help="accuracy: generated receipts")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # figures reach a log file as they come
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    header(args)
    if not args.skip_latency:
        asyncio.run(latency(args))
    if not args.skip_accuracy:
        import receipt_accuracy

        receipt_accuracy.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
