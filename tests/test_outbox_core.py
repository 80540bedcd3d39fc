"""The outbox: a reply is a row first, sent once by an actor, retried as the provider asks,
failed with the provider's words (and retried by staff), moved on by delivery statuses
only forward; a worker killed mid-way is finished once by the sweeper.

Real PostgreSQL and the real actors on the in-process broker; the provider is the signed
test channel of tests/test_conversations_support.py answering from a script of errors.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from loyalchat.context import tenant_context
from loyalchat.conversations import outbox, service
from loyalchat.conversations.inbound import apply_delivery
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.extensions.channels import ChannelError, Choice, EventKind, InboundEvent
from loyalchat.inbox.tables import InboundEvent as InboxRow
from tests import test_conversations_support as support
from tests.test_conversations_support import Chat, connect, post, text_event
from tests.test_tasks_support import drain

stub_broker = support.stub_broker  # fixtures
chat = support.chat


async def _conversation(chat: Chat, sender: str = "u1") -> int:
    assert await post(chat, text_event(f"first-{sender}", "hi", sender=sender)) == 200
    row = await Conversation.select(Conversation.id).where(Conversation.sender == sender).first()
    return row["id"]


def _sent(chat: Chat, key: str) -> list:
    """What the provider received for one outbox key (the bot answers first messages too)."""
    return [(message, account) for message, account in chat.adapter.sent if message.key == key]


async def _row(outbound_id: int) -> dict:
    return await OutboundMessage.select().where(OutboundMessage.id == outbound_id).first()


async def test_a_staff_reply_is_sent_once(chat: Chat) -> None:
    conversation = await _conversation(chat)
    with tenant_context(chat.a.id):
        first = await service.queue_reply(
            conversation,
            "Welcome back",
            key="staff:t1",
            sent_by="staff:1",
            choices=[Choice("r1", "Free coffee")],
        )
        again = await service.queue_reply(
            conversation, "Welcome back", key="staff:t1", sent_by="staff:1"
        )
    await drain(chat.worker)
    assert first == again
    row = await _row(first)
    assert (row["status"], row["attempts"], row["kind"]) == ("sent", 1, "choices")
    assert row["provider_id"].endswith("-staff:t1") and row["sent_at"] is not None
    [(message, account)] = _sent(chat, "staff:t1")
    assert (message.to, message.text, account) == ("u1", "Welcome back", "acct-alpha-tea")
    assert message.choices == (Choice("r1", "Free coffee"),)


async def test_retryable_errors_back_off_then_send(chat: Chat) -> None:
    conversation = await _conversation(chat)
    chat.adapter.script = [
        ChannelError("slow down", retryable=True, code="130429", reason="rate", retry_after=0.05),
        ChannelError("network", retryable=True),
    ]
    with tenant_context(chat.a.id):
        outbound_id = await service.queue_reply(conversation, "hi", key="k1", sent_by="staff:1")
    await drain(chat.worker)
    row = await _row(outbound_id)
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 3, "")
    assert len(_sent(chat, "k1")) == 1


async def test_retry_after_is_passed_to_dramatiq(chat: Chat) -> None:
    conversation = await _conversation(chat)
    chat.adapter.script = [ChannelError("slow", retryable=True, code="130429", retry_after=7)]
    with tenant_context(chat.a.id):
        row = OutboundMessage(tenant=chat.a.id, conversation=conversation, key="k", text="x")
        outbound_id, _ = await outbox.insert_outbound(row)
        with pytest.raises(outbox.RetryLater) as raised:
            await outbox.deliver(outbound_id)
    assert raised.value.delay_ms == 7000
    stored = await _row(outbound_id)
    assert (stored["status"], stored["error_code"], stored["error"]) == ("queued", "130429", "slow")


async def test_a_refusal_fails_with_the_providers_words_and_staff_can_retry(chat: Chat) -> None:
    conversation = await _conversation(chat)
    chat.adapter.script = [ChannelError("(#131026) Message undeliverable", code="131026")]
    with tenant_context(chat.a.id):
        outbound_id = await service.queue_reply(conversation, "hi", key="k2", sent_by="staff:1")
    await drain(chat.worker)
    row = await _row(outbound_id)
    assert (row["status"], row["error_code"]) == ("failed", "131026")
    assert "undeliverable" in row["error"]
    with tenant_context(chat.a.id):
        health = await service.channel_health(support.KIND)
        assert health["last_error_code"] == "131026" and health["last_webhook_at"]
        [listed] = await service.conversations_page()
        assert (listed["failed"], listed["last_direction"]) == (1, "out")
    with tenant_context(chat.b.id):  # another shop can neither retry nor see it
        assert await service.retry_send(outbound_id) is False
        assert await service.thread(conversation) == []
        assert await service.thread(conversation, latest=True) == []
    with tenant_context(chat.a.id):
        assert await service.retry_send(outbound_id) is True
        assert await service.retry_send(outbound_id) is False  # not failed any more
    await drain(chat.worker)
    assert (await _row(outbound_id))["status"] == "sent"


async def test_attempts_run_out(chat: Chat) -> None:
    conversation = await _conversation(chat)
    chat.adapter.script = [ChannelError("down", retryable=True)] * (outbox.MAX_SEND_ATTEMPTS + 2)
    with tenant_context(chat.a.id):
        row = OutboundMessage(tenant=chat.a.id, conversation=conversation, key="k3", text="x")
        outbound_id, _ = await outbox.insert_outbound(row)
        for _ in range(outbox.MAX_SEND_ATTEMPTS - 1):
            with pytest.raises(outbox.RetryLater):
                await outbox.deliver(outbound_id)
        assert await outbox.deliver(outbound_id) == "failed"
        assert await outbox.deliver(outbound_id) == "not_queued"
    assert (await _row(outbound_id))["attempts"] == outbox.MAX_SEND_ATTEMPTS


async def test_window_closed_uses_the_template_or_says_why(chat: Chat) -> None:
    conversation = await _conversation(chat)
    closed = ChannelError("(#131047) Re-engagement message", code="131047", reason="window_closed")
    chat.adapter.script = [closed]
    with tenant_context(chat.a.id):
        first = await service.queue_reply(
            conversation, "Your link:\nhttps://x", key="w1", sent_by="s"
        )
    await drain(chat.worker)
    row = await _row(first)
    assert row["status"] == "failed" and "no approved template" in row["error"]

    await connect(chat.pm, chat.a.id, "alpha-tea", template_name="wallet_link")
    chat.adapter.script = [closed]
    with tenant_context(chat.a.id):
        second = await service.queue_reply(
            conversation, "Your link:\nhttps://x", key="w2", sent_by="s"
        )
    await drain(chat.worker)
    row = await _row(second)
    assert (row["status"], row["kind"]) == ("sent", "template")
    message, _ = chat.adapter.sent[-1]
    assert (message.template, message.template_params) == ("wallet_link", ("Your link: https://x",))


async def test_staff_cannot_write_outside_the_window_without_a_template(chat: Chat) -> None:
    conversation = await _conversation(chat)
    await Conversation.update(
        {Conversation.last_inbound_at: datetime.now(UTC) - timedelta(hours=25)}
    ).where(Conversation.id == conversation)
    with tenant_context(chat.a.id), pytest.raises(service.WindowClosed, match="24 hours"):
        await service.queue_reply(conversation, "hi", key="late", sent_by="s")
    await connect(chat.pm, chat.a.id, "alpha-tea", template_name="wallet_link")
    with tenant_context(chat.a.id):
        assert await service.queue_reply(conversation, "hi", key="late", sent_by="s") > 0


async def test_delivery_statuses_move_forward_only(chat: Chat) -> None:
    conversation = await _conversation(chat)
    with tenant_context(chat.a.id):
        outbound_id = await service.queue_reply(conversation, "hi", key="d1", sent_by="s")
    await drain(chat.worker)
    ref = (await _row(outbound_id))["provider_id"]

    def status(n: int, value: str, text: str = "") -> dict:
        return {"id": f"st-{n}", "kind": "delivery", "status": value, "ref": ref, "text": text}

    seen = []
    for n, value in enumerate(["delivered", "sent", "read", "delivered", "queued"]):
        assert await post(chat, status(n, value)) == 200
        seen.append((await _row(outbound_id))["status"])
    assert seen == ["delivered", "delivered", "read", "read", "read"]
    assert await post(chat, status(9, "failed", "131050: User stopped marketing")) == 200
    row = await _row(outbound_id)
    assert (row["status"], row["error_code"]) == ("failed", "131050")
    # Another shop's status for the same provider id changes nothing of A's.
    with tenant_context(chat.b.id):
        other = InboundEvent(EventKind.delivery, "x", "u", status="read", ref=ref)
        assert await apply_delivery(other) == 0


async def test_a_killed_worker_is_finished_once_by_the_sweeper(chat: Chat) -> None:
    from loyalchat.tasks.sweeper import sweep_once

    conversation = await _conversation(chat)
    await asyncio.to_thread(chat.worker.stop)  # the worker dies: nothing runs until drain
    old = datetime.now(UTC) - timedelta(hours=1)
    # An inbound event a dead worker left 'processing', and a send it left 'sending'.
    with tenant_context(chat.a.id):
        from loyalchat.conversations.events import to_payload
        from loyalchat.inbox.service import record_inbound

        event = InboundEvent(EventKind.text, "m-dead", "u1", text="after the crash")
        event_id, _ = await record_inbound(support.KIND, "m-dead", to_payload(event))
        row = OutboundMessage(tenant=chat.a.id, conversation=conversation, key="dead", text="x")
        outbound_id, _ = await outbox.insert_outbound(row)
    chat.worker.broker.flush_all()  # the queue messages died with the worker
    await InboxRow.update(
        {InboxRow.status: "processing", InboxRow.attempts: 1, InboxRow.updated_at: old},
        use_auto_update=False,
    ).where(InboxRow.id == event_id)
    await OutboundMessage.update(
        {
            OutboundMessage.status: "sending",
            OutboundMessage.attempts: 1,
            OutboundMessage.updated_at: old,
        },
        use_auto_update=False,
    ).where(OutboundMessage.id == outbound_id)
    counts = await sweep_once()
    assert (counts["inbound_event"], counts["outbound_message"]) == (1, 1)
    again = await sweep_once()  # other tables (receipts...) register when their module loads
    assert (again["inbound_event"], again["outbound_message"]) == (0, 0)
    assert sum(again.values()) == 0
    await drain(chat.worker)
    texts = await InboundMessage.select(InboundMessage.text).where(
        InboundMessage.provider_id == "m-dead"
    )
    assert texts == [{"text": "after the crash"}]
    assert (await _row(outbound_id))["status"] == "sent"
    assert len(_sent(chat, "dead")) == 1


async def test_thread_reads_both_directions_in_order(chat: Chat) -> None:
    conversation = await _conversation(chat)  # "hi": the bot welcomes the new member
    with tenant_context(chat.a.id):
        await service.queue_reply(conversation, "answer", key="t1", sent_by="staff:1")
    await drain(chat.worker)
    assert await post(chat, text_event("second", "thanks")) == 200
    with tenant_context(chat.a.id):
        items = await service.thread(conversation)
        assert [i["direction"] for i in items] == ["in", "out", "out", "in", "out"]
        assert items[1]["sent_by"] == "bot" and "M000001" in items[1]["text"]
        assert [(i["text"], i["status"]) for i in (items[0], items[2], items[3])] == [
            ("hi", ""),
            ("answer", "sent"),
            ("thanks", ""),
        ]
        first_in, first_out = (int(items[n]["id"].split(":")[1]) for n in (0, 1))
        exact = await service.thread(conversation, after_id=first_in, after_out_id=first_out)
        assert [i["id"] for i in exact] == [i["id"] for i in items[2:]]
        by_time = await service.thread(conversation, after_id=min(first_in, first_out))
        assert [i["id"] for i in by_time] == [i["id"] for i in items[2:]]
        assert await service.thread(conversation, limit=2) == items[:2]
        assert await service.thread(conversation, limit=2, latest=True) == items[-2:]
        assert await service.thread(conversation, latest=True) == items
        [listed] = await service.conversations_page()
        assert (listed["unread"], listed["sender"], listed["member_no"]) == (1, "u1", "M000001")
        assert listed["last_direction"] == "out"  # the bot answered "thanks"
    with tenant_context(chat.b.id):
        assert await service.conversations_page() == []
        assert await service.thread(conversation) == []
        assert await service.thread(conversation, latest=True) == []


async def test_one_conversations_messages_leave_in_order(chat: Chat) -> None:
    """Two worker threads and a slow provider: a conversation's rows still go out one
    after the other, in the order they were stored (a text, then its QR code)."""
    conversation = await _conversation(chat)
    chat.adapter.send_delay = 0.05
    keys = [f"order:{n}" for n in range(6)]
    with tenant_context(chat.a.id):
        ids = []
        for key in keys:
            row = OutboundMessage(tenant=chat.a.id, conversation=conversation, key=key, text=key)
            ids.append((await outbox.insert_outbound(row))[0])
        await outbox.enqueue_sends(list(reversed(ids)))  # even queued the wrong way round
    await drain(chat.worker)
    assert [m.key for m, _ in chat.adapter.sent if m.key.startswith("order:")] == keys
