"""A member's receipts, a page at a time, newest first: what the JSON API lists.

Offset pages with a total, as every list of ``/api/v1`` (``api_pages.offset_page``), of
:class:`~loyalchat.receipts.service.ReceiptOut`; ``receipts.service.member_receipts``
pages by id (``before_id``) for the bot and the console.
"""

from __future__ import annotations

from loyalchat.domain import Page
from loyalchat.receipts.service import ReceiptOut, receipt_out, receipt_query
from loyalchat.receipts.tables import Receipt, ReceiptStatus
from loyalchat.scoping import scoped_count


async def member_receipts_page(
    member_id: int,
    *,
    status: ReceiptStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ReceiptOut]:
    """The current tenant's receipts of ``member_id``, newest first."""
    where = Receipt.member == member_id
    if status is not None:
        where = where & (Receipt.status == status.value)
    rows = (
        await receipt_query()
        .where(where)
        .order_by(Receipt.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await scoped_count(Receipt).where(where)
    return Page(items=[receipt_out(row) for row in rows], total=total, limit=limit, offset=offset)
