"""Member search at scale: latency, and agreement with the search of before the keys.

Run after ``bench/ledger.py`` has seeded its search tenant (``bench-big``) into the same
database; the seeded members are reused, not rebuilt:
``.venv/bin/python bench/search_check.py --database-url URL [--queries 200]``.

For sampled members it searches a typo'd name, the last 8 phone digits and the member
number (as ``bench/ledger.py`` does) plus the exact name, a first word and a two-letter
fragment, through ``members.search.search_members``, and runs the search as it was
before ``member_search_key`` (trigram word similarity on ``search_text`` itself, the
SQL kept below) on the same query. It prints p50/p95 of both and how many queries gave
the same total and the same first page, in the same order.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time

import asyncpg

sys.path.insert(0, os.path.dirname(__file__))
from ledger import percentile, typo

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/lc_bench_search"

# The search before member_search_key (git show aee5f69:platform/members/search.py).
BEFORE_WHERE = (
    "tenant = $1 AND status <> 'merged' AND ($2 <% search_text OR search_text ILIKE $3 ESCAPE '\\')"
)
BEFORE_WHERE_DIGITS = (  # $2 (the query) is only in the ORDER BY: typed here for the count
    "tenant = $1 AND status <> 'merged' AND search_text ILIKE $3 ESCAPE '\\' AND $2::text <> ''"
)


async def before(conn: asyncpg.Connection, tenant: int, q: str, limit: int = 20):
    from loyalchat.members import profile
    from loyalchat.members.search import _like_pattern

    term = profile.normalise(q)
    digits = profile.phone_query(term)
    like = _like_pattern(digits or term)
    fuzzy = not any(ch.isdigit() for ch in term)
    where = BEFORE_WHERE if fuzzy else BEFORE_WHERE_DIGITS
    order = ["(lower(member_no) = $2) DESC"]
    args: list = [tenant, term, like]
    if digits:
        order.append("(phone = $5 OR phone LIKE $6) DESC")
    if fuzzy:
        order.append("word_similarity($2, search_text) DESC")
    order += ["joined_at DESC", "id DESC"]
    page = f"SELECT id FROM member WHERE {where} ORDER BY {', '.join(order)} LIMIT $4"
    extra = ["+" + digits, "%" + digits] if digits else []
    async with conn.transaction():
        await conn.execute("SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)")
        ids = [r["id"] for r in await conn.fetch(page, *args, limit, *extra)]
        total = await conn.fetchval(f"SELECT count(*) FROM member WHERE {where}", *args)
    return ids, total


async def run(args: argparse.Namespace) -> None:
    os.environ["LOYALCHAT_DATABASE_URL"] = args.database_url
    os.environ.setdefault("LOYALCHAT_LOG_LEVEL", "WARNING")
    from loyalchat import db
    from loyalchat.context import tenant_context
    from loyalchat.members.search import search_members
    from loyalchat.settings import get_settings

    get_settings.cache_clear()
    engine = db.configure_database()
    started = time.perf_counter()
    await db.migrate(engine)
    print(f"migrations: {time.perf_counter() - started:.1f} s")
    await engine.start_connection_pool(min_size=1, max_size=4)
    conn = await asyncpg.connect(args.database_url)
    try:
        tenant = await conn.fetchval("SELECT id FROM tenant WHERE slug = 'bench-big'")
        size = await conn.fetchval("SELECT max(seq) FROM member WHERE tenant = $1", tenant)
        seqs = random.Random(7).sample(range(1, size + 1), args.queries)
        sampled = await conn.fetch(
            "SELECT name, phone, member_no FROM member WHERE tenant = $1 AND seq = ANY($2)"
            " ORDER BY seq",
            tenant, seqs,
        )  # fmt: skip
        rng = random.Random(11)
        queries: dict[str, list[str]] = {k: [] for k in ("typo'd name", "phone digits",
            "member no", "exact name", "first word", "fragment")}  # fmt: skip
        for row in sampled:
            name = row["name"]
            queries["typo'd name"].append(typo(name, rng))
            queries["phone digits"].append(row["phone"][-8:])
            queries["member no"].append(row["member_no"])
            queries["exact name"].append(name)
            queries["first word"].append(name.split()[0] if " " in name else name[:2])
            start = rng.randrange(max(1, len(name) - 1))
            queries["fragment"].append(name[start : start + 2])
        print(f"{size:,} members, {len(sampled)} queries per kind")
        for kind, qs in queries.items():
            if args.kinds and kind not in args.kinds:
                continue
            new_ms, old_ms, same_page, same_total = [], [], 0, 0
            with tenant_context(tenant):
                for q in qs:
                    t0 = time.perf_counter()
                    page = await search_members(q, limit=20)
                    new_ms.append((time.perf_counter() - t0) * 1000)
                    t0 = time.perf_counter()
                    ids, total = await before(conn, tenant, q)
                    old_ms.append((time.perf_counter() - t0) * 1000)
                    same_page += [m.id for m in page.items] == ids
                    same_total += page.total == total
                    if args.verbose and ([m.id for m in page.items] != ids or page.total != total):
                        print(f"    differs: {q!r} total {page.total} vs {total}")
            print(
                f"  {kind:<13} now p50 {percentile(new_ms, 50):7.1f} ms p95 "
                f"{percentile(new_ms, 95):7.1f} ms | before p50 {percentile(old_ms, 50):7.1f} ms"
                f" p95 {percentile(old_ms, 95):7.1f} ms | same page {same_page}/{len(qs)},"
                f" same total {same_total}/{len(qs)}"
            )
    finally:
        await conn.close()
        await engine.close_connection_pool()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--queries", type=int, default=200, help="sampled members (per kind)")
    parser.add_argument("--verbose", action="store_true", help="print each query that differs")
    parser.add_argument(
        "--kinds", nargs="*", help='only these kinds of query (e.g. "typo\'d name" fragment)'
    )
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
