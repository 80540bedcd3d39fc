"""Ledger and member-search benchmark on PostgreSQL: prints redemptions per second and search latency.

Run: ``.venv/bin/python bench/ledger.py [--database-url URL] [--members 1000000]
[--seconds 10] [--clients 32] [--json]``.

It DROPS and rebuilds the ``public`` schema of the database it is given (default
``postgresql://postgres@127.0.0.1:5432/lc_bench``, created if missing), then measures:

0. PostgreSQL's own limit for a transaction of similar shape: ``pgbench -b tpcb-like``
   with the same client count and duration against the same server, in a database of
   its own (``<name>_pgbench``, initialised at scale ``--pgbench-scale``, default the
   client count, when missing or of another scale), run just before ours.
1. Redemptions per second through the real service (``rewards.service.redeem``: points
   deducted with a conditional UPDATE, lots drawn, a coupon grant issued) with N
   concurrent clients on ONE hot member, and spread over 10,000 members, and the
   statements sent per redemption (counted on the connections; the pool gives connections
   back without a reset query, as the app's does: ``db.keep_session``).
2. Member search latency (``members.search.search_members``, pg_trgm) over a tenant of
   ``--members`` members (default 1,000,000; 0 skips it): typo'd names, phone
   fragments, numbers.

After the redemption runs it checks the ledger: every member's balance equals the sum of
its entries and of its open lots. With ``--json`` the last line printed is one JSON
object: ``redemptions_per_s_spread``, ``redemptions_per_s_hot``,
``queries_per_redemption``, ``pgbench_tpcb_tps`` and ``search_p95_ms`` (``name``,
``phone``, ``number``; null when search was skipped). Scripts rely on these keys.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import asyncpg
import click

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/lc_bench"
SURNAMES = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ho", "Ng", "Leung", "Lam", "Tsang", "Li"]
SYLLABLES = (
    "tai man siu ming ka yan wing sze chi keung mei ling hoi kwok wai kin fai hung yee lok "
    "chun kit ho yin tsz ching suet kei shing wah fung pui nga hiu lam yuen sum kwan tak "
    "pak cheuk long hei ngai tung yat"
).split()
CJK_SURNAMES = "陳黃李張劉何吳梁林曾鄭謝郭羅"
CJK_GIVEN = "大文小明嘉欣詠詩志強美玲凱欣家豪子晴曉彤俊傑永康國華麗珍"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


class CountingConnection(asyncpg.Connection):
    """An asyncpg connection that counts the statements it sends (one round trip each)."""

    statements = 0
    resets = 0  # the pool's reset query when a connection goes back (counted in statements)

    async def execute(self, query: str, *args, **kwargs):
        CountingConnection.statements += 1
        if query == self.get_reset_query():
            CountingConnection.resets += 1
        return await super().execute(query, *args, **kwargs)

    async def executemany(self, query: str, args, **kwargs):
        CountingConnection.statements += 1
        return await super().executemany(query, args, **kwargs)

    async def fetch(self, query: str, *args, **kwargs):
        CountingConnection.statements += 1
        return await super().fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args, **kwargs):
        CountingConnection.statements += 1
        return await super().fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args, **kwargs):
        CountingConnection.statements += 1
        return await super().fetchval(query, *args, **kwargs)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def pgbench_tps(url: str, clients: int, seconds: float, scale: int) -> float | None:
    """``pgbench -b tpcb-like`` tps with ``clients`` clients for ``seconds`` on the same server.

    Its tables live in ``<database>_pgbench``, initialised (``pgbench -i``) when missing or
    of another scale. None when pgbench is not installed.
    """
    pgbench = shutil.which("pgbench", path=f"{os.environ.get('PATH', '')}:/usr/bin")
    if pgbench is None:
        print("  pgbench not found: pgbench_tpcb_tps is null", file=sys.stderr)
        return None
    name = url.rsplit("/", 1)[1].split("?")[0] + "_pgbench"
    bench_url = _with_database(url, name)
    await _create_database(url, name)
    conn = await asyncpg.connect(bench_url)
    try:
        # Two statements: PostgreSQL resolves a subquery's table even in a CASE branch
        # not taken, so one statement fails on a fresh database.
        branches = -1
        if await conn.fetchval("SELECT to_regclass('pgbench_branches') IS NOT NULL"):
            branches = await conn.fetchval("SELECT count(*) FROM pgbench_branches")
    finally:
        await conn.close()
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    conninfo = [
        "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", unquote(parts.username or "postgres"),
    ]  # fmt: skip
    if branches != scale:
        started = time.perf_counter()
        print(f"  initialising pgbench tables (scale {scale}) in {name}...", file=sys.stderr)
        init = await asyncio.create_subprocess_exec(
            pgbench, *conninfo, "-i", "-q", "-s", str(scale), name,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        _, err = await init.communicate()
        if init.returncode:
            raise RuntimeError(f"pgbench -i failed: {err.decode()[-500:]}")
        print(f"  pgbench tables ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    duration = max(1, round(seconds))
    proc = await asyncio.create_subprocess_exec(
        pgbench, *conninfo, "-n", "-b", "tpcb-like", "-c", str(clients),
        "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(duration), name,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    with click.progressbar(
        length=duration, label=f"{'pgbench tpcb-like':>22}", file=sys.stderr
    ) as bar:

        async def tick() -> None:
            for _ in range(duration):
                await asyncio.sleep(1)
                bar.update(1)

        (out, err), _ = await asyncio.gather(proc.communicate(), tick())
    if proc.returncode:
        raise RuntimeError(f"pgbench failed: {err.decode()[-500:]}")
    found = re.search(r"^tps = ([0-9.]+)", out.decode(), re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no tps in pgbench's output: {out.decode()[-500:]}")
    return float(found.group(1))


async def _create_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def prepare_database(url: str) -> None:
    await _create_database(url, url.rsplit("/", 1)[1])
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def seed_points(url: str, tenant_id: int, count: int, points: int) -> list[int]:
    """``count`` members holding ``points`` each, as one earn entry and one lot apiece (COPY)."""
    conn = await asyncpg.connect(url)
    try:
        now = datetime.now(UTC)
        start = await conn.fetchval(
            "SELECT COALESCE(MAX(seq), 0) FROM member WHERE tenant = $1", tenant_id
        )
        members = [
            (tenant_id, f"B{start + i:07d}", start + i, f"Bench {i}", points, now, now)
            for i in range(1, count + 1)
        ]
        await conn.copy_records_to_table(
            "member",
            records=members,
            columns=["tenant", "member_no", "seq", "name", "points", "joined_at", "updated_at"],
        )
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM member WHERE tenant = $1 AND seq > $2 ORDER BY seq", tenant_id, start
        )]  # fmt: skip
        await conn.execute(
            "INSERT INTO ledger_entry (tenant, member, kind, points, balance_after, idempotency_key,"
            " actor, actor_label, reason, reference, details, created_at) "
            "SELECT $1, id, 'earn', $2, $2, 'seed:' || id, 'system', 'bench', '', '', '{}', $3 "
            "FROM member WHERE tenant = $1 AND seq > $4",
            tenant_id, points, now, start,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO point_lot (tenant, member, entry, points, remaining, earned_at) "
            "SELECT $1, member, id, points, points, $2 FROM ledger_entry "
            "WHERE tenant = $1 AND idempotency_key LIKE 'seed:%' AND member = ANY($3::int[])",
            tenant_id, now, ids,
        )  # fmt: skip
        return ids
    finally:
        await conn.close()


async def redemption_run(
    label: str,
    members: list[int],
    reward_id: int,
    tenant_id: int,
    clients: int,
    seconds: float,
    *,
    prefix: str = "",
    progress: bool = True,
) -> tuple[int, float, list[float]]:
    from loyalchat.context import Actor, tenant_context
    from loyalchat.rewards import service as rewards

    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client(n: int) -> None:
        nonlocal done
        rng = random.Random(f"{prefix}{n}")
        with tenant_context(tenant_id, Actor("system", label="bench")):
            while time.perf_counter() < deadline:
                member = members[0] if len(members) == 1 else rng.choice(members)
                started = time.perf_counter()
                await rewards.redeem(
                    member, reward_id, key=f"bench:{label}:{prefix}{next(counter)}"
                )
                latencies.append(time.perf_counter() - started)
                done += 1

    started = time.perf_counter()
    bar = click.progressbar(length=int(seconds), label=f"{label:>22}", file=sys.stderr)
    with bar if progress else contextlib.nullcontext(bar):

        async def tick() -> None:
            for _ in range(int(seconds)):
                await asyncio.sleep(1)
                if progress:
                    bar.update(1)

        await asyncio.gather(tick(), *(client(n) for n in range(clients)))
    return done, time.perf_counter() - started, latencies


def _plugin_manager() -> contextlib.AbstractContextManager:
    """The host hands the plugin manager to the code it runs (older trees, measured for a
    before/after comparison, built a process-wide one on first use)."""
    try:
        from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
    except ImportError:
        return contextlib.nullcontext()
    return use_plugin_manager(build_plugin_manager())


def _process_run(job: dict) -> dict:
    """One client process of a redemption run (a child started with ``spawn``)."""
    return asyncio.run(_process_run_async(job))


async def _process_run_async(job: dict) -> dict:
    os.environ["LOYALCHAT_DATABASE_URL"] = job["url"]
    os.environ.setdefault("LOYALCHAT_LOG_LEVEL", "WARNING")
    from loyalchat import db
    from loyalchat.log import configure_logging
    from loyalchat.settings import get_settings

    get_settings.cache_clear()
    configure_logging(get_settings())
    engine = db.configure_database()
    await engine.start_connection_pool(
        min_size=job["clients"],
        max_size=job["clients"] + 2,
        connection_class=CountingConnection,
        reset=db.keep_session,  # as the app's pool (db.start_pool)
    )
    try:
        with _plugin_manager():
            await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
            statements, resets = CountingConnection.statements, CountingConnection.resets
            done, elapsed, latencies = await redemption_run(
                job["label"], job["members"], job["reward_id"], job["tenant_id"],
                job["clients"], job["seconds"], prefix=f"p{job['process']}:",
                progress=job["process"] == 0,
            )  # fmt: skip
    finally:
        await engine.close_connection_pool()
    return {
        "done": done,
        "elapsed": elapsed,
        "latencies": latencies,
        "statements": CountingConnection.statements - statements,
        "resets": CountingConnection.resets - resets,
    }


async def redemption_processes(
    args: argparse.Namespace, label: str, members: list[int], reward_id: int, tenant_id: int
) -> tuple[int, float, list[float], int, int]:
    """``args.clients`` clients spread over ``args.processes`` processes, started together:
    (redemptions, seconds, latencies, statements, pool resets)."""
    processes = max(1, min(args.processes, args.clients))
    shares = [args.clients // processes + (i < args.clients % processes) for i in range(processes)]
    start_at = time.time() + 3 + processes  # after every child has its connections open
    jobs = [
        {"url": args.database_url, "label": label, "members": members, "reward_id": reward_id,
         "tenant_id": tenant_id, "clients": share, "seconds": args.seconds,
         "start_at": start_at, "process": i}
        for i, share in enumerate(shares)
    ]  # fmt: skip
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        results = await asyncio.gather(
            *(loop.run_in_executor(pool, _process_run, job) for job in jobs)
        )
    return (
        sum(r["done"] for r in results),
        max(r["elapsed"] for r in results),
        [value for r in results for value in r["latencies"]],
        sum(r["statements"] for r in results),
        sum(r["resets"] for r in results),
    )


async def seed_search(url: str, tenant_id: int, count: int) -> list[tuple[str, str, str]]:
    """``count`` members with names, phones and search text, by COPY in batches."""
    from loyalchat.members.profile import search_text

    rng = random.Random(7)
    samples: list[tuple[str, str, str]] = []
    conn = await asyncpg.connect(url)
    now = datetime.now(UTC)
    batch = 20_000
    try:
        with click.progressbar(length=count, label="seeding members", file=sys.stderr) as bar:
            for first in range(1, count + 1, batch):
                rows = []
                for seq in range(first, min(first + batch, count + 1)):
                    if rng.random() < 0.5:
                        given = f"{rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}".title()
                        name = f"{rng.choice(SURNAMES)} {given}"
                    else:
                        name = rng.choice(CJK_SURNAMES) + "".join(rng.sample(CJK_GIVEN, 2))
                    phone = f"+852{rng.choice('5679')}{seq:07d}"
                    number = f"M{seq:07d}"
                    rows.append(
                        (tenant_id, number, seq, name, phone, True, "active",
                         search_text(name, phone, "", number), now, now)
                    )  # fmt: skip
                    if rng.random() < 200 / count:
                        samples.append((name, phone, number))
                await conn.copy_records_to_table(
                    "member",
                    records=rows,
                    columns=["tenant", "member_no", "seq", "name", "phone", "verified", "status",
                             "search_text", "joined_at", "updated_at"],
                )  # fmt: skip
                bar.update(len(rows))
        # Vacuumed and analysed, as autovacuum leaves a table long before anyone searches
        # it: index-only scans need the visibility map, plans need the key table's stats.
        await conn.execute("VACUUM ANALYZE member")
        if await conn.fetchval("SELECT to_regclass('member_search_key') IS NOT NULL"):
            await conn.execute("VACUUM ANALYZE member_search_key")
    finally:
        await conn.close()
    return samples


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


async def search_run(tenant_id: int, samples: list[tuple[str, str, str]]) -> dict[str, list[float]]:
    from loyalchat.context import tenant_context
    from loyalchat.members.search import search_members

    rng = random.Random(11)
    timings: dict[str, list[float]] = {"typo'd name": [], "phone digits": [], "member no": []}
    hits = dict.fromkeys(timings, 0)
    with (
        tenant_context(tenant_id),
        click.progressbar(samples, label="searching", file=sys.stderr) as bar,
    ):
        for name, phone, number in bar:
            # A typo'd name is found when members of that name come up (names repeat).
            for kind, query, found in (
                ("typo'd name", typo(name, rng), lambda m, name=name: m.name == name),
                ("phone digits", phone[-8:], lambda m, number=number: m.member_no == number),
                ("member no", number, lambda m, number=number: m.member_no == number),
            ):
                started = time.perf_counter()
                page = await search_members(query, limit=20)
                timings[kind].append(time.perf_counter() - started)
                hits[kind] += any(found(m) for m in page.items)
    for kind in timings:
        print(f"  {kind:<13} found in top 20: {hits[kind]}/{len(samples)}")
    return timings


async def check_ledger(url: str, tenant_id: int) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM member m WHERE m.tenant = $1 AND ("
            " m.points <> (SELECT COALESCE(SUM(points), 0) FROM ledger_entry e WHERE e.member = m.id)"
            " OR m.points <> (SELECT COALESCE(SUM(remaining), 0) FROM point_lot l"
            "                 WHERE l.member = m.id AND l.expired_at IS NULL))",
            tenant_id,
        )
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict:
    os.environ["LOYALCHAT_DATABASE_URL"] = args.database_url
    os.environ.setdefault("LOYALCHAT_LOG_LEVEL", "WARNING")
    from loyalchat import db
    from loyalchat.log import configure_logging
    from loyalchat.settings import get_settings

    get_settings.cache_clear()
    configure_logging(get_settings())
    plugins = _plugin_manager()
    await prepare_database(args.database_url)
    engine = db.configure_database()
    await db.migrate(engine)
    await engine.start_connection_pool(
        min_size=2,
        max_size=args.clients + 4,
        connection_class=CountingConnection,
        reset=db.keep_session,
    )
    try:
        with plugins:
            return await _measure(args)
    finally:
        await engine.close_connection_pool()


async def _measure(args: argparse.Namespace) -> dict:
    from loyalchat.context import Actor, tenant_context
    from loyalchat.rewards import service as rewards
    from loyalchat.tenants import service as tenants
    from loyalchat.tenants.tables import TenantStatus

    result: dict = {
        "redemptions_per_s_spread": None,
        "redemptions_per_s_hot": None,
        "queries_per_redemption": None,
        "pgbench_tpcb_tps": None,
        "search_p95_ms": {"name": None, "phone": None, "number": None},
    }
    shop = await tenants.create_tenant("bench-shop", "Bench Shop", status=TenantStatus.active)
    with tenant_context(shop.id, Actor("system", label="bench")):
        reward = await rewards.create_reward(
            {"name": {"en": "Coffee"}, "points_cost": 1, "type": "coupon",
             "options": {"benefit": "free coffee"}}
        )  # fmt: skip
    hot = await seed_points(args.database_url, shop.id, 1, 10_000_000)
    spread = await seed_points(args.database_url, shop.id, 10_000, 1_000)
    tps = await pgbench_tps(args.database_url, args.clients, args.seconds, args.pgbench_scale)
    result["pgbench_tpcb_tps"] = round(tps, 1) if tps is not None else None
    print(
        f"PostgreSQL {args.database_url}, {args.clients} concurrent clients in "
        f"{args.processes} process(es), cost 1 point"
    )
    if tps is not None:
        print(
            f"  pgbench -b tpcb-like, same server  : {tps:8.0f} tps "
            f"(scale {args.pgbench_scale}, {args.clients} clients, {max(1, round(args.seconds))} s)"
        )
    for label, members, key in (
        ("one hot member", hot, "redemptions_per_s_hot"),
        ("10,000 members", spread, "redemptions_per_s_spread"),
    ):
        done, elapsed, lat, statements, resets = await redemption_processes(
            args, label, members, reward.id, shop.id
        )
        per_s = done / elapsed
        result[key] = round(per_s, 1)
        queries = statements / max(done, 1)
        pool_resets = resets / max(done, 1)
        ratio = f", {per_s / tps:.2f}x pgbench" if tps else ""
        print(
            f"  redemptions, {label:<15}: {per_s:8.0f} /s{ratio} "
            f"({done} in {elapsed:.1f} s; latency p50 {percentile(lat, 50) * 1000:.1f} ms, "
            f"p95 {percentile(lat, 95) * 1000:.1f} ms; {queries:.1f} statements per "
            f"redemption, of which {pool_resets:.1f} pool resets)"
        )
        if key == "redemptions_per_s_spread":
            result["queries_per_redemption"] = round(queries, 1)
    bad = await check_ledger(args.database_url, shop.id)
    print(f"  ledger check: {bad} member(s) whose balance differs from entries or lots")
    if bad:
        raise SystemExit("the ledger check failed")

    if args.members <= 0:
        return result
    big = await tenants.create_tenant("bench-big", "Bench Big", status=TenantStatus.active)
    started = time.perf_counter()
    samples = await seed_search(args.database_url, big.id, args.members)
    print(f"  seeded {args.members:,} members in {time.perf_counter() - started:.0f} s")
    timings = await search_run(big.id, samples)
    print(f"member search over {args.members:,} members ({len(samples)} queries per kind):")
    for kind, values in timings.items():
        print(
            f"  {kind:<13} p50 {percentile(values, 50) * 1000:7.1f} ms   "
            f"p95 {percentile(values, 95) * 1000:7.1f} ms"
        )
    for name, kind in (("name", "typo'd name"), ("phone", "phone digits"), ("number", "member no")):
        if timings[kind]:
            result["search_p95_ms"][name] = round(percentile(timings[kind], 95) * 1000, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--members", type=int, default=1_000_000, help="for the search run (0: skip it)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="client processes (default: as many as pgbench's threads, one per core)",
    )
    parser.add_argument(
        "--pgbench-scale", type=int, default=None, help="pgbench's scale (default: --clients)"
    )
    parser.add_argument(
        "--json", action="store_true", help="end with one line of JSON holding the figures"
    )
    args = parser.parse_args(argv)
    if args.processes is None:  # pgbench runs -j min(clients, cores) threads
        args.processes = min(args.clients, os.cpu_count() or 1)
    if args.pgbench_scale is None:
        args.pgbench_scale = args.clients
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
