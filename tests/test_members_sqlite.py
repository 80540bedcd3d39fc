"""Members on the embedded SQLite database: the same rules, plain substring search."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import Conflict, NotFound
from loyalchat.ledger import service as ledger
from loyalchat.members import service
from loyalchat.members.schemas import MemberCreate, MemberUpdate
from loyalchat.purchases import service as purchases
from tests.fixtures import World, make_world

pytestmark = pytest.mark.sqlite

BSUID = "US.13491208655302741918"


def staff(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, "Owner"))


@pytest.fixture
async def shops(sqlite_db: object) -> tuple[World, World]:
    return await make_world("alpha-tea"), await make_world("bravo-bakery")


async def test_numbers_sequential_and_concurrent(shops: tuple[World, World]) -> None:
    shop, _ = shops
    with staff(shop):
        first = [(await service.create_member()).member_no for _ in range(3)]
        rest = await asyncio.gather(*(service.create_member() for _ in range(61)))
        with pytest.raises(Conflict):  # rolled back: its number is not used up
            await service.create_member(identity=("wechat", "x"))  # first link ...
            await service.create_member(identity=("wechat", "x"))  # ... second refused
        await service.set_number_format("HK-{seq:05d}")
        last = await service.create_member()
    numbers = sorted(first + [m.member_no for m in rest])
    assert numbers == [f"M{n:06d}" for n in range(1, 65)]
    assert last.member_no == "HK-00066"  # 65 went to the member linked to "x"


async def test_concurrent_joins_make_one_member(shops: tuple[World, World]) -> None:
    shop, _ = shops
    with tenant_context(shop.id):
        results = await asyncio.gather(
            *(service.join_by_identity("whatsapp", [BSUID, "85291234567"]) for _ in range(8))
        )
        assert len({member.id for member, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        member = results[0][0]
        by_phone, created = await service.join_by_identity("whatsapp", ["+852 9123 4567"])
        assert (by_phone.id, created) == (member.id, False)
        assert len(await service.identities(member.id)) == 2
        assert (await service.create_member()).member_no == "M000002"


async def test_profile_round_trips_and_verified(shops: tuple[World, World]) -> None:
    shop, _ = shops
    with staff(shop):
        member = await service.create_member(
            MemberCreate(name="Chan", birthday=date(1988, 2, 29), tags=["VIP", "vip", "tea"])
        )
        assert not member.verified
        updated = await service.update_member(member.member_no, MemberUpdate(phone="9123 4567"))
        fetched = await service.get_member(member.member_no)
    assert updated == fetched
    assert (fetched.phone, fetched.verified, fetched.tags) == ("+85291234567", True, ("VIP", "tea"))
    assert (fetched.birthday, fetched.stored_value, fetched.marketing_opt_in) == (
        date(1988, 2, 29),
        Decimal("0"),
        False,
    )


async def test_search_by_substring(shops: tuple[World, World]) -> None:
    shop, _ = shops
    with staff(shop):
        chan = await service.create_member(MemberCreate(name="Chan Tai Man", phone="9123 4567"))
        chinese = await service.create_member(MemberCreate(name="陳大文", email="dm@x.hk"))
        for n in range(12):
            await service.create_member(MemberCreate(name=f"Lee {n}"))

        async def ids(q: str, **kwargs) -> list[int]:
            return [m.id for m in (await service.search_members(q, **kwargs)).items]

        assert await ids("CHAN tai") == [chan.id]
        assert await ids("9123 4567") == [chan.id]
        assert await ids("85291234567") == [chan.id]
        assert await ids("陈大文") == [chinese.id]
        assert await ids(chinese.member_no) == [chinese.id]
        assert await ids("%") == []
        assert await ids("", verified=True) == [chinese.id, chan.id]  # name + contact
        page = await service.search_members("lee", limit=5, offset=10)
        assert (page.total, len(page.items)) == (12, 2)
        newest = await service.search_members(limit=1)
        assert newest.items[0].name == "Lee 11"


async def test_merge_and_isolation(shops: tuple[World, World]) -> None:
    shop, other = shops
    with staff(other):
        await service.set_number_format("B{seq:06d}")  # not A's "M000001"
        theirs = await service.create_member(MemberCreate(name="Theirs"))
    with staff(shop):
        keep = await service.create_member(MemberCreate(name="Keep"))
        absorb = await service.create_member(
            MemberCreate(email="a@x.hk"), identity=("wechat", "oA")
        )
        await ledger.earn(absorb.id, 30, key="purchase:1")
        kept = await purchases.merge_members(keep.member_no, absorb.member_no, "same person")
        merged = await service.get_member(absorb.member_no)
        assert (kept.points, kept.email, kept.verified) == (30, "a@x.hk", True)
        assert (merged.status, merged.merged_into) == ("merged", keep.id)
        assert [i.member_id for i in await service.identities(keep.id)] == [keep.id]
        for call in (
            service.get_member(theirs.member_no),
            service.update_member(theirs.member_no, MemberUpdate(name="x")),
            purchases.merge_members(keep.member_no, theirs.member_no, "steal"),
            service.identities(theirs.id),
        ):
            with pytest.raises(NotFound):
                await call
        assert theirs.id not in {m.id for m in (await service.search_members("theirs")).items}
