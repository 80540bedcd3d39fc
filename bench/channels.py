"""Chat channels benchmark: webhook ingest, outbound pacing and reply latency, for real.

Run: ``.venv/bin/python bench/channels.py [--database-url URL] [--redis-url URL]
[--web-processes 3] [--rate 2000] [--seconds 10] [--route shop|platform] [--only ingest|pacing]
[--json]``.

It DROPS and rebuilds the ``public`` schema of the PostgreSQL database it is given (default
``postgresql://postgres@127.0.0.1:5432/lc_bench_channels``, created if missing) and FLUSHES
the Redis database it is given (default ``redis://127.0.0.1:6379/15``), makes three shops
with WhatsApp connected (app secret, token, phone number id) and a fake Graph API
(``tests/fakes/graph_api.py``, a thread of this process) to send to, then measures:

1. Webhook ingest: ``loyalchat serve --workers N`` (PostgreSQL + Redis) takes signed
   WhatsApp webhooks (``X-Hub-Signature-256``, a unique message id each) from
   ``bench/webhook_load.py`` (pre-built, pre-signed, raw HTTP/1.1, ``--generators``
   processes) at ``--rate`` a second (0: as fast as it answers) for ``--seconds``:
   accepted per second, latency p50/p95/p99 from when each request was due, errors. Then
   ``loyalchat worker`` starts and the time it takes to process the backlog is printed.
2. Outbound pacing: ``--burst`` replies of one account (one number) queued at once, to
   ``--burst-recipients`` people (one person's messages leave one at a time, in order: 1
   measures that), the account's ``rate_per_second`` set to ``--send-rate``, sent by the
   worker's ``send_outbound`` actor to the fake: rate first to last, the most sends in any
   one-second window.
3. Reply latency: a signed "積分" to the answer reaching the fake, p50/p95, on
   PostgreSQL + Redis (server and worker as above) and embedded (SQLite, one process with
   its in-process worker).

With ``--json`` the last line printed is one JSON object: ``webhook_accepted_per_s``,
``webhook_p99_ms``, ``outbound_rate_per_s``, ``outbound_max_window_per_s``, ``reply_p50_ms``
and ``reply_p95_ms`` (each ``{"postgres_redis": ..., "embedded": ...}``), and more.
The machine's load average is printed with each phase: other work on it slows every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import webhook_load  # noqa: E402
from channels_support import (  # noqa: E402
    APP_SECRET,
    GraphFake,
    load,
    percentile,
    queue_burst_child,
    setup_child,
    wait_until,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/lc_bench_channels"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
# Where phase 1 posts: the shop's own Meta app URL, or the platform's app (routed by number).
ROUTES = {"shop": "/hooks/whatsapp/{slug}", "platform": "/hooks/whatsapp"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_child(function, job: dict):
    """``function(job)`` in a fresh ``spawn`` process (its own settings and database)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, job).result()


class Processes:
    """The server and worker processes started here, stopped (by their pid) at the end."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir, self.started = env, log_dir, []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "loyalchat", *args]
        output = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, env=self.env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT
        )
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)


async def serve(procs: Processes, port: int, workers: int, name: str) -> subprocess.Popen:
    process = procs.start(name, "serve", "--port", str(port), "--workers", str(workers))
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"the server exited: see {procs.log_dir / name}.log")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    await asyncio.sleep(1 + workers)  # every web process up, not just one
                    return process
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its descendants (Linux /proc)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, ValueError, IndexError):
            continue
        todo.extend(int(child) for child in children)
    return total


async def postgres_cpu(url: str) -> float:
    """CPU seconds used so far by the server's backends connected to this database."""
    pids = await load(url, "SELECT array_agg(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")  # fmt: skip
    return sum(tree_cpu(pid) for pid in pids or ())


def loadavg() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


