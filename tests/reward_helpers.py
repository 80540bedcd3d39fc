"""Shared by the rewards tests: members with points, a coupon reward, refusals, a pool."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest

from loyalchat import db
from loyalchat.context import Actor
from loyalchat.domain import DomainError
from loyalchat.ledger import service as ledger
from loyalchat.members.tables import Member
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardOut
from loyalchat.scoping import new_row, scoped_select

OWNER = Actor("staff", 1, "Owner")
CASHIER = Actor("staff", 2, "Cashier Amy")
OTHER_CASHIER = Actor("staff", 3, "Cashier Ben")
_seq = iter(range(1, 10**6))
# The console's "new reward" form for a coupon, as a browser sends it.
REWARD_FORM = {
    "name_zh_Hant": "",
    "name_zh_Hans": "",
    "name_en": "Free coffee",
    "points_cost": "200",
    "type": "coupon",
    "opt_coupon__benefit": "One free coffee",
    "position": "0",
    "active": "1",
}


async def make_member(points: int = 0, name: str = "Chan Tai Man") -> int:
    """A member of the current tenant holding ``points`` (earned through the ledger)."""
    seq = next(_seq)
    row = new_row(Member, member_no=f"R{seq:06d}", seq=seq, name=name)
    await row.save()
    if points:
        await ledger.earn(row.id, points, key=f"seed:{row.id}")
    return row.id


async def balance(member_id: int) -> int:
    row = await scoped_select(Member, Member.points).where(Member.id == member_id).first()
    return row["points"]


async def make_reward(**fields: Any) -> RewardOut:
    """A 100-point free-coffee coupon, with ``fields`` changed."""
    values: dict[str, Any] = {
        "name": {"zh-Hant": "免費咖啡", "en": "Free coffee"},
        "points_cost": 100,
        "type": "coupon",
        "options": {"benefit": "Free coffee", "terms": "One per visit"},
    }
    values.update(fields)
    return await rewards.create_reward(values)


async def refused(awaitable: Awaitable[Any]) -> DomainError:
    """The DomainError ``awaitable`` raises (the test fails if it raises none)."""
    with pytest.raises(DomainError) as err:
        await awaitable
    return err.value


async def attempt(member: int, reward_id: int, key: str) -> str:
    """Redeem; "ok" or the refusal's code."""
    try:
        await rewards.redeem(member, reward_id, key=key)
    except DomainError as exc:
        return exc.code
    return "ok"


async def use(code: str) -> str:
    """Use a grant; "ok" or the refusal's code."""
    try:
        await rewards.use_grant(code)
    except DomainError as exc:
        return exc.code
    return "ok"


@contextlib.asynccontextmanager
async def pooled() -> AsyncIterator[None]:
    """A PostgreSQL connection pool: many transactions at once, each on its own connection
    (as separate web workers would), without exhausting connections other runs share."""
    engine = db.current_engine()
    await engine.start_connection_pool(min_size=4, max_size=24)
    try:
        yield
    finally:
        await engine.close_connection_pool()
