"""A member's receipts, a page at a time, newest first: what the JSON API lists.

Offset pages with a total, as every list of ``/api/v1`` (``api_pages.offset_page``);
``receipts.service.member_receipts`` pages by id for the bot and the console.
"""

from __future__ import annotations

from typing import Any

from loyalchat.domain import Page
from loyalchat.receipts.tables import Receipt, ReceiptStatus
from loyalchat.scoping import scoped_count, scoped_select

COLUMNS = (
    Receipt.id,
    Receipt.status,
    Receipt.channel,
    Receipt.branch,
    Receipt.merchant,
    Receipt.receipt_no,
    Receipt.receipt_date,
    Receipt.total,
    Receipt.member_amount,
    Receipt.amount,
    Receipt.points,
    Receipt.reasons,
    Receipt.checks,
    Receipt.fields,
    Receipt.decided_by,
    Receipt.decided_at,
    Receipt.note,
    Receipt.created_at,
    Receipt.updated_at,
)


async def member_receipts_page(
    member_id: int,
    *,
    status: ReceiptStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """The current tenant's receipts of ``member_id`` (rows of :data:`COLUMNS`)."""
    where = Receipt.member == member_id
    if status is not None:
        where = where & (Receipt.status == status.value)
    rows = (
        await scoped_select(Receipt, *COLUMNS)
        .where(where)
        .order_by(Receipt.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    total = await scoped_count(Receipt).where(where)
    return Page(items=rows, total=total, limit=limit, offset=offset)
