"""The review queue on a receipt the real pipeline sent there: a photographed receipt of
the shop read by the real OCR engine, over the shop's review limit, goes to review; the
console shows what the pipeline wrote (the prepared image with the boxes of the total,
date and shop, the amount check's warning with the limit) and a cashier's approval credits
it once and tells the member."""

from __future__ import annotations

import re
from decimal import Decimal

from loyalchat.context import tenant_context
from loyalchat.receipts import pipeline
from loyalchat.receipts.profile import ReceiptProfile
from loyalchat.receipts.service import get_receipt
from loyalchat.receipts.settings import ReceiptRules, save_receipt_settings
from tests.bot_helpers import CHAT
from tests.console_helpers import form_tokens, login, open_client, post_form
from tests.receipt_pipeline_support import (
    SHOP,
    balance_matches_entries,
    draw_shop_receipt,
    make_sender,
    make_shop,
    photo,
    replies_to,
    send,
)


async def test_a_receipt_over_the_review_limit_is_reviewed_and_approved(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        profile = ReceiptProfile(merchant_names=(SHOP,), total_labels=("TOTAL",))
        await save_receipt_settings(
            ReceiptRules(profile=profile, review_limit=Decimal("100")), action="test"
        )
        amy = await make_sender()
        receipt_id = await send(amy, photo(draw_shop_receipt(), seed=3))
        done = await pipeline.process(receipt_id)
        assert done.status == "needs_review", (done.reasons, done.checks)
        assert "amount_over_review_limit" in done.reasons
        prepared = done.fields["ocr_media_key"]
        told_before = len(await replies_to(amy))

    async with open_client() as client:
        await login(client, shop.cashier.email)
        listed = await client.get("/console/receipts")
        assert f'data-receipt-id="{receipt_id}"' in listed.text
        page = await client.get(f"/console/receipts/{receipt_id}")
        assert page.status_code == 200
        html = page.text
        # The prepared (upright) image the boxes refer to, not the photo as sent.
        assert f'src="/console/media/{prepared}" alt=' in html
        for name in ("total", "date", "merchant"):
            assert f'data-testid="ocr-box-{name}"' in html, name
        assert 'data-testid="read-total">123.40' in html
        assert re.search(r"Receipts over HK\$100(\.00)? are checked by the shop\.", html)
        token = form_tokens(html)[0]
        approved = await post_form(
            client, f"/console/receipts/{receipt_id}/approve", {"token": token, "amount": "123.40"}
        )
        assert approved.status_code == 303
        again = await post_form(
            client, f"/console/receipts/{receipt_id}/approve", {"token": token, "amount": "123.40"}
        )
        assert "already decided by" in (await client.get(again.headers["location"])).text

    with tenant_context(shop.id, CHAT):
        after = await get_receipt(receipt_id)
        assert after.status == "credited" and after.points == 123
        assert after.decided_by == shop.cashier.email
        assert await balance_matches_entries(amy.member_id) == 123
        told = await replies_to(amy)
        assert len(told) == told_before + 1 and "123 points" in told[-1], told
