"""Run a ledger write once per idempotency key: the shape both ledgers share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from loyalchat import db
from loyalchat.domain import Conflict, DomainError


class HasMember(Protocol):
    member_id: int


T = TypeVar("T", bound=HasMember)


def check_key(key: str) -> None:
    if not key or len(key) > 200:
        raise DomainError("an idempotency key of 1-200 characters is required", code="invalid_key")


async def once(
    key: str,
    member_id: int,
    lookup: Callable[[str], Awaitable[T | None]],
    write: Callable[[], Awaitable[T]],
) -> T:
    """``write()`` in a write transaction unless ``key`` was used; then the first result.

    The unique index on (tenant, key) decides a race between two requests with one key:
    the loser's transaction rolls back and it answers with the winner's entry. Inside a
    caller's transaction a failed statement spoils that transaction, so only the
    outermost level may answer; nested calls re-raise.
    """
    check_key(key)
    existing = await lookup(key)
    if existing is not None:
        if existing.member_id != member_id:
            raise Conflict(
                "this idempotency key was already used for another member",
                code="idempotency_conflict",
            )
        return existing
    nested = db.current_engine().current_transaction.get() is not None
    try:
        async with db.write_transaction():
            return await write()
    except Exception as exc:
        if nested or not db.is_unique_violation(exc):
            raise
        existing = await lookup(key)
        if existing is None:
            raise
        return existing
