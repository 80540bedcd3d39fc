"""Read-only views of grants for the console: one reward's redemptions, and the rewards
redeemed most. No writes (``rewards.service`` is the writer of the rewards tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalchat.domain import Page
from loyalchat.members.tables import Member
from loyalchat.rewards.grants import select_grants, to_out
from loyalchat.rewards.schemas import GrantOut
from loyalchat.rewards.tables import Grant, GrantStatus, Reward
from loyalchat.scoping import scoped_count, scoped_raw, scoped_select

MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class GrantRow:
    """A grant with the number and name of the member who holds it."""

    grant: GrantOut
    member_no: str
    member_name: str


@dataclass(frozen=True, slots=True)
class RewardCount:
    reward_id: int
    name: dict[str, str]
    grants: int


async def reward_grants(
    reward_id: int,
    status: GrantStatus | str | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    locale: str | None = None,
) -> Page[GrantRow]:
    """The reward's grants, newest first (``status`` keeps one status)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    where = Grant.reward == reward_id
    if status is not None:
        where = where & (Grant.status == GrantStatus(status).value)
    rows = await (
        select_grants().where(where).order_by(Grant.id, ascending=False).limit(limit).offset(offset)
    )
    total = await scoped_count(Grant).where(where)
    member_ids = sorted({row["member"] for row in rows})
    members: dict[int, dict[str, Any]] = {}
    if member_ids:
        found = await scoped_select(Member, Member.id, Member.member_no, Member.name).where(
            Member.id.is_in(member_ids)
        )
        members = {row["id"]: row for row in found}
    items = []
    for row in rows:
        member = members.get(row["member"], {})
        grant = await to_out(row, locale=locale)
        items.append(GrantRow(grant, member.get("member_no", ""), member.get("name", "")))
    return Page(items=items, total=total, limit=limit, offset=offset)


async def top_rewards(since: datetime, limit: int = 5) -> list[RewardCount]:
    """The rewards redeemed most since ``since`` (voided redemptions left out), most first."""
    rows = await scoped_raw(
        Grant,
        "SELECT reward, count(*) AS n FROM reward_grant WHERE tenant = {tenant} "
        "AND issued_at >= {} AND status <> {} GROUP BY reward ORDER BY n DESC, reward LIMIT {}",
        since,
        GrantStatus.void.value,
        max(1, min(int(limit), 50)),
    )
    if not rows:
        return []
    names = await (
        scoped_select(Reward, Reward.id, Reward.name)
        .where(Reward.id.is_in([row["reward"] for row in rows]))
        .output(load_json=True)
    )
    by_id = {row["id"]: row["name"] for row in names}
    return [
        RewardCount(row["reward"], dict(by_id.get(row["reward"]) or {}), int(row["n"]))
        for row in rows
    ]
