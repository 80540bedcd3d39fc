"""Run a ledger write once per idempotency key: the shape both ledgers share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from loyalchat import db
from loyalchat.domain import Conflict
from loyalchat.idempotency.creating import create_once


class HasMember(Protocol):
    member_id: int


T = TypeVar("T", bound=HasMember)


async def once(
    key: str,
    member_id: int,
    lookup: Callable[[str], Awaitable[T | None]],
    write: Callable[[], Awaitable[T]],
) -> T:
    """``write()`` in a write transaction unless ``key`` was used; then the first result.

    :func:`loyalchat.idempotency.creating.create_once` decides: the unique index on
    (tenant, key) settles a race between two requests with one key, the loser's
    transaction rolls back and it answers with the winner's entry (only at the outermost
    level). A key first used for another member is a conflict, never that member's entry.
    """

    async def write_in_transaction() -> T:
        async with db.write_transaction():
            return await write()

    entry, replayed = await create_once(key, lookup, write_in_transaction)
    if replayed and entry.member_id != member_id:
        raise Conflict(
            "this idempotency key was already used for another member",
            code="idempotency_conflict",
        )
    return entry
