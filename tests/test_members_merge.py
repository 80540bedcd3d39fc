"""Merging members on PostgreSQL: identities, profile, points, stored value and grants follow."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError
from loyalchat.ledger import figures, stored_value
from loyalchat.ledger import service as ledger
from loyalchat.members import service
from loyalchat.members.schemas import MemberCreate
from loyalchat.purchases import service as purchases
from loyalchat.rewards.tables import Grant, Reward
from loyalchat.scoping import new_row, scoped_select
from loyalchat.tenants import audit
from tests.fixtures import World

BSUID = "US.13491208655302741918"


def staff(world: World):
    return tenant_context(world.id, Actor("staff", world.owner.id, "Owner"))


async def _grant(member_id: int, code: str) -> int:
    reward = new_row(Reward, name={"en": "Coffee"}, points_cost=10, type="coupon")
    await reward.save()
    grant = new_row(
        Grant, reward=reward.id, member=member_id, code=code, points_cost=10, idempotency_key=code
    )
    await grant.save()
    return grant.id


async def test_merge_moves_identities_profile_points_value_and_grants(tenant_a: World) -> None:
    with staff(tenant_a):
        keep = await service.create_member(
            MemberCreate(name="Chan Tai Man", tags=["VIP"]), identity=("whatsapp", BSUID)
        )
        absorb, _ = await service.join_by_identity(
            "wechat", ["oWeChat1"], phone="9123 4567", email="tm@x.hk", tags=["coffee", "vip"]
        )
        await ledger.earn(keep.id, 100, key="purchase:a")
        await ledger.earn(absorb.id, 250, key="purchase:b")
        await stored_value.top_up(absorb.id, Decimal("50.50"), key="topup:b")
        grant_id = await _grant(absorb.id, "CODE1")

        kept = await purchases.merge_members(keep.member_no, absorb.member_no, "same person")

        absorbed = await service.get_member(absorb.member_no)  # old links still resolve
        linked = await service.identities(keep.id)
        grant = await scoped_select(Grant, Grant.member).where(Grant.id == grant_id).first()
        check = await figures.audit_member(keep.id)
        listed = await service.search_members()
        by_wechat = await service.find_by_identity("wechat", "oWeChat1")
        entry = next(e for e in await audit.recent() if e["action"] == "member.merge")

    assert (kept.name, kept.phone, kept.email) == ("Chan Tai Man", "+85291234567", "tm@x.hk")
    assert kept.tags == ("VIP", "coffee")
    assert kept.verified  # the absorbed member's phone completed the kept one
    assert (kept.points, kept.stored_value) == (350, Decimal("50.50"))
    assert check.ok
    assert (absorbed.status, absorbed.merged_into) == ("merged", keep.id)
    assert (absorbed.points, absorbed.stored_value) == (0, Decimal("0"))
    assert sorted(i.external_id for i in linked) == sorted([BSUID, "oWeChat1"])
    assert by_wechat is not None and by_wechat.id == keep.id
    assert grant["member"] == keep.id
    assert [m.id for m in listed.items] == [keep.id]  # merged members leave the list
    after = json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]
    assert (after["reason"], after["points"], after["identities"]) == ("same person", 250, 1)


async def test_merge_refuses_self_merged_and_missing_reason(tenant_a: World) -> None:
    with staff(tenant_a):
        one = await service.create_member(MemberCreate(name="One"))
        two = await service.create_member(MemberCreate(name="Two"))
        three = await service.create_member(MemberCreate(name="Three"))
        cases = [
            ((one.member_no, one.member_no, "oops"), "invalid_merge"),
            ((one.member_no, two.member_no, "  "), "reason_required"),
        ]
        for args, code in cases:
            with pytest.raises(DomainError) as refused:
                await purchases.merge_members(*args)
            assert refused.value.code == code
        await purchases.merge_members(one.member_no, two.member_no, "duplicate")
        for args in [
            (three.member_no, two.member_no, "again"),  # absorbing a merged member
            (two.member_no, three.member_no, "into merged"),  # keeping a merged member
        ]:
            with pytest.raises(DomainError) as refused:
                await purchases.merge_members(*args)
            assert refused.value.code == "member_merged"
        # A join by an absorbed member's id lands on the kept member.
        await service.add_identity(one.id, "webchat", "w-1")
        member, created = await service.join_by_identity("webchat", ["w-1"])
        assert (member.id, created) == (one.id, False)
        with pytest.raises(DomainError) as refused:
            await service.add_identity(two.id, "webchat", "w-2")
        assert refused.value.code == "member_merged"


async def test_concurrent_merges_of_one_member_apply_once(tenant_a: World) -> None:
    with staff(tenant_a):
        keeps = [await service.create_member(MemberCreate(name=f"Keep {n}")) for n in range(3)]
        dup = await service.create_member(MemberCreate(name="Dup"))
        await ledger.earn(dup.id, 70, key="purchase:dup")
        results = await asyncio.gather(
            *(purchases.merge_members(k.member_no, dup.member_no, "dup") for k in keeps),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, Exception)]
        losers = [getattr(r, "code", r) for r in results if isinstance(r, Exception)]
        assert len(winners) == 1 and winners[0].points == 70
        assert losers == ["member_merged", "member_merged"]
        # Two members merged into each other at once: one way wins, and no deadlock.
        one, two = winners[0], next(k for k in keeps if k.id != winners[0].id)
        crossed = await asyncio.gather(
            purchases.merge_members(one.member_no, two.member_no, "crossed"),
            purchases.merge_members(two.member_no, one.member_no, "crossed"),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, Exception) for r in crossed) == 1
        members = [await service.get_member(m.member_no) for m in (*keeps, dup)]
        checks = [await figures.audit_member(m.id) for m in (*keeps, dup)]
    assert sum(m.points for m in members) == 70
    assert [m.status for m in members].count("merged") == 2
    assert all(check.ok for check in checks)
