"""Create something once per idempotency key: members, rewards, API keys.

The shape of ``loyalchat.ledger.once`` for rows that are not ledger entries. The table
has a nullable ``idempotency_key`` column with a unique index on (tenant, key); the
index, not a read before the write, decides "once": of two concurrent creates with one
key, the loser's insert fails, its transaction rolls back (a member number comes back
to the counter, so no gap), and it answers with the winner's row. A retry after a 5xx
that came after the commit, or after the API's stored response was purged or taken
over, finds the first row the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from loyalchat import db
from loyalchat.domain import DomainError

T = TypeVar("T")
MAX_KEY_LENGTH = 200


def check_key(key: str) -> None:
    """``invalid_key`` unless ``key`` is 1-200 characters (what the columns hold)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError("an idempotency key of 1-200 characters is required", code="invalid_key")


async def create_once(
    key: str | None,
    lookup: Callable[[str], Awaitable[T | None]],
    create: Callable[[], Awaitable[T]],
) -> tuple[T, bool]:
    """``(create(), False)``, or ``(the first result, True)`` when ``key`` was used.

    ``create`` runs its own write transaction and stores ``key`` in the row it inserts;
    ``lookup`` finds the row stored with a key. Without a key every call creates. Inside
    a caller's transaction a failed insert spoils that transaction, so only the
    outermost level may answer with the winner's row; a nested call re-raises.
    """
    if key is not None:
        check_key(key)
        if (found := await lookup(key)) is not None:
            return found, True
    nested = db.current_engine().current_transaction.get() is not None
    try:
        return await create(), False
    except Exception as exc:
        if key is None or nested or not db.is_unique_violation(exc):
            raise
        found = await lookup(key)
        if found is None:
            raise
        return found, True