async def ingest(args, procs: Processes, port: int, shop: dict, web: int) -> dict:
    """Phase 1: the load generators against the running server, then the drain."""
    per = max(1, args.generators)
    start_at = time.time() + 4 + per  # the generators are up; then warm-up, then measured
    jobs = [
        {
            "host": "127.0.0.1", "port": port, "path": ROUTES[args.route].format(slug=shop["slug"]),
            "phone_number_id": shop["phone_number_id"], "app_secret": shop["app_secret"],
            "rate": args.rate / per, "connections": args.connections, "seconds": args.seconds,
            "start_at": start_at, "process": i, "run": "I", "senders": args.senders,
            "warmup": args.warmup,
            "count": int((args.rate / per if args.rate else 8000) * (args.seconds + args.warmup) * 1.1) + 100,
        }
        for i in range(per)
    ]  # fmt: skip
    print(f"1. webhook ingest: {loadavg()} before", file=sys.stderr)
    web_cpu, db_cpu = tree_cpu(web), await postgres_cpu(args.database_url)
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=per, mp_context=context) as pool:
        results = await asyncio.gather(
            *(loop.run_in_executor(pool, webhook_load.run_process, job) for job in jobs)
        )
    web_cpu = tree_cpu(web) - web_cpu
    db_cpu = await postgres_cpu(args.database_url) - db_cpu  # backends opened meanwhile: all
    load_cpu = sum(r["cpu_seconds"] for r in results)
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[int(status)] = statuses.get(int(status), 0) + count
    latencies = [value for r in results for value in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    elapsed = max(r["elapsed"] for r in results)
    accepted = statuses.get(200, 0)
    answered = accepted + sum(r["warmup_answered"] for r in results)  # what the CPU paid for
    refused = sum(count for status, count in statuses.items() if status != 200)
    stored = await load(args.database_url, "SELECT count(*) FROM inbound_event WHERE tenant = $1",
                        shop["id"])  # fmt: skip
    figures = {
        "accepted": accepted, "accepted_per_s": accepted / elapsed, "seconds": elapsed,
        "p50_ms": percentile(latencies, 50) * 1000, "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000, "refused": refused,
        "errors": len(errors), "stored": stored, "load_after": loadavg(),
        "cpu_ms": {"web": web_cpu * 1000 / max(answered, 1),
                   "postgres": db_cpu * 1000 / max(answered, 1),
                   "generator": load_cpu * 1000 / max(answered, 1)},
    }  # fmt: skip
    print(
        f"  {accepted} accepted in {elapsed:.1f} s = {figures['accepted_per_s']:.0f}/s "
        f"(target rate {args.rate or 'closed loop'}/s, {per} generator processes x "
        f"{args.connections} connections, {args.web_processes} web processes, POST "
        f"{jobs[0]['path']}, after {args.warmup:g} s of warm-up: {answered - accepted} more "
        f"answered, not counted); latency from "
        f"due time p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, p99 "
        f"{figures['p99_ms']:.1f} ms; non-200 answers {refused} {statuses}, connection "
        f"errors {len(errors)} {errors[:3]}; rows stored {stored} (warm-up's included); "
        f"{loadavg()} after"
    )
    by_second: dict[int, list[float]] = {}
    for r in results:
        for offset, latency in zip(r["offsets"], r["latencies"], strict=True):
            by_second.setdefault(int(offset), []).append(latency)
    figures["p99_ms_by_second"] = [
        round(percentile(by_second[s], 99) * 1000, 1) for s in sorted(by_second)
    ]
    print(f"  p99 of each second (ms): {figures['p99_ms_by_second']}")
    cpu = figures["cpu_ms"]
    print(
        f"  CPU per accepted webhook (whatever else runs on the machine): web processes "
        f"{cpu['web']:.2f} ms, PostgreSQL backends {cpu['postgres']:.2f} ms, load generator "
        f"{cpu['generator']:.2f} ms: {os.cpu_count()} idle cores would take about "
        f"{os.cpu_count() * 1000 / max(sum(cpu.values()), 1e-9):.0f}/s"
    )
    return figures


async def drain(args, procs: Processes, shop: dict) -> dict:
    """Start the worker and time it through the ingest backlog (capped at --drain-timeout)."""
    query = "SELECT count(*) FROM inbound_event WHERE tenant = $1 AND status IN ('done', 'failed')"
    total = await load(args.database_url, "SELECT count(*) FROM inbound_event WHERE tenant = $1",
                       shop["id"])  # fmt: skip
    started = time.perf_counter()
    worker = procs.start("worker", "worker", "--processes", str(args.worker_processes),
                         "--threads", str(args.worker_threads))  # fmt: skip
    done = 0
    with click.progressbar(length=total, label="  worker draining", file=sys.stderr) as bar:
        while time.perf_counter() - started < args.drain_timeout:
            now_done = await load(args.database_url, query, shop["id"])
            bar.update(now_done - done)
            done = now_done
            if done >= total:
                break
            await asyncio.sleep(0.5)
    seconds = time.perf_counter() - started
    print(
        f"  worker ({args.worker_processes} process x {args.worker_threads} threads, started "
        f"after the run): {done}/{total} events processed in {seconds:.0f} s "
        f"({done / seconds:.0f}/s, start-up included)"
        + ("" if done >= total else f"; stopped at --drain-timeout, {total - done} left")
    )
    return {"worker": worker, "processed": done, "total": total, "seconds": seconds}


async def pacing(args, fake: GraphFake, env: dict, shop: dict) -> dict:
    """Phase 2: a burst queued at once, paced by the real send actor."""
    print(f"2. outbound pacing: {loadavg()} before", file=sys.stderr)
    fake.clear()
    job = {"env": env, "shop": shop, "count": args.burst, "recipients": args.burst_recipients}
    await asyncio.get_running_loop().run_in_executor(None, in_child, queue_burst_child, job)
    budget = args.burst / args.send_rate * 1.5 + 60
    await wait_until(lambda: len(fake.times_for(shop["phone_number_id"])) >= args.burst, budget)
    times = sorted(t for t, _ in fake.times_for(shop["phone_number_id"]))
    if len(times) < 2:
        raise SystemExit(f"only {len(times)} sends reached the fake")
    rate = (len(times) - 1) / (times[-1] - times[0])
    window = max(
        sum(1 for later in times[i:] if later < start + 1.0) for i, start in enumerate(times)
    )
    within = abs(rate - args.send_rate) <= 0.05 * args.send_rate
    print(
        f"  {len(times)} sends to {min(args.burst_recipients, args.burst)} people at "
        f"{args.send_rate:g}/s configured: {rate:.2f}/s first to last "
        f"({times[-1] - times[0]:.2f} s), at most {window} in any one-second window; within "
        f"5%: {'yes' if within else 'NO'}; never above the rate: "
        f"{'yes' if window <= args.send_rate else 'NO'}; {loadavg()} after"
    )
    return {"rate": rate, "max_window": window, "sent": len(times), "within_5pct": within}


async def reply_latency(args, fake: GraphFake, port: int, shop: dict, label: str) -> dict:
    """Phase 3: join ``--replies`` senders, then a "積分" from each, one at a time."""
    import httpx

    from tests.fakes.whatsapp_webhooks import signed, text_message, webhook

    print(f"3. reply latency ({label}): {loadavg()} before", file=sys.stderr)
    pnid = shop["phone_number_id"]
    url = f"http://127.0.0.1:{port}/hooks/whatsapp/{shop['slug']}"
    senders = [f"8536{int('SQLite' in label)}{n:06d}" for n in range(args.replies)]

    def answered(sender: str, after: float) -> float | None:
        found = [t for t, to in fake.times_for(pnid) if to.endswith(sender) and t > after]
        return min(found) if found else None

    samples: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for sender in senders:  # first contact: the member joins (a welcome, not measured)
            body, headers = signed(webhook(text_message("hi", wa_id=sender), phone_number_id=pnid),
                                   shop["app_secret"])  # fmt: skip
            assert (await client.post(url, content=body, headers=headers)).status_code == 200
        await wait_until(lambda: all(answered(s, 0) for s in senders), 120)
        await asyncio.sleep(1)  # the welcomes' last sends
        bar = click.progressbar(senders, label="  積分 -> reply", file=sys.stderr)
        with bar:
            for sender in bar:
                body, headers = signed(webhook(text_message("積分", wa_id=sender), phone_number_id=pnid),
                                       shop["app_secret"])  # fmt: skip
                posted = time.perf_counter()
                answer = await client.post(url, content=body, headers=headers)
                assert answer.status_code == 200, answer.text
                await wait_until(
                    lambda sender=sender, posted=posted: answered(sender, posted), 30, step=0.001
                )
                samples.append(answered(sender, posted) - posted)
    figures = {"p50_ms": percentile(samples, 50) * 1000, "p95_ms": percentile(samples, 95) * 1000}
    print(
        f"  {label}: {len(samples)} replies, 積分 to the card reply at the fake p50 "
        f"{figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms; {loadavg()} after"
    )
    return figures


async def ingest_and_drain(args, procs: Processes, port: int, shop: dict, web: int, result: dict):
    """Phase 1 and the drain; the queue is emptied after (a backlog would delay phase 2)."""
    figures = await ingest(args, procs, port, shop, web)
    result.update(webhook_accepted_per_s=round(figures["accepted_per_s"], 1),
                  webhook_p50_ms=round(figures["p50_ms"], 1),
                  webhook_p95_ms=round(figures["p95_ms"], 1),
                  webhook_p99_ms=round(figures["p99_ms"], 1),
                  webhook_errors=figures["errors"] + figures["refused"],
                  webhook_cpu_ms={k: round(v, 3) for k, v in figures["cpu_ms"].items()})  # fmt: skip
    drained = await drain(args, procs, shop)
    result.update(drain_seconds=round(drained["seconds"], 1), drain_processed=drained["processed"],
                  drain_total=drained["total"])  # fmt: skip
    procs.stop(drained["worker"])
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()


async def run(args: argparse.Namespace) -> dict:
    var = Path(tempfile.mkdtemp(prefix="lc-bench-channels-"))
    fake = GraphFake().start()
    env = {
        **os.environ, "LOYALCHAT_DATABASE_URL": args.database_url,
        "LOYALCHAT_REDIS_URL": args.redis_url, "LOYALCHAT_VAR_DIR": str(var),
        "LOYALCHAT_LOG_LEVEL": "WARNING", "LOYALCHAT_WHATSAPP_API_BASE": fake.base_url,
        "LOYALCHAT_WHATSAPP_APP_SECRET": APP_SECRET,
        "LOYALCHAT_DATABASE_POOL_SIZE": str(args.pool_size), "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    procs = Processes(env, var)
    result: dict = {"reply_p50_ms": {}, "reply_p95_ms": {}}
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"logs and the SQLite file in {var}; {os.cpu_count()} cores; {loadavg()}")
    try:
        shops = in_child(setup_child, {"env": env, "redis": True, "send_rate": args.send_rate})
        port = free_port()
        web = await serve(procs, port, args.web_processes, "web")
        print(f"server: loyalchat serve --port {port} --workers {args.web_processes} "
              f"(uvicorn, PostgreSQL {args.database_url}, Redis {args.redis_url})")  # fmt: skip
        if args.seconds > 0 and args.only != "pacing":
            await ingest_and_drain(args, procs, port, shops["ingest"], web.pid, result)
        if args.only == "ingest":
            return result
        procs.start("worker2", "worker", "--processes", "1", "--threads", str(args.worker_threads))
        paced = await pacing(args, fake, env, shops["pace"])
        result.update(outbound_rate_per_s=round(paced["rate"], 2),
                      outbound_max_window_per_s=paced["max_window"],
                      outbound_within_5pct=paced["within_5pct"])  # fmt: skip
        modes = (("PostgreSQL + Redis", None, "postgres_redis"),
                 ("embedded SQLite", "sqlite", "embedded"))  # fmt: skip
        for name, mode_env, key in modes if args.only != "pacing" else ():
            if mode_env:
                procs.stop_all()
                env.update(LOYALCHAT_DATABASE_URL=f"sqlite:///{var}/bench.db",
                           LOYALCHAT_REDIS_URL="")  # fmt: skip
                shops = in_child(setup_child, {"env": env, "redis": False, "send_rate": 80})
                port = free_port()
                await serve(procs, port, 1, "web-embedded")
            figures = await reply_latency(args, fake, port, shops["reply"], name)
            result["reply_p50_ms"][key] = round(figures["p50_ms"], 1)
            result["reply_p95_ms"][key] = round(figures["p95_ms"], 1)
    finally:
        procs.stop_all()
        fake.stop()
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="FLUSHED: a db of its own")
    parser.add_argument("--web-processes", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2000, help="webhooks/s (0: closed loop)")
    parser.add_argument("--seconds", type=float, default=10, help="of ingest (0: skip it)")
    parser.add_argument(
        "--warmup", type=float, default=2,
        help="seconds of ingest at the same rate before the measured ones (not in the figures)",
    )  # fmt: skip
    parser.add_argument(
        "--route", choices=sorted(ROUTES), default="shop",
        help="webhooks to the shop's own app URL, or to the platform's Meta app (by number)",
    )  # fmt: skip
    parser.add_argument("--generators", type=int, default=1, help="load generator processes")
    parser.add_argument("--connections", type=int, default=32, help="per generator process")
    parser.add_argument("--senders", type=int, default=500, help="distinct senders per process")
    parser.add_argument("--pool-size", type=int, default=10, help="PostgreSQL pool per process")
    parser.add_argument("--worker-processes", type=int, default=1)
    parser.add_argument("--worker-threads", type=int, default=8)
    parser.add_argument("--drain-timeout", type=float, default=240)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--send-rate", type=float, default=80)
    parser.add_argument(
        "--burst-recipients", type=int, default=1000, help="people the burst goes to (1: one)"
    )
    parser.add_argument("--replies", type=int, default=50, help="samples per mode")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--only", choices=["ingest", "pacing"], help="run this phase alone")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
