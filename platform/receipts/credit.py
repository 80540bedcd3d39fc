"""Credit a receipt once: its claims, the ledger entry and its status in one transaction.

The order inside the transaction is what makes "once" hold:

1. the receipt row is taken by one conditional UPDATE from the status the caller holds
   (``checking`` for the pipeline, ``needs_review``/``awaiting_member`` for a decision):
   a second run of the same receipt waits on that row lock, then finds it moved on;
2. its keys (``sha:<sha256>``, ``key:<merchant>|<number>|<date>|<total>``) are inserted
   into ``receipt_claim`` with ON CONFLICT DO NOTHING: a key another receipt holds (the
   same photo sent by two members at the same moment: the second insert waits for the
   first transaction, then finds the key) means a duplicate, and this receipt's claims
   are taken back. No statement fails, so this works inside a caller's transaction too
   (the bot's, when a member confirms the amount in the chat);
3. ``record_purchase`` (earning rules) credits the points under the ledger key
   ``receipt:<id>``;
4. the receipt becomes ``credited`` with the amount, points and entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalchat import db
from loyalchat.domain import DomainError
from loyalchat.purchases.service import record_purchase
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.receipts.tables import Receipt, ReceiptClaim, ReceiptStatus
from loyalchat.scoping import new_row, scoped_delete, scoped_insert, scoped_select, scoped_update


@dataclass(frozen=True, slots=True)
class Credited:
    points: int
    balance: int
    entry_id: int | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A key of this receipt is held by another, credited receipt."""

    other_id: int
    used_on: date | None
    key: str


class Moved(Exception):
    """The receipt is no longer in the status the caller held (another run decided)."""


async def _claim_keys(receipt_id: int, keys: Sequence[str]) -> Duplicate | None:
    for key in keys:
        row = new_row(ReceiptClaim, key=key[:255], receipt=receipt_id)
        inserted = await (
            scoped_insert(ReceiptClaim, row)
            .on_conflict(action="DO NOTHING")
            .returning(ReceiptClaim.id)
        )
        if inserted:
            continue
        holder = (
            await scoped_select(ReceiptClaim, ReceiptClaim.receipt, ReceiptClaim.created_at)
            .where(ReceiptClaim.key == key[:255])
            .first()
        )
        if holder is None or holder["receipt"] == receipt_id:
            continue
        await _release(receipt_id)
        used = holder["created_at"]
        return Duplicate(holder["receipt"], await _shop_day(used) if used else None, key)
    return None


async def _shop_day(moment: datetime) -> date:
    """The day of ``moment`` in the shop's time zone: "already used on" is the member's day."""
    zone_name = (await get_receipt_settings()).profile.timezone
    try:
        return moment.astimezone(ZoneInfo(zone_name)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


async def _release(receipt_id: int) -> None:
    await scoped_delete(ReceiptClaim).where(ReceiptClaim.receipt == receipt_id)


async def credit(
    receipt_id: int,
    *,
    held: str,
    member_id: int,
    amount: Decimal,
    on: date | None,
    keys: Sequence[str],
    values: dict[Any, Any] | None = None,
) -> Credited | Duplicate:
    """Credit receipt ``receipt_id`` (see the module docstring); ``values``: more columns
    to write with ``credited`` (decided_by, note...). Raises :class:`Moved` when the
    receipt is not ``held`` any more, and the earning rules' ``DomainError`` (a merged
    member) with nothing written."""
    now = datetime.now(UTC)
    async with db.write_transaction():
        taken = (
            await scoped_update(Receipt, {Receipt.updated_at: now}, use_auto_update=False)
            .where((Receipt.id == receipt_id) & (Receipt.status == held))
            .returning(Receipt.id)
        )
        if not taken:
            raise Moved(f"receipt {receipt_id} is no longer {held}")
        duplicate = await _claim_keys(receipt_id, keys)
        if duplicate is not None:
            return duplicate
        try:
            purchase = await record_purchase(
                member_id,
                amount,
                reference=f"receipt {receipt_id}",
                key=f"receipt:{receipt_id}",
                on=on,
            )
        except DomainError:
            await _release(receipt_id)  # inside a caller's transaction nothing rolls back
            raise
        entry_id = purchase.entry.id if purchase.entry is not None else None
        await scoped_update(
            Receipt,
            {
                Receipt.status: ReceiptStatus.credited.value,
                Receipt.amount: purchase.amount,
                Receipt.points: purchase.points,
                Receipt.entry: entry_id,
                Receipt.decided_at: now,
                Receipt.updated_at: now,
                **(values or {}),
            },
            use_auto_update=False,
        ).where(Receipt.id == receipt_id)
    return Credited(purchase.points, purchase.balance, entry_id, purchase.amount)
