"""Redemption: points exchanged for a grant of a reward, in one transaction.

(With a stock or a per-member limit: the member's row lock, the limit, one conditional
UPDATE of the stock), the grant row with its code, the reward type's ``issue()`` and the
points debit (``redeem:<grant id>``), which takes the member's row lock last when nothing
took it before, so the lock is held for the debit's statement and the commit; any refusal
rolls all of it back, stock included.

A reward type declares ``consumed_on_issue`` (``True``: the grant is ``used`` as soon as
it is issued, e.g. stored value credited at once). A reward whose type the tenant does not
use (withdrawn by the platform or turned off: :mod:`loyalchat.tenants.plugin_access`)
cannot be redeemed (``reward_unavailable``). A member's concurrent redemptions in one
process share a transaction (:mod:`loyalchat.ledger.member_batches`), each still all or
nothing. Part of :mod:`loyalchat.rewards.service`'s
writes: callers use ``rewards.service.redeem``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pluggy

from loyalchat import db, events
from loyalchat.bounds import stored_moment
from loyalchat.context import current_actor
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.extensions.rewards import RewardError
from loyalchat.ledger import member_batches
from loyalchat.ledger import service as ledger
from loyalchat.ledger.service import InsufficientPoints
from loyalchat.ledger.tables import EntryKind
from loyalchat.members.tables import MemberStatus
from loyalchat.rewards import codes, text
from loyalchat.rewards.catalogue import (
    UnknownRewardType,
    get_reward,
    usable_reward_type,
)
from loyalchat.rewards.grants import (
    GrantError,
    row_by_id,
    row_by_key,
    to_out,
    type_grant,
)
from loyalchat.rewards.schemas import MAX_VALIDITY_DAYS, GrantOut
from loyalchat.rewards.tables import Grant, GrantStatus, Reward
from loyalchat.scoping import (
    new_row,
    save_row,
    scoped_count,
    scoped_raw,
    scoped_select,
    scoped_update,
)
from loyalchat.tenants.plugin_access import PluginDisabled

_ATTEMPTS = 3  # a code collision (1 in 10**12 per grant) retries the whole redemption


async def redeem(
    member_id: int, reward_id: int, *, key: str, pm: pluggy.PluginManager | None = None
) -> GrantOut:
    """Exchange the member's points for a grant of the reward, atomically and idempotently.

    ``key`` identifies the request: a second call with the same key changes nothing and
    returns the first grant (``replayed=True``). Refusals (codes): ``insufficient_points``,
    ``out_of_stock``, ``limit_reached``, ``reward_unavailable``, ``member_merged``,
    ``idempotency_conflict`` (the key was used for another member or reward), ``not_found``.
    """
    if not key or len(key) > 200:
        raise DomainError("an idempotency key of 1-200 characters is required", code="invalid_key")
    nested = db.current_engine().current_transaction.get() is not None
    for attempt in range(_ATTEMPTS):
        try:
            # A member's concurrent redemptions share a transaction (one lock, one commit).
            row = await member_batches.run(
                member_id, lambda: _redeem_once(member_id, reward_id, key, pm)
            )
            break
        except Exception as exc:
            # A key already used answers with its grant, whatever this attempt ran into
            # (a refusal, or the twin's insert winning the unique index). Inside a
            # caller's transaction a failed statement spoils it: only the caller can
            # retry. Otherwise a unique violation with no grant is a code collision, and a
            # deadlock (two members' redemptions taking stock in opposite orders) is tried again.
            refused = isinstance(exc, DomainError)
            if not refused and (nested or not db.is_retryable(exc)):
                raise
            existing = await row_by_key(key)
            if existing is not None:
                return await _replay(existing, member_id, reward_id, pm)
            if refused or attempt == _ATTEMPTS - 1:
                raise
    if row is None:  # a twin request with this key got there first
        return await _replay(await _row_by_key(key), member_id, reward_id, pm)
    await events.emit(
        "reward_redeemed",
        {
            "grant_id": row["id"],
            "reward_id": reward_id,
            "member_id": member_id,
            "points_cost": row["points_cost"],
            "reward_type": row["reward_type"],
        },
    )
    return await to_out(row, pm=pm)


async def _row_by_key(key: str) -> dict[str, Any]:
    row = await row_by_key(key)
    if row is None:
        raise NotFound("no such grant")
    return row


async def _replay(
    row: dict[str, Any], member_id: int, reward_id: int, pm: pluggy.PluginManager | None
) -> GrantOut:
    if row["member"] != member_id or row["reward"] != reward_id:
        raise Conflict(
            "this idempotency key was already used for another redemption",
            code="idempotency_conflict",
        )
    return await to_out(row, replayed=True, pm=pm)


async def _redeem_once(
    member_id: int, reward_id: int, key: str, pm: pluggy.PluginManager | None
) -> dict[str, Any] | None:
    """The body of the redemption transaction: the new grant's row (as :func:`to_out` reads
    it), or None when a twin request with this key got there first (nothing written).

    The member's row lock is taken as late as it can be: an unlimited reward without a
    per-member limit inserts and issues its grant first (refusing a short balance as read
    then) and takes the lock with the points debit, the last statements before the commit.
    """
    now = datetime.now(UTC)
    row = await _insert_plain_grant(member_id, reward_id, key, now)
    if row is not None:
        try:
            rtype = await usable_reward_type(row["reward_type"], pm)  # cached: no query
        except (UnknownRewardType, PluginDisabled) as exc:
            raise _unavailable("this reward cannot be redeemed now") from exc
        cost = row["points_cost"]
    else:
        row, rtype = await _checked_grant(member_id, reward_id, key, pm, now)
        if row is None:
            return None
        cost = row["points_cost"]
    # Refused before the type issues anything; the debit below still decides, under the
    # member's lock, which it takes last: held for the debit's statement and the commit.
    ledger.check_balance(row.pop("member_points"), cost)
    try:
        issued = await rtype.issue(type_grant(row))
    except RewardError as exc:
        raise _unavailable(str(exc) or "this reward cannot be issued now") from exc
    changes: dict[str, Any] = {"data": dict(issued.data)}
    if issued.code and codes.normalize(issued.code) != row["code"]:
        changes["code"] = codes.normalize(issued.code)
    if issued.expires_at is not None:
        changes["expires_at"] = issued.expires_at.astimezone(UTC)
    if rtype.consumed_on_issue:
        actor = current_actor()
        changes.update(
            status=GrantStatus.used.value,
            used_at=now,
            used_by=actor.ref,
            used_by_label=actor.label[:254],
        )
    issued_sql, issued_values = _issued(row["id"], changes)
    if db.database_is_sqlite():
        await scoped_raw(Grant, issued_sql, *issued_values)
    try:
        await ledger.debit(
            member_id,
            cost,
            kind=EntryKind.redeem,
            key=f"redeem:{row['id']}",
            reason=text.pick(row["reward_name"], "en"),
            reference=f"grant:{row['id']}",
            key_is_new=True,
            # PostgreSQL: stored in the debit's statement, a round trip less under the lock.
            also=None if db.database_is_sqlite() else (f"issued AS ({issued_sql})", issued_values),
        )
    except InsufficientPoints:
        # Merged since the grant went in (a merged member holds no points): say so.
        if (await ledger.lock_member(member_id))["status"] == MemberStatus.merged.value:
            raise _merged() from None
        raise
    # The row as now stored, without reading it back.
    return {**row, **changes}


async def _insert_plain_grant(
    member_id: int, reward_id: int, key: str, now: datetime
) -> dict[str, Any] | None:
    """PostgreSQL, the common case in one statement: an active reward inside its window,
    with no stock and no per-member limit, read and granted to an active member (with the
    member's points and locale, and the reward's name, type and options). None when any
    of that does not hold or the key is taken (nothing written): :func:`_checked_grant`
    then checks one by one and says why."""
    if db.database_is_sqlite():
        return None
    rows = await scoped_raw(
        Grant,
        "WITH r AS (SELECT id, points_cost, validity_days, name, type, options FROM reward "
        "WHERE tenant = {tenant} AND id = {} AND stock IS NULL AND per_member_limit IS NULL "
        "AND active AND (starts_at IS NULL OR starts_at <= {}) "
        "AND (ends_at IS NULL OR {} < ends_at)), "
        "m AS (SELECT m.id, m.points AS member_points, m.locale AS member_locale, "
        "t.locale AS tenant_locale, t.timezone AS tenant_timezone FROM member m "
        "JOIN tenant t ON t.id = m.tenant "
        "WHERE m.tenant = {tenant} AND m.id = {} AND m.status <> 'merged'), "
        "g AS (INSERT INTO reward_grant (tenant, reward, member, code, status, points_cost, "
        "idempotency_key, data, issued_at, expires_at) SELECT {tenant}::integer, r.id, m.id, "
        "{}::text, 'issued', r.points_cost, {}::text, {}::json, {}::timestamptz, "
        # Capped as the catalogue caps it; whole days of 86,400 s, as timedelta(days=) adds.
        "CASE WHEN COALESCE(r.validity_days, 0) <> 0 THEN {}::timestamptz + "
        "make_interval(secs => LEAST(r.validity_days, {}::integer) * 86400) END "
        "FROM r, m ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING *) "
        "SELECT g.*, m.member_points, m.member_locale, m.tenant_locale, m.tenant_timezone, "
        "r.name AS reward_name, r.type AS reward_type, r.options AS reward_options "
        "FROM g, m, r",
        reward_id,
        now,
        now,
        member_id,
        codes.new_code(),  # a rare clash hits the unique index: redeem retries
        key,
        "{}",
        now,
        now,
        MAX_VALIDITY_DAYS,
    )
    if not rows:
        return None
    row = dict(rows[0])
    for name in ("data", "reward_name", "reward_options"):
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return row


async def _checked_grant(
    member_id: int,
    reward_id: int,
    key: str,
    pm: pluggy.PluginManager | None,
    now: datetime,
) -> tuple[dict[str, Any] | None, Any]:
    """The grant of a reward with a stock or a per-member limit (or on SQLite, or whatever
    the plain insert refused, to say why): every check in Python, the member's lock first
    when the limit or the stock needs it; (its row, the reward type), no row for a twin."""
    reward = await get_reward(reward_id)
    _check_available(reward.active, reward.starts_at, reward.ends_at, now)
    try:
        rtype = await usable_reward_type(reward.type, pm)  # cached: no query per redemption
    except (UnknownRewardType, PluginDisabled) as exc:
        raise _unavailable("this reward cannot be redeemed now") from exc
    cost, validity_days = reward.points_cost, reward.validity_days
    if reward.per_member_limit is not None or reward.stock is not None:
        # Counting the member's grants needs its lock first; the stock's row lock comes
        # after it (void_grant takes them in the same order).
        member = await ledger.lock_member(member_id)
        if member["status"] == MemberStatus.merged.value:
            raise _merged()
        # Under the member lock a twin request with the same key has committed or not begun.
        twin = await scoped_select(Grant, Grant.id).where(Grant.idempotency_key == key).first()
        if twin is not None:
            return None, rtype
        if reward.per_member_limit is not None:
            await _check_limit(member_id, reward_id, reward.per_member_limit)
        if reward.stock is not None:
            cost, validity_days = await _take_stock(reward_id, now)
    # Capped as the catalogue caps it: a row saved before the cap must not 500 (overflow).
    days = min(validity_days or 0, MAX_VALIDITY_DAYS)
    row = await _insert_grant(
        member_id,
        reward_id,
        key=key,
        code=codes.new_code(),  # a rare clash hits the unique index: redeem retries
        points_cost=cost,
        issued_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    if row is None:
        return None, rtype
    row.update(reward_name=reward.name, reward_type=reward.type, reward_options=reward.options)
    return row, rtype


async def _insert_grant(
    member_id: int,
    reward_id: int,
    *,
    key: str,
    code: str,
    points_cost: int,
    issued_at: datetime,
    expires_at: datetime | None,
) -> dict[str, Any] | None:
    """Insert an issued grant; its row with the member's and tenant's locale and the
    member's points as this statement saw them (``member_points``), or None when a twin
    request's grant holds ``key`` (:class:`NotFound`, ``member_merged``).

    PostgreSQL: one statement that takes no member lock (ON CONFLICT waits for a twin's
    transaction and then leaves its grant alone). SQLite: the write lock is already held.
    """
    values = (reward_id, code, points_cost, key, "{}", issued_at, expires_at)
    if db.database_is_sqlite():
        rows = []
    else:
        rows = await scoped_raw(
            Grant,
            "WITH m AS (SELECT m.id, m.points AS member_points, m.locale AS member_locale, "
            "t.locale AS tenant_locale, "
            "t.timezone AS tenant_timezone FROM member m JOIN tenant t ON t.id = m.tenant "
            "WHERE m.tenant = {tenant} AND m.id = {} AND m.status <> 'merged'), "
            "g AS (INSERT INTO reward_grant (tenant, reward, member, code, status, points_cost, "
            "idempotency_key, data, issued_at, expires_at) SELECT {tenant}::integer, "
            "{}::integer, m.id, {}::text, 'issued', {}::integer, {}::text, {}::json, "
            "{}::timestamptz, {}::timestamptz FROM m "
            "ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING *) "
            "SELECT g.*, m.member_points, m.member_locale, m.tenant_locale, m.tenant_timezone "
            "FROM g, m",
            member_id,
            *values,
        )
    if rows:
        row = dict(rows[0])
        row["data"] = json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]
        return row
    # Why not: a twin's grant, or the member (the grant's insert took no lock; this does).
    if await scoped_select(Grant, Grant.id).where(Grant.idempotency_key == key).first():
        return None
    member = await ledger.lock_member(member_id)
    if member["status"] == MemberStatus.merged.value:
        raise _merged()
    if not db.database_is_sqlite():
        raise RuntimeError(f"grant for member {member_id} not inserted")
    grant = new_row(
        Grant,
        reward=reward_id,
        member=member_id,
        code=code,
        status=GrantStatus.issued.value,
        points_cost=points_cost,
        idempotency_key=key,
        data={},
        issued_at=issued_at,
        expires_at=expires_at,
    )
    await save_row(grant)
    return {**await row_by_id(grant.id), "member_points": member["points"]}


def _issued(grant_id: int, changes: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE that stores what the type's ``issue()`` gave (``changes``: column name ->
    value), for :func:`loyalchat.scoping.scoped_raw`, and its values."""
    casts = {} if db.database_is_sqlite() else _CASTS
    assignments = ", ".join(
        f'"{Grant._meta.get_column_by_name(name)._meta.name}" = {{}}{casts.get(name, "")}'
        for name in changes
    )
    return (
        f"UPDATE reward_grant SET {assignments} WHERE tenant = {{tenant}} AND id = {{}}",  # noqa: S608
        (*(json.dumps(v) if isinstance(v, dict) else v for v in changes.values()), grant_id),
    )


