"""The receipt pipeline on PostgreSQL with the real OCR engine on photographed receipts:
a good receipt credits once and the member is told the points and balance; copies (the
same file from another member, the same receipt photographed again), another shop's and
an old receipt are rejected with the reason in the member's language; a photo of nothing
goes to review. The ledger's balance is the sum of its entries after each."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalchat.context import tenant_context
from loyalchat.receipts import pipeline
from loyalchat.receipts.fingerprint import REVIEW_DISTANCE, distance
from loyalchat.receipts.service import get_receipt, member_receipts
from loyalchat.receipts.tables import Receipt, ReceiptClaim
from loyalchat.scoping import scoped_select, scoped_update
from tests.bot_helpers import CHAT
from tests.receipt_pipeline_support import (
    balance_matches_entries,
    blank_photo,
    draw_shop_receipt,
    hk_today,
    make_sender,
    make_shop,
    photo,
    replies_to,
    send,
)


async def test_a_good_receipt_credits_once_and_the_member_is_told(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        receipt_id = await send(amy, photo(draw_shop_receipt(), seed=1))
        done = await pipeline.process(receipt_id)
        assert done.status == "credited", (done.reasons, done.checks, done.fields.get("lines"))
        assert done.total == Decimal("123.40") and done.amount == Decimal("123.40")
        assert done.points == 123 and done.entry_id is not None
        assert done.receipt_no == "A10023" and done.receipt_date == hk_today()
        assert [c["check"] for c in done.checks] == [
            "merchant",
            "date",
            "duplicate",
            "amount",
            "velocity",
            "screenshot",
        ]
        fields = done.fields
        assert fields["total"]["value"] == "123.40" and fields["total"]["box"] is not None
        x0, y0, x1, y1 = fields["total"]["box"]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
        assert fields["merchant"]["box"] is not None and fields["ocr_media_key"]
        # Processed again (a replayed message): nothing changes, one credit.
        again = await pipeline.process(receipt_id)
        assert (again.status, again.entry_id) == ("credited", done.entry_id)
        assert await balance_matches_entries(amy.member_id) == 123
        [reply] = await replies_to(amy)
        assert "123 points" in reply and "balance is now 123 points" in reply, reply
        claims = await scoped_select(ReceiptClaim, ReceiptClaim.key).where(
            ReceiptClaim.receipt == receipt_id
        )
        assert sorted(c["key"][:4] for c in claims) == ["key:", "sha:"]
        assert [r.id for r in await member_receipts(amy.member_id)] == [receipt_id]


async def test_copies_other_shops_and_old_receipts_are_rejected(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        ben = await make_sender("85291230002", locale="zh-Hant")
        paper = draw_shop_receipt(number="B777")
        first_photo = photo(paper, seed=2)
        first = await pipeline.process(await send(amy, first_photo))
        assert first.status == "credited", first.checks
        # The same file from another member.
        copy = await pipeline.process(await send(ben, first_photo))
        assert (copy.status, copy.reasons) == ("rejected", ["duplicate"])
        assert "已於" in (await replies_to(ben))[-1]  # zh-Hant: "already used on"
        # The same receipt photographed again (another angle and light): its number,
        # date and total give it away.
        again = await pipeline.process(await send(ben, photo(paper, seed=9, difficulty=0.35)))
        assert (again.status, again.reasons) == ("rejected", ["duplicate"]), again.checks
        # Another shop's receipt.
        other = await pipeline.process(
            await send(amy, photo(draw_shop_receipt("GOLDEN DRAGON RESTAURANT", number="Z1"), 3))
        )
        assert (other.status, other.reasons) == ("rejected", ["other_shop"]), other.checks
        assert "This receipt is from another shop." in (await replies_to(amy))[-1]
        # An old one.
        old_day = hk_today() - timedelta(days=20)
        old = await pipeline.process(
            await send(amy, photo(draw_shop_receipt(number="C5", on=old_day), 4))
        )
        assert (old.status, old.reasons) == ("rejected", ["too_old"]), old.checks
        assert "older than 7 days" in (await replies_to(amy))[-1]
        assert await balance_matches_entries(amy.member_id) == 123
        assert await balance_matches_entries(ben.member_id) == 0


async def test_a_photo_of_nothing_goes_to_review(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        done = await pipeline.process(await send(amy, blank_photo()))
        assert done.status == "needs_review" and done.reasons[0] == "unreadable", done.reasons
        assert "within 24 hours" in (await replies_to(amy))[-1]
        assert (await get_receipt(done.id)).points == 0
        assert await balance_matches_entries(amy.member_id) == 0


async def test_already_used_names_the_day_in_the_shops_time_zone(clean_db: None) -> None:
    """A receipt credited at 01:00 in Hong Kong (17:00 UTC the day before): its copy is
    "already used on" the Hong Kong day, the day its member saw."""
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        ben = await make_sender("85291230002")
        first_photo = photo(draw_shop_receipt(number="T1"), seed=5)
        first = await pipeline.process(await send(amy, first_photo))
        assert first.status == "credited", first.checks
        early = datetime.combine(hk_today(), time(1, 0), tzinfo=ZoneInfo("Asia/Hong_Kong"))
        await scoped_update(
            Receipt, {Receipt.decided_at: early, Receipt.created_at: early}, use_auto_update=False
        ).where(Receipt.id == first.id)
        copy = await pipeline.process(await send(ben, first_photo))
        assert (copy.status, copy.reasons) == ("rejected", ["duplicate"])
        [failed] = [c for c in copy.checks if c["outcome"] == "fail"]
        assert failed["params"]["date"] == hk_today().isoformat(), failed


async def test_another_receipt_of_the_same_shop_and_layout_is_credited(clean_db: None) -> None:
    """One shop's receipts share a layout, so their photos' perceptual hashes are close;
    a second, different receipt (another number and total) is credited, not held as a
    look-alike."""
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        first = await pipeline.process(
            await send(amy, photo(draw_shop_receipt(number="L1", total=Decimal("88.00")), 6))
        )
        second = await pipeline.process(
            await send(amy, photo(draw_shop_receipt(number="L2", total=Decimal("64.50")), 7))
        )
        assert (first.status, second.status) == ("credited", "credited"), second.checks
        assert distance(first.phash, second.phash) <= REVIEW_DISTANCE  # the layout's closeness
        assert await balance_matches_entries(amy.member_id) == 88 + 64


async def test_a_receipt_without_a_number_photographed_again_goes_to_staff(
    clean_db: None,
) -> None:
    """No receipt number read, so no (merchant, number, date, total) key: the same day and
    total as a credited receipt, at the same printed time, is held for staff, never
    credited a second time."""
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        ben = await make_sender("85291230002")
        paper = draw_shop_receipt(number="", total=Decimal("50.00"))
        first = await pipeline.process(await send(amy, photo(paper, seed=11)))
        assert first.status == "credited" and not first.receipt_no, first.checks
        again = await pipeline.process(await send(ben, photo(paper, seed=12, difficulty=0.35)))
        assert (again.status, again.reasons) == ("needs_review", ["looks_alike"]), again.checks
        assert await balance_matches_entries(ben.member_id) == 0
