"""Grants at the till: use once (concurrently too), void with a refund, expiry; SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError
from loyalchat.extensions.rewards import Grant, GrantDisplay, Issued, RewardError
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.ledger import figures
from loyalchat.ledger import service as ledger
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.plugins import coupon
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Grant as GrantRow
from loyalchat.tenants import plugin_settings
from tests.fixtures import World, make_world
from tests.reward_helpers import (
    CASHIER,
    OTHER_CASHIER,
    OWNER,
    attempt,
    balance,
    make_member,
    make_reward,
    pooled,
    refused,
    use,
)

HONG_KONG = ZoneInfo("Asia/Hong_Kong")

# --- grants at the till ------------------------------------------------------------------


async def test_a_cashier_uses_a_grant_once_and_the_second_attempt_says_by_whom(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(100)
        grant = await rewards.redeem(member, (await make_reward()).id, key="k")
    typed = f" {grant.code[:4].lower()}-{grant.code[4:]} "
    with tenant_context(tenant_a.id, CASHIER):
        assert (await rewards.get_grant(typed)).id == grant.id
        used = await rewards.use_grant(typed)
    assert (used.status, used.used_by_label) == ("used", "Cashier Amy")
    with tenant_context(tenant_a.id, OTHER_CASHIER):
        err = await refused(rewards.use_grant(f"LCG:{grant.code}"))
    assert err.code == "already_used"
    assert err.extra["used_by_label"] == "Cashier Amy"
    assert err.extra["used_at"] == used.used_at.isoformat()
    local = used.used_at.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M")
    assert err.message == f"already used on {local} by Cashier Amy"
    with tenant_context(tenant_a.id, OWNER):
        assert (await refused(rewards.void_grant(grant.code, "oops"))).code == "already_used"
        assert await balance(member) == 0


async def test_two_concurrent_uses_of_one_grant_let_exactly_one_through(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, OWNER):
        grant = await rewards.redeem(await make_member(100), (await make_reward()).id, key="k")

    async def use_as(actor: Actor) -> object:
        with tenant_context(tenant_a.id, actor):
            try:
                return await rewards.use_grant(grant.code)
            except DomainError as exc:
                return exc

    async with pooled():
        results = await asyncio.gather(use_as(CASHIER), use_as(OTHER_CASHIER))
    winners = [r for r in results if not isinstance(r, DomainError)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code == "already_used"
    assert losers[0].extra["used_by_label"] == winners[0].used_by_label


async def test_unknown_expired_and_void_codes_are_refused(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        member = await make_member(300)
        reward = await make_reward(validity_days=1)
        soon = await rewards.redeem(member, reward.id, key="1")
        voided = await rewards.redeem(member, reward.id, key="2")
        await rewards.void_grant(voided.code, "customer changed mind")
        with tenant_context(tenant_a.id, CASHIER):
            assert (await refused(rewards.use_grant("ZZZZ-ZZZZ"))).code == "not_found"
            assert (await refused(rewards.use_grant(""))).code == "not_found"
            assert (await refused(rewards.use_grant(voided.code))).code == "grant_void"
        # Past its expiry but before the expiry job: still refused at the till.
        await GrantRow.update(
            {GrantRow.expires_at: datetime.now(UTC) - timedelta(minutes=1)}
        ).where(GrantRow.id == soon.id)
        with tenant_context(tenant_a.id, CASHIER):
            err = await refused(rewards.use_grant(soon.code))
        assert err.code == "grant_expired" and err.extra["expires_at"]
        assert (await refused(rewards.void_grant(soon.code, "late"))).code == "grant_expired"


async def test_voiding_refunds_points_and_stock(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        reward = await make_reward(stock=2)
        member = await make_member(150)
        grant = await rewards.redeem(member, reward.id, key="k")
        assert await balance(member) == 50
        voided = await rewards.void_grant(grant.code, "  wrong member  ")
        assert (voided.status, voided.void_reason) == ("void", "wrong member")
        assert voided.voided_at is not None
        assert await balance(member) == 150
        assert (await rewards.get_reward(reward.id)).stock == 2
        refund = await ledger.entry_by_key(f"void:{grant.id}")
        assert (refund.kind, refund.points, refund.reason) == ("reverse", 100, "wrong member")
        assert (await figures.audit_member(member)).ok
        again = await refused(rewards.void_grant(grant.code, "twice"))
        assert again.code == "grant_void"
        assert await balance(member) == 150
        assert (await refused(rewards.void_grant(grant.code, " "))).code == "reason_required"


async def test_expire_grants_expires_once_without_refund(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, OWNER):
        short = await make_reward(validity_days=1)
        forever = await make_reward()
        member = await make_member(500)
        old = await rewards.redeem(member, short.id, key="1")
        kept = await rewards.redeem(member, forever.id, key="2")
        used = await rewards.redeem(member, short.id, key="3")
        await rewards.use_grant(used.code)
        later = datetime.now(UTC) + timedelta(days=2)
        assert await rewards.expire_grants(datetime.now(UTC)) == 0
        assert await rewards.expire_grants(later) == 1
        assert await rewards.expire_grants(later) == 0
        assert (await rewards.get_grant(old.code)).status == "expired"
        assert (await rewards.get_grant(kept.code)).status == "issued"
        assert (await rewards.get_grant(used.code)).status == "used"
        assert await balance(member) == 200
        assert [g.id for g in await rewards.member_grants(member, "expired")] == [old.id]
        assert [g.id for g in await rewards.member_grants(member)] == [used.id, kept.id, old.id]


class RefusingType:
    """A reward type whose grants the till refuses (e.g. outside happy hour)."""

    kind = "happyhour"
    label = "Happy hour"
    option_fields = (SettingField("note", "Note"),)
    consumed_on_issue = False

    def validate_options(self, options):
        return options

    async def issue(self, grant: Grant) -> Issued:
        return Issued(code=f"hh-{grant.grant_id:06d}", data={"note": "x"})

    async def describe(self, grant: Grant, locale: str) -> str:
        return "Happy hour drink"

    async def mark_used(self, grant: Grant) -> None:
        raise RewardError("only between 3 and 6 pm")

    async def display(self, grant: Grant, locale: str) -> GrantDisplay:
        return GrantDisplay(code=grant.code, qr=True)


class RefusingPlugin:
    @hookimpl
    def register_reward_types(self, register) -> None:
        register(RefusingType())


async def test_a_reward_type_may_supply_the_code_and_refuseuse(tenant_a: World) -> None:
    pm = build_plugin_manager(
        load_entrypoints=False, plugins={"coupon": coupon, "hh": RefusingPlugin()}
    )
    with tenant_context(tenant_a.id, OWNER):
        await plugin_settings.enable_plugin("hh", pm)  # a third-party type starts off
        reward = await rewards.create_reward(
            {"name": "Drink", "points_cost": 10, "type": "happyhour"}, pm
        )
        grant = await rewards.redeem(await make_member(10), reward.id, key="k", pm=pm)
        assert grant.code == f"HH{grant.id:06d}"  # stored in the typed form
        err = await refused(rewards.use_grant(f"hh-{grant.id:06d}", pm=pm))
        assert (err.code, err.message) == ("grant_refused", "only between 3 and 6 pm")
        assert (await rewards.get_grant(grant.code)).status == "issued"


# --- SQLite ------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_tenant(sqlite_db) -> int:
    return (await make_world("sqlite-tea")).id


@pytest.mark.sqlite
async def test_sqlite_redeem_use_void_and_concurrency(sqlite_tenant: int) -> None:
    with tenant_context(sqlite_tenant, OWNER):
        reward = await make_reward(points_cost=70, stock=10, validity_days=7)
        member = await make_member(1000)
        grant = await rewards.redeem(member, reward.id, key="first")
        assert (await rewards.redeem(member, reward.id, key="first")).replayed
        assert grant.expires_at > datetime.now(UTC)
        results = await asyncio.gather(*(attempt(member, reward.id, f"s:{i}") for i in range(24)))
        assert results.count("ok") == 9  # stock 10: one went first
        assert results.count("out_of_stock") == 15
        assert await balance(member) == 1000 - 10 * 70
        assert (await rewards.get_reward(reward.id)).stock == 0
        assert (await refused(rewards.redeem(member, reward.id, key="x"))).code == "out_of_stock"
    with tenant_context(sqlite_tenant, CASHIER):
        used = await rewards.use_grant(grant.code.lower())
        assert used.used_by_label == "Cashier Amy"
        outcomes = await asyncio.gather(
            *(use(g.code) for g in await rewards.member_grants(member, "issued") for _ in range(2))
        )
        assert outcomes.count("ok") == 9 and outcomes.count("already_used") == 9
    with tenant_context(sqlite_tenant, OWNER):
        assert (await refused(rewards.use_grant(grant.code))).code == "already_used"
        assert await rewards.expire_grants(datetime.now(UTC) + timedelta(days=8)) == 0
        assert (await figures.audit_member(member)).ok


@pytest.mark.sqlite
async def test_sqlite_points_limit_and_void(sqlite_tenant: int) -> None:
    with tenant_context(sqlite_tenant, OWNER):
        reward = await make_reward(points_cost=40, per_member_limit=2)
        member = await make_member(100)
        one = await rewards.redeem(member, reward.id, key="1")
        await rewards.redeem(member, reward.id, key="2")
        assert (await refused(rewards.redeem(member, reward.id, key="3"))).code == "limit_reached"
        await rewards.void_grant(one.code, "test")
        assert await balance(member) == 60
        assert (await rewards.redeem(member, reward.id, key="4")).status == "issued"
        assert (await refused(rewards.redeem(member, reward.id, key="5"))).code == "limit_reached"
        dearer = await make_reward(points_cost=40)
        err = await refused(rewards.redeem(member, dearer.id, key="6"))
        assert err.code == "insufficient_points"
        assert await balance(member) == 20
        assert (await figures.audit_member(member)).ok
