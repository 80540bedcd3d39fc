"""Rewards: the catalogue, redemption, and the grants cashiers check. The only writer of
``reward`` and ``reward_grant`` (with :mod:`loyalchat.rewards.redemption`, which holds the
redemption's statements).

Marking a grant used is one conditional UPDATE, so of two cashiers scanning the same coupon
exactly one succeeds and the other is told when and by whom. Voiding a grant gives its
points back (a reversal of ``redeem:<grant id>``) and its unit of stock.

A reward whose type the tenant does not use (withdrawn by the platform or turned off:
:mod:`loyalchat.tenants.plugin_access`) cannot be created or redeemed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pluggy

from loyalchat import db, events
from loyalchat.context import current_actor
from loyalchat.domain import DomainError
from loyalchat.extensions.rewards import RewardError
from loyalchat.ledger import service as ledger
from loyalchat.rewards.catalogue import (
    InvalidReward,
    UnknownRewardType,
    create_reward,
    display_name,
    get_reward,
    image_in_catalogue,
    list_rewards,
    reward_type,
    reward_types,
    update_reward,
    usable_reward_types,
)
from loyalchat.rewards.grants import (
    GrantError,
    not_usable,
    row_by_code,
    row_by_id,
    row_by_key,
    select_grants,
    to_out,
    type_grant,
)
from loyalchat.rewards.redemption import redeem
from loyalchat.rewards.schemas import GrantOut
from loyalchat.rewards.tables import Grant, GrantStatus, Reward
from loyalchat.scoping import (
    scoped_update,
)
from loyalchat.tenants import audit

__all__ = [
    "InvalidReward",
    "UnknownRewardType",
    "create_reward",
    "display_name",
    "expire_grants",
    "get_grant",
    "get_reward",
    "grant_by_key",
    "image_in_catalogue",
    "list_rewards",
    "member_grants",
    "move_grants",
    "redeem",
    "reward_type",
    "reward_types",
    "update_reward",
    "usable_reward_types",
    "use_grant",
    "void_grant",
]


async def get_grant(code: str, *, locale: str | None = None) -> GrantOut:
    """The grant with this code, as typed or scanned; :class:`NotFound` otherwise."""
    return await to_out(await row_by_code(code), locale=locale)


async def grant_by_key(key: str, *, locale: str | None = None) -> GrantOut | None:
    """The grant a redemption with this idempotency key made; None while the key is unspent."""
    row = await row_by_key(key)
    return None if row is None else await to_out(row, locale=locale)


async def member_grants(
    member_id: int,
    status: GrantStatus | str | None = None,
    *,
    locale: str | None = None,
    limit: int = 100,
) -> list[GrantOut]:
    """A member's grants, newest first (``status`` keeps one status)."""
    query = select_grants().where(Grant.member == member_id)
    if status is not None:
        query = query.where(Grant.status == GrantStatus(status).value)
    rows = await query.order_by(Grant.id, ascending=False).limit(max(1, min(limit, 500)))
    return [await to_out(row, locale=locale) for row in rows]


async def use_grant(code: str, *, pm: pluggy.PluginManager | None = None) -> GrantOut:
    """Mark the grant used by the current actor (a cashier scanning or typing the code).

    One conditional UPDATE: of two concurrent attempts exactly one wins. The loser gets
    ``already_used`` (with ``used_at`` and ``used_by_label``); also ``grant_expired``,
    ``grant_void``, ``grant_refused`` (the reward type said no), ``not_found``.
    """
    row = await row_by_code(code)
    now = datetime.now(UTC)
    actor = current_actor()
    async with db.write_transaction():
        done = (
            await scoped_update(
                Grant,
                {
                    Grant.status: GrantStatus.used.value,
                    Grant.used_at: now,
                    Grant.used_by: actor.ref,
                    Grant.used_by_label: actor.label[:254],
                },
            )
            .where(
                (Grant.id == row["id"])
                & (Grant.status == GrantStatus.issued.value)
                & (Grant.expires_at.is_null() | (Grant.expires_at > now))
            )
            .returning(Grant.id)
        )
        if not done:
            raise not_usable(await row_by_id(row["id"]))
        used = await row_by_id(row["id"])
        rtype = reward_types(pm).get(used["reward_type"])
        if rtype is not None:
            try:
                await rtype.mark_used(type_grant(used))
            except RewardError as exc:
                raise GrantError(str(exc), code="grant_refused") from exc
    await audit.record("grant.use", f"grant:{row['id']}")
    await events.emit(
        "grant_used",
        {"grant_id": row["id"], "reward_id": row["reward"], "member_id": row["member"]},
    )
    return await to_out(used, pm=pm)


async def void_grant(code: str, reason: str, *, pm: pluggy.PluginManager | None = None) -> GrantOut:
    """Cancel an issued grant: its points come back (a ``reverse`` entry), its stock too.

    A used grant cannot be voided (``already_used``); nor an expired one (``grant_expired``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("voiding a grant needs a reason", code="reason_required")
    row = await row_by_code(code)
    now = datetime.now(UTC)
    async with db.write_transaction():
        done = (
            await scoped_update(
                Grant,
                {
                    Grant.status: GrantStatus.void.value,
                    Grant.voided_at: now,
                    Grant.void_reason: reason,
                },
            )
            .where(
                (Grant.id == row["id"])
                & (Grant.status == GrantStatus.issued.value)
                & (Grant.expires_at.is_null() | (Grant.expires_at > now))
            )
            .returning(Grant.id)
        )
        if not done:
            raise not_usable(await row_by_id(row["id"]))
        entry = await ledger.entry_by_key(f"redeem:{row['id']}")
        if entry is not None:
            await ledger.reverse(entry.id, key=f"void:{row['id']}", reason=reason)
        # The unit goes back on the shelf (unlimited stock stays NULL).
        await scoped_update(Reward, {Reward.stock: Reward.stock + 1}).where(
            Reward.id == row["reward"]
        )
    await audit.record(
        "grant.void", f"grant:{row['id']}", after={"reason": reason, "points": row["points_cost"]}
    )
    await events.emit(
        "grant_voided",
        {"grant_id": row["id"], "member_id": row["member"], "points": row["points_cost"]},
    )
    return await to_out(await row_by_id(row["id"]), pm=pm)


async def expire_grants(now: datetime | None = None) -> int:
    """Mark the current tenant's issued grants past their expiry ``expired``; no refund.

    Returns how many changed. Safe to run any number of times.
    """
    now = now or datetime.now(UTC)
    rows = (
        await scoped_update(Grant, {Grant.status: GrantStatus.expired.value})
        .where(
            (Grant.status == GrantStatus.issued.value)
            & Grant.expires_at.is_not_null()
            & (Grant.expires_at <= now)
        )
        .returning(Grant.id)
    )
    return len(rows)


async def move_grants(from_member_id: int, to_member_id: int) -> int:
    """Re-point every grant of ``from_member_id`` at ``to_member_id`` (member merge).

    Runs inside the merge's transaction (``purchases.service.merge_members``), which holds
    both members' row locks; returns how many grants moved.
    """
    rows = (
        await scoped_update(Grant, {Grant.member: to_member_id})
        .where(Grant.member == from_member_id)
        .returning(Grant.id)
    )
    return len(rows)
