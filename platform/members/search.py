"""Member search: by name (typo-tolerant, either Chinese script), phone digits or number.

On PostgreSQL with ``pg_trgm`` a query without digits matches by trigram word
similarity (``q <% search_text``, served by the GIN index ``member_search_trgm_idx``) or
as a substring (``ILIKE``, served by the same index); queries with digits, PostgreSQL
without the extension, and SQLite match by substring only. Filters, ordering and
pagination all happen in SQL.
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
    """Whether pg_trgm is installed in this database (checked once per process)."""
    key = repr(sorted(engine.config.items()))
    if key not in _trgm:
        rows = await Member.raw("SELECT 1 AS ok FROM pg_extension WHERE extname = 'pg_trgm'")
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
    where = ["tenant = {tenant}"]  # scoped_raw binds the current tenant here
    args: list[Any] = []
    if not include_merged:
        where.append("status <> {}")
        args.append(MemberStatus.merged.value)
    if verified is not None:
        where.append("verified = {}")
        args.append(bool(verified))

    order, order_args = ["joined_at DESC", "id DESC"], []
    term = profile.normalise(q)
    trigram = False
    if term:
        digits = profile.phone_query(term)
        like = _like_pattern(digits or term)
        match = "search_text " + ("ILIKE" if postgres else "LIKE") + " {} ESCAPE '\\'"
        # Anything with digits (phone, member number) matches as a substring only: a
        # "typo" of a number is somebody else's number. Names get typo tolerance.
        fuzzy = not any(ch.isdigit() for ch in term)
        trigram = postgres and fuzzy and await _has_trgm(engine)
        if trigram:
            where.append(f"({{}} <% search_text OR {match})")
            args += [term, like]
        else:
            where.append(match)
            args.append(like)
        order = ["(lower(member_no) = {}) DESC"]
        order_args = [term]
        if digits:
            order.append("(phone = {} OR phone LIKE {}) DESC")
            order_args += ["+" + digits, "%" + digits]
        if trigram:
            order.append("word_similarity({}, search_text) DESC")
            order_args.append(term)
        order += ["joined_at DESC", "id DESC"]

    # Only the fixed fragments above go into the text; every value is a parameter.
    where_sql = " AND ".join(where)
    page_sql = "SELECT id FROM member WHERE " + where_sql  # noqa: S608
    page_sql += " ORDER BY " + ", ".join(order) + " LIMIT {} OFFSET {}"
    count_sql = "SELECT count(*) AS n FROM member WHERE " + where_sql  # noqa: S608
    if trigram:
        async with engine.transaction():
            await _set_word_similarity()
            ids = await scoped_raw(Member, page_sql, *args, *order_args, limit, offset)
            total = await scoped_raw(Member, count_sql, *args)
    else:
        ids = await scoped_raw(Member, page_sql, *args, *order_args, limit, offset)
        total = await scoped_raw(Member, count_sql, *args)

    wanted = [row["id"] for row in ids]
    rows = await scoped_select(Member).where(Member.id.is_in(wanted)) if wanted else []
    by_id = {row["id"]: row for row in rows}
    items = [member_out(by_id[member_id]) for member_id in wanted if member_id in by_id]
    return Page(items=items, total=total[0]["n"], limit=limit, offset=offset)
