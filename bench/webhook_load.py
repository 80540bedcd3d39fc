"""The load generator of ``bench/channels.py``: signed WhatsApp webhooks over raw HTTP/1.1.

Each generator process pre-builds its requests before the clock starts (one body template,
a unique message id and sender substituted, signed with HMAC-SHA256 like Meta does), opens
its keep-alive connections, then writes bytes and reads answers on asyncio streams: no
HTTP library on the hot path, so the generator's CPU stays small next to the server's.

With a target rate each connection sends on its own schedule and a request's latency runs
from the time it was DUE, not the time it went out: when the server falls behind, the
queueing shows in the percentiles (no coordinated omission). Rate 0 is a closed loop (each
connection sends its next request as soon as the last is answered): the ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from collections import Counter

PLACEHOLDER_ID = "wamid.BENCHIDPLACEHOLDER"
PLACEHOLDER_FROM = "19999999999"


def build_requests(job: dict) -> list[bytes]:
    """``job["count"]`` complete requests (head + signed body), ids unique per process."""
    from tests.fakes.whatsapp_webhooks import encode, text_message, webhook

    template = encode(
        webhook(
            text_message("hello", wa_id=PLACEHOLDER_FROM, id=PLACEHOLDER_ID),
            phone_number_id=job["phone_number_id"],
        )
    )
    secret = job["app_secret"].encode()
    head = (
        f"POST {job['path']} HTTP/1.1\r\nHost: {job['host']}:{job['port']}\r\n"
        "Content-Type: application/json\r\nUser-Agent: facebookexternalua\r\n"
    )
    requests = []
    for n in range(job["count"]):
        body = template.replace(
            PLACEHOLDER_ID.encode(), f"wamid.BENCH{job['run']}P{job['process']}N{n:08d}".encode()
        ).replace(
            PLACEHOLDER_FROM.encode(), f"852{job['process']}{n % job['senders']:07d}".encode()
        )
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        requests.append(
            (
                f"{head}X-Hub-Signature-256: sha256={signature}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
    return requests


def run_process(job: dict) -> dict:
    """One generator process (started with ``spawn``): its counts and latencies."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    requests = build_requests(job)
    return asyncio.run(_drive(job, requests))


async def _drive(job: dict, requests: list[bytes]) -> dict:
    rate, conns, seconds = job["rate"], job["connections"], job["seconds"]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    offsets: list[float] = []  # when each request was due, from the start (seconds)
    errors: list[str] = []
    pending = iter(requests)
    streams = [await asyncio.open_connection(job["host"], job["port"]) for _ in range(conns)]
    await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
    warmup = job.get("warmup", 0.0)
    begin = time.perf_counter()
    t0 = begin + warmup  # the measured window starts after the warm-up
    cpu0 = time.process_time()
    deadline = t0 + seconds
    warm = 0  # answers during the warm-up (not in the figures)
    last_answer = t0

    async def connection(i: int) -> None:
        nonlocal last_answer, warm
        reader, writer = streams[i]
        n = 0
        while True:
            if rate:
                due = begin + (n * conns + i) / rate
                if due >= deadline:
                    break
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            else:
                due = time.perf_counter()
                if due >= deadline:
                    break
            request = next(pending, None)
            if request is None:
                errors.append("ran out of pre-built requests")
                break
            n += 1
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                writer.close()
                reader, writer = await asyncio.open_connection(job["host"], job["port"])
                continue
            now = time.perf_counter()
            if due < t0:
                warm += 1
                continue
            latencies.append(now - due)
            offsets.append(due - t0)
            statuses[status] += 1
            last_answer = max(last_answer, now)
        writer.close()

    await asyncio.gather(*(connection(i) for i in range(conns)))
    return {
        "statuses": dict(statuses),
        "latencies": latencies,
        "offsets": offsets,
        "errors": errors,
        "elapsed": max(last_answer - t0, 1e-9),
        "cpu_seconds": time.process_time() - cpu0,
        "warmup_answered": warm,
    }
