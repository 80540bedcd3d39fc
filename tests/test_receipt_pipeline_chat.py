"""A receipt photo through the whole chat path: a signed webhook with an image message, the
inbox, the inbound handler (picture downloaded and stored), the built-in ``receipts``
plugin's ``receipt_received`` hook, the ``process_receipt`` actor with the real OCR engine,
the credit, and the reply in the outbox. The same webhook replayed (the provider retries)
makes no second receipt nor a second credit; the bot says nothing else about the picture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from loyalchat.context import tenant_context
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import InboundMessage, OutboundMessage
from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.plugins import genericparser, rapidocr, receipts
from loyalchat.receipts.settings import ReceiptRules, save_receipt_settings
from loyalchat.receipts.tables import Receipt
from loyalchat.rules import service as rule_service
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import scoped_select
from loyalchat.tasks.embedded import EmbeddedWorker
from tests import test_conversations_support as support
from tests.bot_helpers import CHAT
from tests.fixtures import World
from tests.receipt_pipeline_support import balance_matches_entries, draw_shop_receipt, photo
from tests.test_conversations_support import Chat, post, text_event

stub_broker = support.stub_broker  # fixture


@pytest.fixture
async def receipt_chat(tenant_a: World, tenant_b: World, stub_broker) -> AsyncIterator[Chat]:
    """The conversation tests' two shops on the test channel, with receipts on."""
    pm, plugin = support.build(
        platform_app=support.PlatformAppPlugin(),
        receipts=receipts,
        rapidocr=rapidocr,
        genericparser=genericparser,
    )
    with support.installed(pm):
        register_channel_handlers(pm)
        await support.connect(pm, tenant_a.id, "alpha-tea")
        await support.connect(pm, tenant_b.id, "bravo-bakery")
        with tenant_context(tenant_a.id, CHAT):
            await rule_service.create_rule(
                RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
            )
            profile = ReceiptProfile(merchant_names=("ALPHA TEA",), total_labels=("TOTAL",))
            await save_receipt_settings(ReceiptRules(profile=profile))
        worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
        try:
            yield Chat(pm, plugin, support.app_for(pm), worker, tenant_a, tenant_b)
        finally:
            worker.stop()


def _image(n: str, media_id: str) -> dict:
    return {"id": f"img-{n}", "from": "u1", "kind": "image", "media_id": media_id}


async def test_a_receipt_photo_in_the_chat_credits_once_even_when_replayed(
    receipt_chat: Chat,
) -> None:
    chat = receipt_chat
    assert await post(chat, text_event(1, "hello")) == 200  # joins: a member number
    chat.adapter.media["receipt-1"] = photo(draw_shop_receipt("ALPHA TEA", number="W1"), 21)
    assert await post(chat, _image("1", "receipt-1")) == 200
    assert await post(chat, _image("1", "receipt-1")) == 200  # the provider retries
    assert chat.adapter.fetched == ["receipt-1"]
    with tenant_context(chat.a.id):
        [message] = await scoped_select(InboundMessage, InboundMessage.id).where(
            InboundMessage.kind == "image"
        )
        [receipt] = await scoped_select(Receipt).output(load_json=True)
        assert receipt["inbound_message"] == message["id"] and receipt["channel"] == "signchat"
        assert (receipt["status"], receipt["points"]) == ("credited", 123), receipt["checks"]
        assert await balance_matches_entries(receipt["member"]) == 123
        rows = await scoped_select(OutboundMessage, OutboundMessage.key, OutboundMessage.text)
    keys = [row["key"] for row in rows]
    assert keys.count(f"receipt:{receipt['id']}:credited") == 1
    credited = next(r["text"] for r in rows if r["key"].endswith(":credited"))
    assert "123" in credited
    # Nothing but the welcome and the credit: no holding reply for the picture.
    assert len([k for k in keys if k.startswith("reply:")]) == 1, keys
    with tenant_context(chat.b.id):
        assert await scoped_select(Receipt, Receipt.id) == []
