"""Staff decisions through ``loyalchat.receipts.review`` on PostgreSQL: an approval writes
the receipt's claims, so a copy of an approved receipt cannot be approved too (``duplicate``
naming the other one, nothing credited); a decided receipt refuses a second decision
(``already_decided``); every decision is in the audit log; reasons are checked. The rows
are planted as the pipeline leaves them for review (the pipeline's own tests read photos)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from loyalchat.context import tenant_context
from loyalchat.domain import DomainError
from loyalchat.receipts import review
from loyalchat.receipts.service import get_receipt
from loyalchat.receipts.tables import Receipt
from loyalchat.scoping import scoped_select, scoped_update
from loyalchat.tenants.tables import AuditLog
from tests.bot_helpers import CHAT
from tests.receipt_pipeline_support import (
    balance_matches_entries,
    draw_shop_receipt,
    make_sender,
    make_shop,
    photo,
    replies_to,
    send,
)


async def _planted(who, data: bytes, number: str) -> int:
    """A receipt as the pipeline leaves it for review (read, over the shop's limit)."""
    receipt_id = await send(who, data)
    await scoped_update(
        Receipt,
        {
            Receipt.status: "needs_review",
            Receipt.reasons: ["amount_over_review_limit"],
            Receipt.merchant: "DEMO CAFE",
            Receipt.receipt_no: number,
            Receipt.receipt_date: date(2026, 12, 1),
            Receipt.total: Decimal("123.40"),
            Receipt.total_confidence: 0.9,
        },
        use_auto_update=False,
    ).where(Receipt.id == receipt_id)
    return receipt_id


async def test_a_copy_of_an_approved_receipt_cannot_be_approved(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        ben = await make_sender("85291230002", locale="zh-Hant")
        data = photo(draw_shop_receipt(number="R1"), 11)
        first = await _planted(amy, data, "R1")
        copy = await _planted(ben, data, "R1")  # the same file, from another member
        approved = await review.approve(first, by="owner@demo", amount=Decimal("120.00"))
        assert (approved.status, approved.amount, approved.points) == (
            "credited",
            Decimal("120.00"),
            120,
        )
        assert approved.decided_by == "owner@demo"
        assert "earned 120 points" in (await replies_to(amy))[-1]
        with pytest.raises(DomainError) as refused:
            await review.approve(copy, by="cashier@demo")
        assert refused.value.code == "duplicate" and refused.value.extra["receipt_id"] == first
        assert (await get_receipt(copy)).status == "needs_review"  # still for staff to reject
        with pytest.raises(DomainError) as again:
            await review.approve(first, by="cashier@demo")
        assert again.value.code == "already_decided"
        assert again.value.extra["decided_by"] == "owner@demo"
        with pytest.raises(DomainError) as unknown:
            await review.reject(copy, by="cashier@demo", reason="because")
        assert unknown.value.code == "invalid_reason"
        rejected = await review.reject(copy, by="cashier@demo", reason="duplicate", note="copy")
        assert (rejected.status, rejected.reasons) == ("rejected", ["duplicate"])
        assert "這張收據已經使用過。" in (await replies_to(ben))[-1]
        assert await balance_matches_entries(amy.member_id) == 120
        assert await balance_matches_entries(ben.member_id) == 0
        actions = await scoped_select(AuditLog, AuditLog.action, AuditLog.target).order_by(
            AuditLog.id
        )
        decided = [
            (a["action"], a["target"]) for a in actions if a["action"].startswith("receipt.")
        ]
        assert decided == [
            ("receipt.approve", f"receipt:{first}"),
            ("receipt.reject", f"receipt:{copy}"),
        ]


async def test_a_clearer_photo_is_asked_for_once(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        receipt_id = await _planted(amy, photo(draw_shop_receipt(number="R2"), 12), "R2")
        closed = await review.ask_clearer_photo(receipt_id, by="cashier@demo")
        assert (closed.status, closed.reasons) == ("rejected", ["clearer_photo"])
        assert "clearer photo" in (await replies_to(amy))[-1]
        with pytest.raises(DomainError) as again:
            await review.ask_clearer_photo(receipt_id, by="cashier@demo")
        assert again.value.code == "already_decided"
        assert len(await replies_to(amy)) == 1  # asked once