# PostgreSQL: in a CTE of the debit's statement a bare parameter gets no type of its own.
_CASTS = {
    "data": "::json",
    "code": "::text",
    "expires_at": "::timestamptz",
    "status": "::text",
    "used_at": "::timestamptz",
    "used_by": "::text",
    "used_by_label": "::text",
}


async def _check_limit(member_id: int, reward_id: int, limit: int) -> None:
    taken = await scoped_count(Grant).where(
        (Grant.member == member_id)
        & (Grant.reward == reward_id)
        & (Grant.status != GrantStatus.void.value)
    )
    if taken >= limit:
        raise GrantError(
            f"this member has already redeemed this reward {taken} time(s), the most allowed",
            code="limit_reached",
            limit=limit,
        )


async def _take_stock(reward_id: int, now: datetime) -> tuple[int, int | None]:
    """Take a unit of stock with one conditional UPDATE; the reward's cost and validity
    as they are under its row lock."""
    locked = (
        await scoped_update(Reward, {Reward.stock: Reward.stock - 1})
        .where((Reward.id == reward_id) & (Reward.stock > 0))
        .returning(
            Reward.active,
            Reward.starts_at,
            Reward.ends_at,
            Reward.points_cost,
            Reward.validity_days,
        )
    )
    if not locked:
        raise GrantError("this reward is out of stock", code="out_of_stock")
    current = locked[0]
    _check_available(current["active"], current["starts_at"], current["ends_at"], now)
    return current["points_cost"], current["validity_days"]


def _merged() -> DomainError:
    return DomainError("this member was merged into another member", code="member_merged")


def _check_available(
    active: bool, starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> None:
    if not active:
        raise _unavailable("this reward is not offered at the moment")
    starts_at, ends_at = stored_moment(starts_at), stored_moment(ends_at)  # naive infinities
    if starts_at is not None and now < starts_at:
        raise _unavailable("this reward is not offered yet", starts_at=starts_at.isoformat())
    if ends_at is not None and now >= ends_at:
        raise _unavailable("this reward is no longer offered", ends_at=ends_at.isoformat())


def _unavailable(message: str, **extra: Any) -> GrantError:
    return GrantError(message, code="reward_unavailable", **extra)
