"""The receipt pipeline's harder paths on PostgreSQL + Redis with the real OCR engine:

- a total read less surely than the shop's threshold: the bot asks, "1" credits, another
  amount goes to review with both figures, no answer in time goes to review;
- the same receipt processed twice at once, and after a killed worker (row left
  ``reading``; the sweeper sends it again through Redis to a worker): one credit;
- two members sending the same receipt at the same moment: one credit;
- two shops: B cannot read or process A's receipt, and B's receipts are no copies of A's.

Photos are read once per test (``reading=``) where the test is about what follows the
reading; the ledger's balance is the sum of its entries after each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis

from loyalchat.context import tenant_context
from loyalchat.domain import NotFound
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts import pipeline, review
from loyalchat.receipts.readout import read_photo
from loyalchat.receipts.service import get_receipt
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.receipts.tables import Receipt
from loyalchat.scoping import scoped_update
from loyalchat.tasks import reset_broker
from loyalchat.tasks.embedded import EmbeddedWorker
from tests.bot_helpers import CHAT, joined, say
from tests.receipt_pipeline_support import (
    balance_matches_entries,
    draw_shop_receipt,
    make_sender,
    make_shop,
    photo,
    replies_to,
    send,
)
from tests.test_tasks_support import use_broker, wait_for


async def _read(data: bytes):
    return await read_photo(data, (await get_receipt_settings()).profile, current_plugin_manager())


async def test_a_doubtful_total_is_confirmed_corrected_or_left_to_review(clean_db: None) -> None:
    # No profile and one item line (nothing adds up to the total): it is read less surely.
    shop = await make_shop(total_label=False)
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        first = await pipeline.process(
            await send(amy, photo(draw_shop_receipt(number="Q1", items=1), 1))
        )
        assert first.status == "awaiting_member", (first.reasons, first.total_confidence)
        assert first.ask_expires_at is not None
        asked = (await replies_to(amy))[-1]
        assert asked.startswith("We read HK$123.40 on your Demo Cafe receipt of "), asked
        assert asked.endswith("Reply 1 to confirm or type the right amount.")
        confirmed = joined(await say(amy.conversation_id, "1"))
        assert "earned 123 points" in confirmed, confirmed
        assert (await get_receipt(first.id)).status == "credited"
        # "1" again later is no longer an answer about that receipt.
        assert "earned" not in joined(await say(amy.conversation_id, "1"))
        assert (await get_receipt(first.id)).points == 123

        second = await pipeline.process(
            await send(
                amy, photo(draw_shop_receipt(number="Q2", total=Decimal("99.90"), items=1), 2)
            )
        )
        assert second.status == "awaiting_member", (second.receipt_no, second.checks)
        told = joined(await say(amy.conversation_id, "HK$ 130.00"))
        assert "HK$130.00" in told and "24 hours" in told, told
        disputed = await get_receipt(second.id)
        assert disputed.status == "needs_review" and disputed.reasons == ["amount_disputed"]
        assert (disputed.total, disputed.member_amount) == (Decimal("99.90"), Decimal("130.00"))

        third = await pipeline.process(
            await send(
                amy, photo(draw_shop_receipt(number="Q3", total=Decimal("64.50"), items=1), 3)
            )
        )
        assert third.status == "awaiting_member", (third.reasons, third.checks)
    later = datetime.now(UTC) + timedelta(hours=13)  # the shop waits 12 hours by default
    assert await review.expire_questions(later) == 1
    with tenant_context(shop.id, CHAT):
        expired = await get_receipt(third.id)
        assert (expired.status, expired.reasons) == ("needs_review", ["no_answer"])
        assert await balance_matches_entries(amy.member_id) == 123


async def test_processing_twice_at_once_credits_once(clean_db: None) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        data = photo(draw_shop_receipt(number="T1"), 5)
        receipt_id = await send(amy, data)
        reading = await _read(data)
        one, two = await asyncio.gather(
            pipeline.process(receipt_id, reading=reading),
            pipeline.process(receipt_id, reading=reading),
        )
        done = await get_receipt(receipt_id)
        assert done.status == "credited" and {one.status, two.status} <= {
            "reading",
            "checking",
            "credited",
        }
        assert await balance_matches_entries(amy.member_id) == 123
        assert len([t for t in await replies_to(amy) if "earned" in t]) == 1


async def test_two_members_sending_the_same_receipt_at_once_get_one_credit(
    clean_db: None,
) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender("85291230001")
        ben = await make_sender("85291230002")
        data = photo(draw_shop_receipt(number="S1"), 6)
        reading = await _read(data)
        ids = [await send(amy, data), await send(ben, data)]
        await asyncio.gather(*(pipeline.process(i, reading=reading) for i in ids))
        statuses = sorted([(await get_receipt(i)).status for i in ids])
        assert statuses == ["credited", "rejected"]
        total = await balance_matches_entries(amy.member_id)
        total += await balance_matches_entries(ben.member_id)
        assert total == 123


@pytest.fixture
def redis_worker(redis_url: str) -> Iterator[EmbeddedWorker]:
    """Our broker on this run's Redis db, its namespace flushed, and a worker on it."""
    client = redis.Redis.from_url(redis_url)

    def flush() -> None:
        for key in client.scan_iter("loyalchat:*"):
            client.delete(key)

    flush()
    broker = use_broker(redis_url)
    worker = EmbeddedWorker(broker, threads=2)  # type: ignore[arg-type]
    try:
        yield worker
    finally:
        worker.stop()
        reset_broker()
        flush()
        client.close()
        use_broker("")


