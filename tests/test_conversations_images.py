"""A picture a member sends: downloaded once, checked like a console upload, stored by its
sha256 in the shop's media store, shown in the thread, offered to ``receipt_received``
plugins, and answered; a file that is not a picture, or a download the provider refuses,
is stored as such and answered, never retried forever nor kept."""

from __future__ import annotations

import io

from PIL import Image

from loyalchat.context import tenant_context
from loyalchat.conversations.inbound import handle_event
from loyalchat.conversations.tables import InboundMessage, OutboundMessage
from loyalchat.inbox.service import InboundEventRow
from loyalchat.inbox.tables import InboundEvent
from loyalchat.media import store
from tests import test_conversations_support as support
from tests.test_conversations_support import Chat, post

stub_broker = support.stub_broker  # fixtures
chat = support.chat


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _image(n: str, media_id: str) -> dict:
    return {"id": f"img-{n}", "from": "u1", "kind": "image", "media_id": media_id}


async def _messages() -> list[dict]:
    return await InboundMessage.select(
        InboundMessage.id, InboundMessage.kind, InboundMessage.text, InboundMessage.media_key
    ).order_by(InboundMessage.id)


async def test_a_picture_is_stored_once_and_offered_to_plugins(chat: Chat) -> None:
    data = _png()
    chat.adapter.media["pic1"] = data
    assert await post(chat, _image("1", "pic1")) == 200
    [message] = await _messages()
    assert (message["kind"], message["media_key"]) == ("image", store.key_of(data))
    with tenant_context(chat.a.id):
        assert await store.read(message["media_key"]) == data  # the member's own bytes
    with tenant_context(chat.b.id):
        assert not await store.exists(message["media_key"])
    [offered] = chat.plugin.receipts
    assert offered["tenant_id"] == chat.a.id and offered["media_key"] == message["media_key"]
    assert offered["inbound_message_id"] == message["id"]
    assert await OutboundMessage.count() >= 1  # the bot's holding reply
    # The event processed again (a crash after the commit): no second download or row.
    event = await InboundEvent.select().output(load_json=True).first()
    row = InboundEventRow(
        event["id"], chat.a.id, support.KIND, event["provider_key"], event["payload"]
    )
    with tenant_context(chat.a.id):
        await handle_event(row)
    assert chat.adapter.fetched == ["pic1"]
    assert len(await _messages()) == 1
    assert [r["inbound_message_id"] for r in chat.plugin.receipts] == [message["id"]] * 2


async def test_a_plugin_that_takes_the_picture(chat: Chat) -> None:
    chat.plugin.take_receipts = True
    chat.adapter.media["pic2"] = _png()
    assert await post(chat, _image("2", "pic2")) == 200
    assert len(chat.plugin.receipts) == 1
    [message] = await _messages()
    assert message["media_key"]


async def test_not_a_picture_or_a_refused_download_is_answered_and_not_kept(chat: Chat) -> None:
    chat.adapter.media["fake"] = b"%PDF-1.4 not a picture"
    assert await post(chat, _image("3", "fake"), _image("4", "expired")) == 200
    messages = await _messages()
    assert {(m["kind"], m["text"], m["media_key"]) for m in messages} == {
        ("image", "[image refused: unsupported_format]", ""),
        ("image", "[image refused: unavailable]", ""),
    }
    assert chat.plugin.receipts == []
    statuses = await InboundEvent.select(InboundEvent.status)
    assert [s["status"] for s in statuses] == ["done", "done"]
    assert await OutboundMessage.count() >= 2
