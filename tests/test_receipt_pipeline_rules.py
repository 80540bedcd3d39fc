"""The pipeline's rules that need no reading: a suspended shop keeps its receipts for review
(unread, the member not told twice), and the velocity check sends a burst from one member
to review, never another member's receipts counted."""

from __future__ import annotations

import datetime as dt

from loyalchat.context import tenant_context
from loyalchat.extensions.receipts import Outcome, ReceiptFacts, ReceiptFields, ShopProfile
from loyalchat.receipts import pipeline
from loyalchat.receipts.checks.velocity import VelocityCheck
from loyalchat.tenants.tables import Tenant, TenantStatus
from tests.bot_helpers import CHAT
from tests.receipt_pipeline_support import (
    balance_matches_entries,
    blank_photo,
    make_sender,
    make_shop,
    replies_to,
    send,
)


async def test_a_suspended_shop_keeps_the_receipt_for_review_unread(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
    await Tenant.update({Tenant.status: TenantStatus.suspended.value}).where(Tenant.id == shop.id)
    with tenant_context(shop.id, CHAT):
        kept = await pipeline.process(await send(amy, blank_photo()))
        assert (kept.status, kept.reasons) == ("needs_review", ["shop_paused"])
        assert kept.fields == {}  # not read: nothing spent on a paused shop
        assert await replies_to(amy) == []  # the bot already said the programme is paused
        assert await balance_matches_entries(amy.member_id) == 0


async def test_a_burst_from_one_member_goes_to_review(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        ben = await make_sender("85291230002")
        for n in range(3):  # another member's receipts never count against Amy
            await send(ben, blank_photo()[:-2] + bytes([n, n]))
        ids = [await send(amy, blank_photo()[:-2] + bytes([9, n])) for n in range(4)]
        shop_profile = ShopProfile(tenant_id=shop.id, config={"velocity": {"per_hour": 3}})
        now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

        async def judged(receipt_id: int):
            facts = ReceiptFacts(
                ReceiptFields(), received_at=now, receipt_id=receipt_id, member_id=amy.member_id
            )
            return await VelocityCheck().check(facts, shop_profile)

        assert (await judged(ids[2])).outcome is Outcome.passed  # the third in the hour
        burst = await judged(ids[3])
        assert (burst.outcome, burst.reason) == (Outcome.warn, "velocity")