async def test_a_killed_worker_delays_a_receipt_and_the_sweeper_credits_it_once(
    clean_db: None, redis_worker: EmbeddedWorker
) -> None:
    shop = await make_shop()
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        receipt_id = await send(amy, photo(draw_shop_receipt(number="K1"), 7))
        # The message went to Redis; a worker took the row and died while reading it.
        stale = datetime.now(UTC) - timedelta(hours=1)
        await scoped_update(
            Receipt,
            {Receipt.status: "reading", Receipt.attempts: 1, Receipt.updated_at: stale},
            use_auto_update=False,
        ).where(Receipt.id == receipt_id)
    from loyalchat.tasks.sweeper import sweep_once  # an actor module: after the broker

    counts = await sweep_once()
    assert counts["receipt"] == 1
    redis_worker.start()

    async def credited() -> bool:
        with tenant_context(shop.id, CHAT):
            return (await get_receipt(receipt_id)).status == "credited"

    assert await wait_for(credited, timeout_s=120, every_s=0.2)
    await asyncio.to_thread(redis_worker.stop)
    with tenant_context(shop.id, CHAT):
        done = await get_receipt(receipt_id)
        assert done.points == 123
        assert await balance_matches_entries(amy.member_id) == 123
        # The first message (sent when the receipt arrived) ran too: still one credit.
        assert len([t for t in await replies_to(amy) if "earned" in t]) == 1


async def test_another_shop_cannot_see_nor_count_this_shops_receipts(clean_db: None) -> None:
    a = await make_shop("demo-cafe")
    b = await make_shop("demo-cafe-two")  # the same name printed, another tenant
    data = photo(draw_shop_receipt(number="M1"), 8)
    with tenant_context(a.id, CHAT):
        amy = await make_sender()
        reading = await _read(data)
        a_id = await send(amy, data)
    with tenant_context(b.id, CHAT):
        with pytest.raises(NotFound):
            await get_receipt(a_id)
        with pytest.raises(NotFound):
            await pipeline.process(a_id, reading=reading)
        bea = await make_sender()
        b_done = await pipeline.process(await send(bea, data), reading=reading)
        assert b_done.status == "credited"  # the same photo, first in shop B
        with pytest.raises(NotFound):
            await review.approve(a_id, by="staff@b")
    with tenant_context(a.id, CHAT):
        assert (await get_receipt(a_id)).status == "received"  # B's calls changed nothing
        a_done = await pipeline.process(a_id, reading=reading)
        assert a_done.status == "credited", a_done.checks  # B's copy is not A's duplicate
        assert await balance_matches_entries(amy.member_id) == 123
    with tenant_context(b.id, CHAT):
        assert await balance_matches_entries(bea.member_id) == 123
