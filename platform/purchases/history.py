"""A member's history as what happened, not as ledger keys: the read side of the ledger.

Each points or stored-value entry becomes a row that says what it was (a purchase of
HK$88.50 with receipt POS-123, the reward 免費咖啡 redeemed, an adjustment with its
note, a merge with the other member's number), who did it and when, with the internal
key kept apart for a detail view. The rows are structured, not sentences: the console,
the wallet (and later the chat bot) word them in the reader's language.

It lives here, above the ledger, because a row joins what several domains wrote: the
ledger entry, the purchase's amount and receipt (the entry's details and reference), the
redeemed grant's reward, the other member of a merge and the staff member who acted.
Every name is looked up for a whole page at once: a fixed number of queries per page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalchat.domain import Page
from loyalchat.ledger import figures, stored_value
from loyalchat.ledger.service import EntryOut
from loyalchat.ledger.stored_value import ValueEntryOut
from loyalchat.purchases.names import (
    Actor,
    actor_names,
    member_numbers,
    ref_ids,
    reward_names_of_grants,
    split_ref,
)

__all__ = ["HistoryRow", "ValueRow", "points_history", "value_history"]

PURCHASE_PREFIX = "purchase:"
# A purchase recorded in the console without a receipt number gets this reference made
# from its form token: not a receipt the member or the staff could look up.
GENERATED_RECEIPT_PREFIX = "console-"


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One points entry, as what happened.

    ``event``: "purchase" (``amount``, ``receipt``), "earn", "redeem" (``reward``),
    "adjust" (``note``), "merge_in" / "merge_out" (``other_member``, ``note``),
    "expire", "void" (a cancelled reward's points returned: ``reward``, ``note``) or
    "reverse" (``note``). ``key`` and ``reference`` are the ledger's own words, for a
    detail view only.
    """

    id: int
    event: str
    points: int
    balance_after: int
    created_at: datetime
    actor: Actor
    amount: Decimal | None = None
    receipt: str = ""
    reward: str = ""
    note: str = ""
    other_member: str = ""
    key: str = ""
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ValueRow:
    """One stored-value entry: ``event`` is "topup", "spend" (``receipt``: the till's
    reference), "reward" (``reward``), "merge_in" / "merge_out" (``other_member``) or
    "reverse"; ``amount`` is signed."""

    id: int
    event: str
    amount: Decimal
    balance_after: Decimal
    created_at: datetime
    actor: Actor
    receipt: str = ""
    reward: str = ""
    note: str = ""
    other_member: str = ""
    key: str = ""
    reference: str = ""


async def points_history(
    member_id: int, locale: str, *, limit: int = 50, offset: int = 0
) -> Page[HistoryRow]:
    """The member's points entries, newest first, as :class:`HistoryRow` (names in ``locale``)."""
    page = await figures.history(member_id, limit=limit, offset=offset)
    names = await _names(page.items, locale)
    rows = [_points_row(entry, names) for entry in page.items]
    return Page(items=rows, total=page.total, limit=page.limit, offset=page.offset)


async def value_history(
    member_id: int, locale: str, *, limit: int = 20, offset: int = 0
) -> Page[ValueRow]:
    """The member's stored-value entries, newest first, as :class:`ValueRow`."""
    page = await stored_value.history(member_id, limit=limit, offset=offset)
    names = await _names(page.items, locale)
    rows = [_value_row(entry, names) for entry in page.items]
    return Page(items=rows, total=page.total, limit=page.limit, offset=page.offset)


# -- shaping ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Names:
    actors: dict[str, Actor]
    members: dict[int, str]
    rewards: dict[int, str]


async def _names(entries: Iterable[EntryOut | ValueEntryOut], locale: str) -> _Names:
    entries = list(entries)
    references = [entry.reference for entry in entries]
    return _Names(
        actors=await actor_names(entry.actor for entry in entries),
        members=await member_numbers(ref_ids(references, "member")),
        rewards=await reward_names_of_grants(ref_ids(references, "grant"), locale),
    )


def _points_row(entry: EntryOut, names: _Names) -> HistoryRow:
    ref_kind, ref_id = split_ref(entry.reference)
    common: dict[str, Any] = {
        "id": entry.id,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "created_at": entry.created_at,
        "actor": names.actors.get(entry.actor, Actor("system", "")),
        "key": entry.idempotency_key,
        "reference": entry.reference,
    }
    reward = names.rewards.get(ref_id, "") if ref_kind == "grant" and ref_id else ""
    if entry.kind == "earn" and entry.reference.startswith(PURCHASE_PREFIX):
        receipt = entry.reference.removeprefix(PURCHASE_PREFIX)
        if receipt.startswith(GENERATED_RECEIPT_PREFIX):
            receipt = ""
        return HistoryRow(
            event="purchase", amount=_amount(entry.details.get("amount")), receipt=receipt, **common
        )
    if entry.kind == "earn":
        return HistoryRow(event="earn", note=entry.reason, **common)
    if entry.kind == "redeem":
        # The name in the reader's language; the English one stored on the entry is a fallback.
        return HistoryRow(event="redeem", reward=reward or entry.reason, **common)
    if entry.kind == "adjust" and ref_kind == "member":
        event = "merge_in" if entry.points > 0 else "merge_out"
        other = names.members.get(ref_id or 0, "")
        return HistoryRow(event=event, other_member=other, note=entry.reason, **common)
    if entry.kind == "adjust":
        return HistoryRow(event="adjust", note=entry.reason, **common)
    if entry.kind == "expire":
        return HistoryRow(event="expire", **common)
    if entry.kind == "reverse" and entry.idempotency_key.startswith("void:"):
        return HistoryRow(event="void", reward=reward, note=entry.reason, **common)
    return HistoryRow(event="reverse", note=entry.reason, **common)


def _value_row(entry: ValueEntryOut, names: _Names) -> ValueRow:
    ref_kind, ref_id = split_ref(entry.reference)
    common: dict[str, Any] = {
        "id": entry.id,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "created_at": entry.created_at,
        "actor": names.actors.get(entry.actor, Actor("system", "")),
        "key": entry.idempotency_key,
        "reference": entry.reference,
        "note": entry.reason,
    }
    if ref_kind == "member":
        event = "merge_in" if entry.amount > 0 else "merge_out"
        return ValueRow(event=event, other_member=names.members.get(ref_id or 0, ""), **common)
    if entry.kind == "grant":
        reward = names.rewards.get(ref_id, "") if ref_kind == "grant" and ref_id else ""
        return ValueRow(event="reward", reward=reward, **common)
    if entry.kind in ("topup", "spend"):
        return ValueRow(event=entry.kind, receipt=entry.reference, **common)
    return ValueRow(event="reverse", **common)


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None
