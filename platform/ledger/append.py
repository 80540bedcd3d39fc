"""The one append path the points ledger and stored value share.

Used only by the ledger's writers (:mod:`loyalchat.ledger.service`,
:mod:`loyalchat.ledger.stored_value`), inside their transactions: move the member's cached
balance with one conditional UPDATE, which also takes the member's row lock, and append
the entry recording the balance it left, under its idempotency key (unique per tenant).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from piccolo.table import Table

from loyalchat import db
from loyalchat.context import current_actor
from loyalchat.domain import DomainError, NotFound
from loyalchat.members.tables import Member
from loyalchat.scoping import new_row, scoped_insert, scoped_raw


@dataclass(frozen=True, slots=True)
class Book:
    """A balance cached on the member row and the append-only entries that explain it."""

    table: type[Table]  # the entries
    balance: str  # the member's column
    amount: str  # the entry's signed column
    most: int | Decimal  # the largest balance the member's column holds
    refused: Callable[[Any, Any], DomainError]  # (current balance, delta) -> the refusal


_CASTS = {str: "text", int: "bigint", Decimal: "numeric", datetime: "timestamptz"}


def _cast(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "::json"
    return "::" + _CASTS[type(value)]


async def append_entry(
    book: Book,
    member_id: int,
    delta: int | Decimal,
    values: dict[str, Any],
    *,
    then: tuple[str, tuple[Any, ...]] | None = None,
    also: tuple[str, tuple[Any, ...]] | None = None,
) -> dict[str, Any]:
    """Move the member's ``book.balance`` by ``delta`` and append the entry; its stored row.

    ``values``: the entry's other columns (``kind``, ``idempotency_key``, ``reason``...;
    the actor and the time are added). The balance moves by one conditional UPDATE that
    keeps it at or above zero and inside its column, and takes the member's row lock; the
    entry records the balance it left (``balance_after``). Refused: ``book.refused`` (not
    enough, or past the column), :class:`NotFound`. A key already used fails the unique
    index (callers go through :func:`loyalchat.ledger.once.once`).

    PostgreSQL: one statement, a data-modifying CTE. SQLite: a read and two writes under
    the write lock its immediate transaction holds (and Decimal sums: SQLite would add
    stored value in binary floating point).

    ``then`` (PostgreSQL only): more CTEs for the same statement, after ``moved`` (the
    member's new balance) and ``entry`` (the entry's row), with their values; they must
    define ``done``, whose ``n`` sums into the row's ``then_total`` (SQLite: no such key).
    ``also`` (PostgreSQL only): CTEs that do not depend on the entry, run in the same
    statement before it (a write the caller would otherwise send in a round trip of its own
    while holding the member's lock), with their values.
    """
    actor = current_actor()
    row = {
        "member": member_id,
        book.amount: delta,
        **values,
        "actor": actor.ref,
        "actor_label": actor.label,
        "created_at": datetime.now(UTC),
    }
    if db.database_is_sqlite():
        return await _append_sqlite(book, member_id, delta, row)
    # The bound is written so the sum is never computed past the column (int overflow).
    bound, limit = (">=", -delta) if delta < 0 else ("<=", book.most - delta)
    values = [json.dumps(v) if isinstance(v, dict) else v for v in row.values()]
    more, more_values = then or ("", ())
    first, first_values = also or ("", ())
    rows = await scoped_raw(
        book.table,
        # Identifiers come from the Book constants; every value is bound.
        f"WITH {first + ', ' if first else ''}moved AS (UPDATE member SET {book.balance} = {book.balance} + {{}}"  # noqa: S608
        f" WHERE tenant = {{tenant}} AND id = {{}} AND {book.balance} {bound} {{}}"
        f" RETURNING {book.balance} AS balance), "
        f"entry AS (INSERT INTO {book.table._meta.tablename} "
        f"(tenant, balance_after, {', '.join(row)}) "
        f"SELECT {{tenant}}::integer, balance, {', '.join('{}' + _cast(v) for v in row.values())} "
        f"FROM moved RETURNING *){', ' + more if more else ''} "
        + (
            "SELECT entry.*, (SELECT COALESCE(SUM(n), 0) FROM done) AS then_total FROM entry"
            if more
            else "SELECT * FROM entry"
        ),
        *first_values,
        delta,
        member_id,
        limit,
        *values,
        *more_values,
    )
    if not rows:
        raise await _refusal(book, member_id, delta)
    return rows[0]


async def _append_sqlite(
    book: Book, member_id: int, delta: int | Decimal, row: dict[str, Any]
) -> dict[str, Any]:
    current = await _balance(book, member_id)
    balance = current + delta
    if balance < 0 or balance > book.most:
        raise book.refused(current, delta)
    await scoped_raw(
        Member, f"UPDATE member SET {book.balance} = {{}} WHERE tenant = {{tenant}} AND id = {{}}",  # noqa: S608
        str(balance) if isinstance(balance, Decimal) else balance, member_id,
    )  # fmt: skip
    inserted = await scoped_insert(
        book.table, new_row(book.table, **row, balance_after=balance)
    ).returning(*book.table.all_columns())
    return inserted[0]


async def _balance(book: Book, member_id: int) -> int | Decimal:
    found = await scoped_raw(
        Member, f"SELECT {book.balance} AS b FROM member WHERE tenant = {{tenant}} AND id = {{}}",  # noqa: S608
        member_id,
    )  # fmt: skip
    if not found:
        raise NotFound("member not found")
    current = found[0]["b"]
    return Decimal(str(current)) if isinstance(book.most, Decimal) else current


async def _refusal(book: Book, member_id: int, delta: int | Decimal) -> DomainError:
    """Why the conditional UPDATE moved nothing (read after it, in the same transaction)."""
    try:
        current = await _balance(book, member_id)
    except NotFound as exc:
        return exc
    return book.refused(current, delta)
