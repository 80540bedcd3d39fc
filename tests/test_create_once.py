"""Creating members, rewards and API keys once per idempotency key (issue 8, finding 12).

The unique (tenant, idempotency_key) index decides: a second call, or any number of
concurrent ones, with one key returns the first row and creates nothing more. Through
the API the key is the request's service key, so a retry after the stored response is
gone (purged, taken over, released after a 5xx) still finds the first row.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.domain import Conflict
from loyalchat.idempotency import service as stored
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.members.tables import Member
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate
from loyalchat.rewards.tables import Reward
from loyalchat.tenants import apikeys
from loyalchat.tenants.tables import ApiKey, Role
from tests.api_support import SYSTEM, key_with_role
from tests.fixtures import World

COFFEE = {
    "name": {"en": "Free coffee"},
    "points_cost": 100,
    "type": "coupon",
    "options": {"benefit": "Free coffee"},
}


async def test_a_member_is_created_once_per_key(tenant_a: World, tenant_b: World) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        first = await members.create_member(MemberCreate(name="Lee"), key="form:1")
        again = await members.create_member(MemberCreate(name="Lee"), key="form:1")
        other = await members.create_member(MemberCreate(name="Lee"), key="form:2")
        plain = await members.create_member(MemberCreate(name="Lee"))
    assert again == first
    assert (first.member_no, other.member_no, plain.member_no) == ("M000001", "M000002", "M000003")
    with tenant_context(tenant_b.id, SYSTEM):  # keys are per tenant
        theirs = await members.create_member(MemberCreate(name="Lee"), key="form:1")
    assert theirs.id != first.id
    assert await Member.count() == 4


async def test_concurrent_member_creates_with_one_key_make_one_without_a_gap(
    tenant_a: World,
) -> None:
    async def create() -> int:
        with tenant_context(tenant_a.id, SYSTEM):
            return (await members.create_member(MemberCreate(name="Ho"), key="api:x")).id

    ids = await asyncio.gather(*[create() for _ in range(8)])
    assert len(set(ids)) == 1
    assert await Member.count() == 1
    with tenant_context(tenant_a.id, SYSTEM):
        # The losers' numbers went back to the counter: the next member is M000002.
        assert (await members.create_member()).member_no == "M000002"


async def test_a_reward_is_created_once_per_key(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        first = await rewards.create_reward(RewardCreate(**COFFEE), key="api:r1")
        again = await rewards.create_reward(RewardCreate(**COFFEE), key="api:r1")

        async def create() -> int:
            return (await rewards.create_reward(RewardCreate(**COFFEE), key="api:r2")).id

        ids = await asyncio.gather(*[create() for _ in range(8)])
    assert again.id == first.id
    assert len(set(ids)) == 1
    assert await Reward.count() == 2


async def test_an_api_key_is_created_once_per_key_and_its_secret_never_again(
    tenant_a: World,
) -> None:
    before = await ApiKey.count()
    with tenant_context(tenant_a.id, SYSTEM):
        issued = await apikeys.create_key("Till", Role.cashier, idempotency_key="api:k1")
        with pytest.raises(Conflict) as refused:
            await apikeys.create_key("Till", Role.cashier, idempotency_key="api:k1")

        async def create() -> object:
            try:
                return await apikeys.create_key("Till", Role.cashier, idempotency_key="api:k2")
            except Conflict as exc:
                return exc

        outcomes = await asyncio.gather(*[create() for _ in range(8)])
    assert (refused.value.code, refused.value.extra) == ("secret_not_replayable", {"id": issued.id})
    made = [o for o in outcomes if isinstance(o, apikeys.IssuedKey)]
    assert len(made) == 1
    assert all(o.extra == {"id": made[0].id} for o in outcomes if isinstance(o, Conflict))
    assert await ApiKey.count() == before + 2


async def test_an_api_retry_after_the_stored_response_is_gone_creates_nothing(
    client: AsyncTestClient, tenant_a: World
) -> None:
    headers = {"Idempotency-Key": "enrol-7"}
    first = await client.post("/api/v1/members", json={"name": "Lee"}, headers=headers)
    reward_headers = {"Idempotency-Key": "coffee-7"}
    reward = await client.post("/api/v1/rewards", json=COFFEE, headers=reward_headers)
    owner = await key_with_role(tenant_a, Role.owner)
    key_headers = {**headers, "Authorization": f"Bearer {owner}"}
    new_key = await client.post("/api/v1/api-keys", json={"name": "T"}, headers=key_headers)
    assert (first.status_code, reward.status_code, new_key.status_code) == (201, 201, 201)
    # The stored responses are forgotten (purged after 24 h; a 5xx after the commit
    # releases its claim the same way): the services still know these requests.
    assert await stored.purge(datetime.now(UTC) + timedelta(hours=25)) == 3
    again = await client.post("/api/v1/members", json={"name": "Lee"}, headers=headers)
    reward_again = await client.post("/api/v1/rewards", json=COFFEE, headers=reward_headers)
    key_again = await client.post("/api/v1/api-keys", json={"name": "T"}, headers=key_headers)
    assert again.json()["member_no"] == first.json()["member_no"]
    assert reward_again.json()["id"] == reward.json()["id"]
    assert key_again.status_code == 409
    assert key_again.json()["error"]["extra"] == {"id": new_key.json()["id"]}
    assert (await Member.count(), await Reward.count()) == (1, 1)
    assert await ApiKey.count().where(ApiKey.name == "T") == 1


async def test_created_once_on_sqlite(sqlite_db: object) -> None:
    from loyalchat.tenants import service as tenants

    tenant = await tenants.create_tenant("sqlite-shop", "SQLite shop")
    with tenant_context(tenant.id, SYSTEM):
        first = await members.create_member(MemberCreate(name="Lee"), key="form:1")
        again = await members.create_member(MemberCreate(name="Lee"), key="form:1")
        reward = await rewards.create_reward(RewardCreate(**COFFEE), key="form:1")
        reward_again = await rewards.create_reward(RewardCreate(**COFFEE), key="form:1")
    assert (again.id, reward_again.id) == (first.id, reward.id)
    assert (await Member.count(), await Reward.count()) == (1, 1)
