"""Rewards: the catalogue and redemption (points, stock, limits, idempotency, concurrency).

Concurrency runs on the real PostgreSQL test database, each transaction on its own
pooled connection as separate web workers would; grants at the till and SQLite are in
``test_reward_grants.py``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from loyalchat.context import NoTenantContext, tenant_context
from loyalchat.domain import Conflict, NotFound
from loyalchat.hookimpl import hookimpl
from loyalchat.ledger import figures
from loyalchat.ledger import service as ledger
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member, MemberStatus
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.rewards import codes, qr
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate, RewardUpdate
from loyalchat.rewards.tables import Grant as GrantRow
from loyalchat.rewards.tables import GrantStatus
from loyalchat.tenants import audit
from tests.fixtures import World
from tests.reward_helpers import (
    OWNER,
    attempt,
    balance,
    make_member,
    make_reward,
    pooled,
    refused,
)

# --- catalogue ---------------------------------------------------------------------------


async def test_create_read_update_and_list_the_catalogue(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        coffee = await make_reward(stock=20, per_member_limit=2, validity_days=30, position=2)
        cake = await rewards.create_reward(
            RewardCreate(
                name="蛋糕一件", points_cost=300, type="coupon", options={"benefit": "蛋糕"}
            )
        )
        assert coffee.name == {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"}
        assert cake.name["zh-Hant"] == "蛋糕一件" and cake.stock is None
        assert await rewards.get_reward(coffee.id) == coffee

        changed = await rewards.update_reward(coffee.id, RewardUpdate(points_cost=80, stock=None))
        assert (changed.points_cost, changed.stock, changed.per_member_limit) == (80, None, 2)
        assert changed.updated_at >= coffee.updated_at

        page = await rewards.list_rewards()
        assert [r.id for r in page.items] == [cake.id, coffee.id]  # by position
        assert page.total == 2
        await rewards.update_reward(cake.id, {"active": False})
        assert [r.id for r in (await rewards.list_rewards(active_only=True)).items] == [coffee.id]
        assert (await rewards.list_rewards(limit=1, offset=1)).items[0].id == coffee.id

        actions = [row["action"] for row in await audit.recent()]
        assert actions[:4] == ["reward.update", "reward.update", "reward.create", "reward.create"]


async def test_available_at_keeps_rewards_inside_their_window(tenant_a: World) -> None:
    now = datetime.now(UTC)
    with tenant_context(tenant_a.id, OWNER):
        always = await make_reward()
        later = await make_reward(starts_at=now + timedelta(days=3))
        ended = await make_reward(
            starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1)
        )
        await make_reward(active=False)
        listed = await rewards.list_rewards(available_at=now)
        assert [r.id for r in listed.items] == [always.id]
        soon = await rewards.list_rewards(available_at=now + timedelta(days=4))
        assert {r.id for r in soon.items} == {always.id, later.id}
        assert not ended.available(now)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": {"zh-Hant": " ", "en": ""}}, "name"),
        ({"name": {"fr": "Café"}}, "name"),
        ({"points_cost": 0}, "points_cost"),
        ({"stock": -1}, "stock"),
        ({"per_member_limit": 0}, "per_member_limit"),
        ({"validity_days": 0}, "validity_days"),
        ({"starts_at": datetime(2026, 1, 1)}, "starts_at"),
        (
            {
                "starts_at": datetime(2026, 2, 1, tzinfo=UTC),
                "ends_at": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "ends_at",
        ),
        ({"options": {"benefit": "x", "colour": "red"}}, "options"),
        ({"options": {"terms": "no benefit given"}}, "options"),
    ],
)
async def test_invalid_rewards_are_refused_with_the_field(
    tenant_a: World, fields: dict, field: str
) -> None:
    with tenant_context(tenant_a.id, OWNER):
        err = await refused(make_reward(**fields))
        assert err.code == "invalid_reward"
        assert field in err.extra["errors"]
        assert (await rewards.list_rewards()).total == 0


async def test_an_unknown_type_or_field_is_refused(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        assert (await refused(make_reward(type="teleport", options={}))).code == (
            "unknown_reward_type"
        )
        assert (await refused(make_reward(colour="red"))).code == "invalid_reward"
        reward = await make_reward()
        err = await refused(rewards.update_reward(reward.id, {"type": "stored_value"}))
        assert err.code == "invalid_reward" and "options" in err.extra["errors"]
        assert (await rewards.get_reward(reward.id)).type == "coupon"
        assert (await refused(rewards.get_reward(999_999))).code == "not_found"


async def test_display_name_falls_back_across_scripts_and_languages(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        hant_only = await make_reward(name={"zh-Hant": "免費咖啡一杯"})
        hans_only = await make_reward(name={"zh-Hans": "免费咖啡一杯"})
        en_only = await make_reward(name={"en": "Free coffee"})
    assert rewards.display_name(hant_only, "zh-Hans") == "免费咖啡一杯"
    assert rewards.display_name(hans_only, "zh-Hant") == "免費咖啡一杯"
    assert rewards.display_name(hans_only, "zh-HK") == "免費咖啡一杯"
    assert rewards.display_name(hant_only, "en") == "免費咖啡一杯"
    assert rewards.display_name(en_only, "zh-Hant") == "Free coffee"
    assert rewards.display_name({"name": {"en": "Cake", "zh-Hant": "蛋糕"}}, "en") == "Cake"


# --- redemption --------------------------------------------------------------------------


async def test_redemption_deducts_points_and_issues_a_coupon(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(stock=5, validity_days=30)
        member = await make_member(250)
        before = datetime.now(UTC)
        grant = await rewards.redeem(member, reward.id, key="wallet:1")

        assert grant.status == "issued" and not grant.replayed
        assert len(grant.code) == 8 and set(grant.code) <= set(codes.ALPHABET)
        assert grant.qr_payload == f"LCG:{grant.code}"
        assert (grant.member_id, grant.reward_id, grant.points_cost) == (member, reward.id, 100)
        assert grant.reward_name["en"] == "Free coffee" and grant.reward_type == "coupon"
        english_only = {"zh-Hant": "", "zh-Hans": "", "en": "Free coffee"}
        assert grant.data == {
            "benefit": english_only,
            "terms": {**english_only, "en": "One per visit"},
        }
        # The shop typed its coupon in English only: that is what a Chinese reader gets.
        assert grant.description == "優惠券：Free coffee（One per visit）"  # tenant locale
        assert (
            before + timedelta(days=30)
            <= grant.expires_at
            <= datetime.now(UTC) + timedelta(days=30)
        )
        assert await balance(member) == 150
        assert (await rewards.get_reward(reward.id)).stock == 4
        entry = await ledger.entry_by_key(f"redeem:{grant.id}")
        assert (entry.kind, entry.points, entry.reference) == ("redeem", -100, f"grant:{grant.id}")
        assert (await figures.audit_member(member)).ok
        assert "<svg" in qr.qr_svg(grant.code)


async def test_replaying_a_key_returns_the_first_grant_without_a_second_debit(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(stock=5)
        other = await make_reward()
        member = await make_member(500)
        first = await rewards.redeem(member, reward.id, key="chat:msg-77")
        again = await rewards.redeem(member, reward.id, key="chat:msg-77")
        assert (again.id, again.code, again.replayed) == (first.id, first.code, True)
        assert await balance(member) == 400
        assert (await rewards.get_reward(reward.id)).stock == 4
        err = await refused(rewards.redeem(member, other.id, key="chat:msg-77"))
        assert isinstance(err, Conflict) and err.code == "idempotency_conflict"


async def test_concurrent_replays_of_one_key_make_one_grant(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(stock=50)
        member = await make_member(10_000)
        async with pooled():
            results = await asyncio.gather(
                *(rewards.redeem(member, reward.id, key="double-tap") for _ in range(16))
            )
        assert len({g.id for g in results}) == 1
        assert sum(not g.replayed for g in results) == 1
        assert await balance(member) == 9_900
        assert (await rewards.get_reward(reward.id)).stock == 49


async def test_insufficient_points_change_nothing(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(stock=3)
        member = await make_member(99)
        err = await refused(rewards.redeem(member, reward.id, key="k1"))
        assert err.code == "insufficient_points"
        assert await balance(member) == 99
        assert (await rewards.get_reward(reward.id)).stock == 3  # the unit came back
        assert await rewards.member_grants(member) == []


async def test_out_of_stock(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(stock=1)
        one, two = await make_member(100), await make_member(100)
        await rewards.redeem(one, reward.id, key="a")
        err = await refused(rewards.redeem(two, reward.id, key="b"))
        assert err.code == "out_of_stock"
        assert await balance(two) == 100
        assert (await rewards.get_reward(reward.id)).stock == 0
        empty = await make_reward(stock=0)
        assert (await refused(rewards.redeem(two, empty.id, key="c"))).code == "out_of_stock"


async def test_per_member_limit_counts_grants_that_are_not_void(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(per_member_limit=1)
        member, other = await make_member(1000), await make_member(1000)
        first = await rewards.redeem(member, reward.id, key="1")
        err = await refused(rewards.redeem(member, reward.id, key="2"))
        assert (err.code, err.extra["limit"]) == ("limit_reached", 1)
        await rewards.redeem(other, reward.id, key="3")  # the limit is per member
        await rewards.void_grant(first.code, "wrong reward picked")
        again = await rewards.redeem(member, reward.id, key="4")
        assert again.status == "issued"
        assert await balance(member) == 900


async def test_rewards_outside_their_window_or_inactive_are_unavailable(tenant_a: World) -> None:
    now = datetime.now(UTC)
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(1000)
        for fields in (
            {"starts_at": now + timedelta(hours=1)},
            {"ends_at": now - timedelta(seconds=1), "starts_at": now - timedelta(days=1)},
            {"active": False},
        ):
            reward = await make_reward(stock=2, **fields)
            err = await refused(rewards.redeem(member, reward.id, key=f"w:{reward.id}"))
            assert err.code == "reward_unavailable"
            assert (await rewards.get_reward(reward.id)).stock == 2
        assert (await refused(rewards.redeem(member, 999_999, key="nope"))).code == "not_found"
        assert await balance(member) == 1000


async def test_a_merged_member_cannot_redeem(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward()
        member = await make_member(500)
        await Member.update({Member.status: MemberStatus.merged.value}).where(Member.id == member)
        assert (await refused(rewards.redeem(member, reward.id, key="m"))).code == ("member_merged")
        assert await balance(member) == 500


async def test_64_concurrent_redemptions_succeed_exactly_as_often_as_points_allow(
    tenant_a: World,
) -> None:
    """Balance 1,000, cost 70, 64 redemptions at once: exactly 14 succeed."""
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(points_cost=70, stock=100)
        member = await make_member(1000)
        async with pooled():
            results = await asyncio.gather(
                *(attempt(member, reward.id, f"hot:{i}") for i in range(64)),
                return_exceptions=True,
            )
        assert results.count("ok") == 14
        assert results.count("insufficient_points") == 50
        assert await balance(member) == 1000 - 14 * 70
        check = await figures.audit_member(member)
        assert check.ok and check.entries_sum == await balance(member)
        assert (await rewards.get_reward(reward.id)).stock == 100 - 14
        assert len(await rewards.member_grants(member)) == 14


async def test_64_concurrent_redemptions_never_take_stock_below_zero(
    tenant_a: World,
) -> None:
    """Stock 10, 16 members with points to spare, 64 redemptions at once: exactly 10."""
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(points_cost=10, stock=10)
        members = [await make_member(1000) for _ in range(16)]
        async with pooled():
            results = await asyncio.gather(
                *(attempt(members[i % 16], reward.id, f"spread:{i}") for i in range(64)),
                return_exceptions=True,
            )
        assert results.count("ok") == 10
        assert results.count("out_of_stock") == 54
        assert (await rewards.get_reward(reward.id)).stock == 0
        assert await GrantRow.count().where(GrantRow.reward == reward.id) == 10
        spent = sum([1000 - await balance(m) for m in members])
        assert spent == 100


async def test_redemption_tells_plugins(tenant_a: World) -> None:
    seen: list = []

    class Recorder:
        @hookimpl
        def on_event(self, event) -> None:
            seen.append(event)

    pm = current_plugin_manager()
    pm.register(Recorder(), name="rewards-recorder")
    try:
        with tenant_context(tenant_a.id, OWNER):
            member = await make_member(100)
            grant = await rewards.redeem(member, (await make_reward()).id, key="k")
            await rewards.redeem(member, grant.reward_id, key="k")  # a replay tells no one
            await rewards.use_grant(grant.code)
    finally:
        pm.unregister(name="rewards-recorder")
    names = [(e.name, e.tenant_id) for e in seen]
    assert names == [("reward_redeemed", tenant_a.id), ("grant_used", tenant_a.id)]
    assert seen[0].data["grant_id"] == grant.id and seen[0].data["points_cost"] == 100


# --- two tenants -------------------------------------------------------------------------


async def test_tenant_a_cannot_see_or_touch_tenant_bs_rewards_and_grants(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_b.id, OWNER):
        theirs = await make_reward(stock=5, validity_days=1)
        their_member = await make_member(1000)
        grant = await rewards.redeem(their_member, theirs.id, key="b-1")
        other = await rewards.redeem(their_member, theirs.id, key="b-2")
    with tenant_context(tenant_a.id, OWNER):
        mine = await make_reward()
        my_member = await make_member(1000)
        assert [r.id for r in (await rewards.list_rewards()).items] == [mine.id]
        assert (await rewards.list_rewards(available_at=datetime.now(UTC))).total == 1
        calls = (
            rewards.get_reward(theirs.id),
            rewards.update_reward(theirs.id, {"points_cost": 1}),
            rewards.redeem(my_member, theirs.id, key="steal-1"),
            rewards.redeem(their_member, mine.id, key="steal-2"),
            rewards.get_grant(grant.code),
            rewards.use_grant(grant.code),
            rewards.void_grant(other.code, "steal"),
        )
        for call in calls:
            with pytest.raises(NotFound):
                await call
        assert await rewards.member_grants(their_member) == []
        assert await rewards.expire_grants(datetime.now(UTC) + timedelta(days=3)) == 0
        # The same idempotency key in another tenant is another request.
        mine_grant = await rewards.redeem(my_member, mine.id, key="b-1")
        assert not mine_grant.replayed
        assert await balance(my_member) == 900
    with tenant_context(tenant_b.id, OWNER):
        assert (await rewards.get_reward(theirs.id)).points_cost == 100
        assert (await rewards.get_reward(theirs.id)).stock == 3
        assert [g.status for g in await rewards.member_grants(their_member)] == [
            "issued",
            "issued",
        ]
        assert await balance(their_member) == 800
        assert await LedgerEntry.count().where(LedgerEntry.member == their_member) == 3
        assert await rewards.expire_grants(datetime.now(UTC) + timedelta(days=3)) == 2


async def test_services_refuse_to_run_without_a_tenant() -> None:
    for call in (
        rewards.list_rewards(),
        rewards.get_grant("ABCDEFGH"),
        rewards.expire_grants(),
        rewards.member_grants(1),
    ):
        with pytest.raises(NoTenantContext):
            await call


def test_grant_status_values_are_the_documented_ones() -> None:
    assert [s.value for s in GrantStatus] == ["issued", "used", "expired", "void"]
