"""Helpers for the JSON API tests: the app and a client holding tenant A's API key, keys,
an earning rule, rewards, points to spend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardCreate
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.tenants import apikeys
from loyalchat.tenants.tables import Role
from tests.fixtures import World

SYSTEM = Actor("system", label="test")


@pytest.fixture
def app() -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False)


@pytest.fixture
async def client(app: Litestar, tenant_a: World) -> AsyncIterator[AsyncTestClient]:
    """The API as tenant A's manager key."""
    async with AsyncTestClient(app=app) as client:
        client.headers.update(bearer(tenant_a.api_key))
        yield client


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


async def key_with_role(world: World, role: Role) -> str:
    with tenant_context(world.id, SYSTEM):
        return (await apikeys.create_key(f"{role.value} till", role)).key


async def one_point_per_ten_dollars(world: World) -> None:
    with tenant_context(world.id, SYSTEM):
        await rules.create_rule(
            RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal("0.1"))
        )


async def add_member(world: World, points: int = 0, **profile: Any) -> str:
    """A member of ``world`` holding ``points``; returns the member number."""
    from loyalchat.members.schemas import MemberCreate

    with tenant_context(world.id, SYSTEM):
        member = await members.create_member(MemberCreate(**profile))
        if points:
            await ledger.adjust(member.id, points, key=f"seed:{member.id}", reason="seed")
    return member.member_no


async def add_reward(world: World, **fields: Any) -> int:
    fields.setdefault("name", {"en": "Free coffee", "zh-Hant": "免費咖啡"})
    fields.setdefault("points_cost", 100)
    fields.setdefault("type", "coupon")
    fields.setdefault("options", {"benefit": "Free coffee"})
    with tenant_context(world.id, SYSTEM):
        return (await rewards.create_reward(RewardCreate(**fields))).id


async def points_of(world: World, member_no: str) -> int:
    with tenant_context(world.id, SYSTEM):
        return (await members.get_member(member_no)).points
