"""The hourly expiry jobs: every tenant's grants past their expiry become ``expired``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalchat.context import tenant_context
from loyalchat.rewards import service as rewards
from loyalchat.rewards.expiry import expire_all_grants
from loyalchat.rewards.tables import Grant
from loyalchat.scoping import scoped_update
from tests.fixtures import World
from tests.reward_helpers import OWNER, make_member, make_reward


async def test_expired_grants_of_every_tenant_are_marked_once(
    tenant_a: World, tenant_b: World
) -> None:
    codes = {}
    for world in (tenant_a, tenant_b):
        with tenant_context(world.id, OWNER):
            reward = await make_reward(validity_days=1)
            member = await make_member(points=300)
            old = await rewards.redeem(member, reward.id, key="old")
            fresh = await rewards.redeem(member, reward.id, key="fresh")
            past = datetime.now(UTC) - timedelta(hours=1)
            await scoped_update(Grant, {Grant.expires_at: past}).where(Grant.id == old.id)
            codes[world.id] = (old.code, fresh.code)
    assert await expire_all_grants() == {tenant_a.id: 1, tenant_b.id: 1}
    assert await expire_all_grants() == {}
    for world in (tenant_a, tenant_b):
        with tenant_context(world.id, OWNER):
            old_code, fresh_code = codes[world.id]
            assert (await rewards.get_grant(old_code)).status == "expired"
            assert (await rewards.get_grant(fresh_code)).status == "issued"
