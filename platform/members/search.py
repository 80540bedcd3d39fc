"""Member search: by name (typo-tolerant, either Chinese script), phone digits or number.

On PostgreSQL with ``pg_trgm`` a query without digits matches by trigram word
similarity (``q <% key``) or as a substring (``ILIKE``) against the tenant's distinct
search keys (``member_search_key``: ``search_text`` with each run of digits made one
"0", so names that repeat are matched once), served by the key table's GIN index; the
members of the matching keys then come from the covering index on
``(tenant, search_key)``. A query without digits never matches across a digit, so it
finds and ranks the same members as on ``search_text`` itself. Queries with digits,
PostgreSQL without the extension, and SQLite match ``search_text`` by substring only.
Filters, ordering and pagination all happen in SQL.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.postgres import PostgresEngine

from loyalchat import db
from loyalchat.domain import Page
from loyalchat.members import profile
from loyalchat.members.queries import member_out
from loyalchat.members.schemas import MemberOut
from loyalchat.members.tables import Member, MemberStatus
from loyalchat.scoping import scoped_raw, scoped_select

MAX_LIMIT = 200
# pg_trgm's default word-similarity threshold (0.6) lets one swapped letter in a short
# name ("chan tia man") only just through; 0.5 tolerates a typo per word or so.
WORD_SIMILARITY = 0.5
_trgm: dict[str, bool] = {}  # by database address


async def _has_trgm(engine: PostgresEngine) -> bool:
    """Whether trigram search is set up in this database (checked once per process):
    pg_trgm and the ``member_search_key`` table its migration adds alongside."""
    key = repr(sorted(engine.config.items()))
    if key not in _trgm:
        rows = await Member.raw(
            "SELECT 1 AS ok FROM pg_extension WHERE extname = 'pg_trgm' "
            "AND to_regclass('member_search_key') IS NOT NULL"
        )
        _trgm[key] = bool(rows)
    return _trgm[key]


async def _set_word_similarity() -> None:
    """Local to the caller's transaction: the threshold the <% operator (and index) use."""
    await Member.raw(
        "SELECT set_config('pg_trgm.word_similarity_threshold', {}, true)", str(WORD_SIMILARITY)
    )


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_members(
    q: str = "",
    verified: bool | None = None,
    limit: int = 20,
    offset: int = 0,
    *,
    include_merged: bool = False,
) -> Page[MemberOut]:
    """A page of the current tenant's members matching ``q``, best match first.

    An exact member number, then an exact phone, then the closest names; an empty ``q``
    lists the newest members first. ``verified`` keeps only verified (True) or unverified
    (False) members. Merged members are left out unless ``include_merged``.
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    engine = db.current_engine()
    postgres = isinstance(engine, PostgresEngine)
    where = ["m.tenant = {tenant}"]  # scoped_raw binds the current tenant here
    args: list[Any] = []
    if not include_merged:
        where.append("m.status <> {}")
        args.append(MemberStatus.merged.value)
    if verified is not None:
        where.append("m.verified = {}")
        args.append(bool(verified))

    term = profile.normalise(q)
    if not term:  # newest first: a walk of the joined_at index, and a separate count
        where_sql = " AND ".join(where)
        list_sql = "SELECT m.id FROM member m WHERE " + where_sql  # noqa: S608
        list_sql += " ORDER BY m.joined_at DESC, m.id DESC LIMIT {} OFFSET {}"
        count_sql = "SELECT count(*) AS n FROM member m WHERE " + where_sql  # noqa: S608
        ids = await scoped_raw(Member, list_sql, *args, limit, offset)
        total = await scoped_raw(Member, count_sql, *args)
        return await _page([row["id"] for row in ids], total[0]["n"], limit, offset)

    digits = profile.phone_query(term)
    like = _like_pattern(digits or term)
    # Anything with digits (phone, member number) matches as a substring only: a
    # "typo" of a number is somebody else's number. Names get typo tolerance.
    fuzzy = not any(ch.isdigit() for ch in term)
    trigram = postgres and fuzzy and await _has_trgm(engine)
    keys, key_args, order = "", [], ["(lower(m.member_no) = {}) DESC"]
    order_args: list[Any] = [term]
    if trigram:
        # The tenant's distinct keys that match, each scored once; then their members.
        keys = (
            "WITH k AS MATERIALIZED (SELECT key, word_similarity({}, key) AS sim"
            " FROM member_search_key WHERE tenant = {tenant}"
            " AND ({} <% key OR key ILIKE {} ESCAPE '\\')) "
        )
        key_args = [term, term, like]
        source = "k JOIN member m ON m.search_key = k.key"
        order.append("k.sim DESC")
    else:
        source = "member m"
        where.append("m.search_text " + ("ILIKE" if postgres else "LIKE") + " {} ESCAPE '\\'")
        args.append(like)
        if digits:
            order.append("(m.phone = {} OR m.phone LIKE {}) DESC")
            order_args += ["+" + digits, "%" + digits]
    order += ["m.joined_at DESC", "m.id DESC"]

    # Only the fixed fragments above go into the text; every value is a parameter.
    body = " FROM " + source + " WHERE " + " AND ".join(where)
    page_sql = keys + "SELECT m.id, count(*) OVER () AS n" + body  # the total comes along
    page_sql += " ORDER BY " + ", ".join(order) + " LIMIT {} OFFSET {}"
    count_sql = keys + "SELECT count(*) AS n" + body

    async def page_and_total() -> tuple[list[dict[str, Any]], int]:
        ids = await scoped_raw(Member, page_sql, *key_args, *args, *order_args, limit, offset)
        if ids:
            return ids, ids[0]["n"]
        if offset:  # past the last page: count on its own
            return ids, (await scoped_raw(Member, count_sql, *key_args, *args))[0]["n"]
        return ids, 0

    if trigram:
        async with engine.transaction():
            await _set_word_similarity()
            ids, total = await page_and_total()
    else:
        ids, total = await page_and_total()
    return await _page([row["id"] for row in ids], total, limit, offset)


async def _page(wanted: list[int], total: int, limit: int, offset: int) -> Page[MemberOut]:
    """The members of ``wanted`` in that order, as a page."""
    rows = await scoped_select(Member).where(Member.id.is_in(wanted)) if wanted else []
    by_id = {row["id"]: row for row in rows}
    items = [member_out(by_id[member_id]) for member_id in wanted if member_id in by_id]
    return Page(items=items, total=total, limit=limit, offset=offset)
