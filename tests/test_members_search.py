"""Member search on PostgreSQL through the tenant's search keys (``member_search_key``).

A query without digits is matched against each tenant's distinct keys (search text with
every run of digits made one "0") and must find and rank members exactly as trigram
word similarity on ``search_text`` itself does; keys are per tenant and follow edits.
The main search behaviour is in test_members.py, SQLite's in test_members_sqlite.py.
"""

from __future__ import annotations

from loyalchat import db
from loyalchat.context import Actor, tenant_context
from loyalchat.members import service
from loyalchat.members.schemas import MemberCreate, MemberUpdate
from tests.fixtures import World


def staff(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, "Owner"))


async def _keys(world: World) -> list[str]:
    rows = await db.current_engine()._run_in_new_connection(
        "SELECT key FROM member_search_key WHERE tenant = $1 ORDER BY key", [world.id]
    )
    return [row["key"] for row in rows]


async def _by_search_text(world: World, q: str) -> tuple[list[int], int]:
    """The ranking of before the keys: word similarity on search_text, row by row."""
    conn = await db.current_engine().get_new_connection()
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)"
            )
            where = (
                "tenant = $1 AND status <> 'merged' AND ($2 <% search_text OR search_text ILIKE $3)"
            )
            ids = await conn.fetch(
                f"SELECT id FROM member WHERE {where} ORDER BY word_similarity($2, search_text)"  # noqa: S608
                " DESC, joined_at DESC, id DESC",
                world.id, q, f"%{q}%",
            )  # fmt: skip
            total = await conn.fetchval(
                f"SELECT count(*) FROM member WHERE {where}",  # noqa: S608
                world.id,
                q,
                f"%{q}%",
            )
    finally:
        await conn.close()
    return [row["id"] for row in ids], total


async def test_repeated_names_share_a_key_and_are_all_found_typos_included(
    tenant_a: World, tenant_b: World
) -> None:
    with staff(tenant_b):
        theirs = await service.create_member(MemberCreate(name="Chan Tai Man", phone="9123 0000"))
    with staff(tenant_a):
        ours = [
            await service.create_member(MemberCreate(name="Chan Tai Man", phone=f"9123 456{n}"))
            for n in range(3)
        ]
        other = await service.create_member(MemberCreate(name="Chan Siu Ming", phone="6123 4567"))
        page = await service.search_members("chan tia man")  # typo
        # Equally close names newest first; another Chan too far; never B's.
        assert [m.id for m in page.items] == [m.id for m in ours[::-1]]
        assert page.total == 3 and {theirs.id, other.id}.isdisjoint(m.id for m in page.items)
        assert await _keys(tenant_a) == ["chan siu ming 0 0 m0", "chan tai man 0 0 m0"]
    assert await _keys(tenant_b) == ["chan tai man 0 0 m0"]


async def test_keys_follow_profile_edits(tenant_a: World) -> None:
    with staff(tenant_a):
        member = await service.create_member(MemberCreate(name="Lau Ka Yan"))
        await service.update_member(member.member_no, MemberUpdate(name="Ho Wing Sze"))
        assert [m.id for m in (await service.search_members("ho wign sze")).items] == [member.id]
        assert (await service.search_members("lau ka yan")).total == 0


async def test_ranking_and_totals_match_word_similarity_on_search_text(tenant_a: World) -> None:
    names = ["Chan Tai Man", "Chan Tai Ming", "Chan Man", "Wong Tai Man", "Tai Man Chan",
             "陳大文", "陳小文", "Lee Ka Man", "Man Ka Lee", "Chan"]  # fmt: skip
    with staff(tenant_a):
        for n, name in enumerate(names * 2):
            phone = f"9123 45{n:02d}" if n % 3 else ""
            email = "chan.tm@example.com" if n % 5 == 0 else ""
            await service.create_member(MemberCreate(name=name, phone=phone, email=email))
        for q in ("chan tia man", "tai man", "man", "chan m", "an m", "ma", "陈大文", "大文",
                  "example", "chan example", "zzzz"):  # fmt: skip
            page = await service.search_members(q, limit=200)
            assert ([m.id for m in page.items], page.total) == await _by_search_text(tenant_a, q)


async def test_a_page_past_the_end_still_has_the_total(tenant_a: World) -> None:
    with staff(tenant_a):
        for n in range(3):
            await service.create_member(MemberCreate(name=f"Lee Siu {n}", phone=f"9123 456{n}"))
        for q in ("lee siu", "9123 456"):
            page = await service.search_members(q, limit=2, offset=10)
            assert (page.items, page.total) == ([], 3)
