"""Receipt actors: process a receipt, and send unanswered questions to review. Import only
after ``setup_broker()`` (``import_actors()`` does: the built-in ``receipts`` plugin
registers this module).
"""

from __future__ import annotations

import asyncio

from loyalchat.context import NoTenantContext
from loyalchat.domain import NotFound
from loyalchat.receipts import pipeline, readout, review, service
from loyalchat.receipts.tables import IN_FLIGHT, Receipt, ReceiptStatus
from loyalchat.tasks import actor, register_periodic, register_sweepable, register_warm_up

EXPIRY_INTERVAL_SECONDS = 300
VISIBLE_TRIES = 15
VISIBLE_PAUSE_S = 0.2
RECEIPT_QUEUE = "receipts"
RECEIPT_PRIORITY = 50


class NotVisibleYet(Exception):
    """The receipt's row is not there (yet): the message may have overtaken the commit of
    the transaction that stored it (the chat message's). Retried with backoff."""


@actor(
    max_retries=8,
    min_backoff=500,
    max_backoff=60_000,
    # OCR of one photo takes seconds; well under sweep_after_seconds so the sweeper never
    # takes a live run for a dead one.
    time_limit=180_000,
    throws=(NoTenantContext,),
    # Photos have a queue of their own, so replies and chat messages are never fetched
    # behind a burst of photos; and among the jobs a worker holds, a photo runs after the
    # quick ones (lower runs first): a reply must not wait for a thread while photos read.
    queue_name=RECEIPT_QUEUE,
    priority=RECEIPT_PRIORITY,
)
async def process_receipt(receipt_id: int) -> None:
    """Take receipt ``receipt_id`` of the message's tenant through the pipeline.

    A receipt not visible yet is looked for again for a few seconds (its row may still be
    committing), then the run is retried. Retry policy: an error puts the receipt back to
    ``received`` and the run is retried
    (backoff 0.5 s .. 60 s); after ``pipeline.MAX_ATTEMPTS`` failed runs it goes to staff
    review. Idempotent: a receipt another run holds, or already decided, is left alone.
    """
    for _ in range(VISIBLE_TRIES):
        try:
            await pipeline.process(receipt_id)
            return
        except NotFound:
            # Queued inside the chat message's transaction, the message may arrive before
            # that transaction commits (a fraction of a second): look again shortly.
            await asyncio.sleep(VISIBLE_PAUSE_S)
    raise NotVisibleYet(f"receipt {receipt_id} not found")


@actor(max_retries=0, time_limit=5 * 60_000)
async def expire_receipt_questions() -> None:
    """Receipts whose member did not confirm the total in time go to review. Retry
    policy: none; the next run is the retry."""
    await review.expire_questions()


service.set_enqueue(process_receipt.send)

# A lost message (Redis down) or a killed worker leaves a receipt in received, reading or
# checking: it goes back to received and is sent again; the claim decides who runs it.
register_sweepable(
    Receipt,
    Receipt.status,
    tuple(status.value for status in IN_FLIGHT),
    Receipt.updated_at,
    process_receipt,
    reset_status=ReceiptStatus.received.value,
)
register_periodic("expire_receipt_questions", expire_receipt_questions, EXPIRY_INTERVAL_SECONDS)

__all__ = ["NotVisibleYet", "expire_receipt_questions", "process_receipt"]

register_warm_up(RECEIPT_QUEUE, readout.warm_up)
