"""Webhook routes of the chat channels (DESIGN.md section 5, invariants 1, 3 and 5).

Real PostgreSQL, the real app and inbox actor on the in-process broker, and a complete
adapter of a made-up signed-JSON provider (tests/test_conversations_support.py): a request
is stored only after its signature checks out, once however often it is replayed, in the
tenant its URL (or its account, on the platform's app) names and no other.
"""

from __future__ import annotations

import asyncio
import json

import pluggy
import pytest
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.inbound import handle_event
from loyalchat.conversations.tables import (
    ChannelAccount,
    Conversation,
    InboundMessage,
    OutboundMessage,
)
from loyalchat.inbox.service import InboundEventRow
from loyalchat.inbox.tables import InboundEvent
from loyalchat.settings import get_settings
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests import test_conversations_support as support
from tests.test_conversations_support import (
    KIND,
    Chat,
    body,
    sign,
    signed,
    text_event,
)
from tests.test_tasks_support import drain

stub_broker = support.stub_broker  # fixtures
chat = support.chat

URL_A = f"/hooks/{KIND}/alpha-tea"
URL_B = f"/hooks/{KIND}/bravo-bakery"


async def _count(table, tenant_id: int | None = None) -> int:
    query = table.count()
    return await (query.where(table.tenant == tenant_id) if tenant_id else query)


async def _stored_nothing() -> bool:
    return await _count(InboundEvent) == 0 and await _count(Conversation) == 0


async def test_bad_signature_is_401_and_stores_nothing(chat: Chat) -> None:
    payload = body(text_event(1))
    async with AsyncTestClient(app=chat.app) as client:
        forged = await client.post(URL_A, content=payload, headers={"x-signature": "0" * 64})
        unsigned = await client.post(URL_A, content=payload)
        # B's secret on A's URL: a signature, but not A's.
        crossed = await client.post(URL_A, content=payload, headers=signed(payload, "bravo-bakery"))
    assert [r.status_code for r in (forged, unsigned, crossed)] == [401, 401, 401]
    assert await _stored_nothing()


async def test_unknown_slug_kind_or_channel_off_is_404(chat: Chat) -> None:
    payload = body(text_event(1))
    other = await tenant_service.create_tenant(
        "charlie-cafe", "Charlie", status=TenantStatus.active
    )
    async with AsyncTestClient(app=chat.app) as client:
        answers = [
            await client.post(path, content=payload, headers=signed(payload))
            for path in (
                f"/hooks/{KIND}/no-such-shop",
                "/hooks/nochat/alpha-tea",
                f"/hooks/{KIND}/charlie-cafe",  # a shop that never turned the channel on
                f"/hooks/{KIND}/{'x' * 300}",
            )
        ]
        handshake = await client.get(f"/hooks/{KIND}/charlie-cafe", params={"token": "s3cret"})
        nul = await client.post(f"/hooks/{KIND}/%00", content=payload, headers=signed(payload))
    assert [a.status_code for a in answers] == [404, 404, 404, 404], [a.text for a in answers]
    assert nul.status_code == 400  # the input guard: a NUL cannot be a slug
    assert handshake.status_code == 404
    assert await _stored_nothing() and other.id


async def test_handshake_echoes_the_challenge_for_the_shops_token(chat: Chat) -> None:
    async with AsyncTestClient(app=chat.app) as client:
        ok = await client.get(URL_A, params={"token": "alpha-secret", "challenge": "1158201444"})
        wrong = await client.get(URL_A, params={"token": "bravo-secret", "challenge": "1"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert wrong.status_code == 401


async def test_hostile_bodies_never_make_a_500(chat: Chat) -> None:
    huge = b'{"events": [' + b'{"id": "x", "from": "u", "text": "' + b"a" * 1_100_000 + b'"}]}'
    cases = [
        huge,
        b"\x00\x01\x02 not json",
        b'{"events": [{"id": "m-n", "from": "u\\u0000", "text": "a\\u0000b"}]}',
        b'{"events": [{"id": 1e999999, "from": 123456789012345678901234567890}]}',
        b'{"events": "nope"}',
        b"[" * 5000 + b"]" * 5000,
        json.dumps(
            {"events": [{"id": "m-big", "from": "u9", "kind": "text", "text": "z" * 20000}]}
        ).encode(),
    ]
    async with AsyncTestClient(app=chat.app) as client:
        statuses = []
        for payload in cases:
            response = await client.post(URL_A, content=payload, headers=signed(payload))
            statuses.append(response.status_code)
    assert all(status < 500 for status in statuses), statuses
    assert statuses[0] == 413
    await drain(chat.worker)
    with tenant_context(chat.a.id):
        texts = [row["text"] for row in await InboundMessage.select(InboundMessage.text)]
    assert all("\x00" not in text and len(text) <= 8000 for text in texts)


async def test_a_replay_is_stored_and_processed_once(chat: Chat) -> None:
    payload = body(text_event("replay", "積分"))
    async with AsyncTestClient(app=chat.app) as client:
        answers = await asyncio.gather(
            *(client.post(URL_A, content=payload, headers=signed(payload)) for _ in range(5))
        )
    assert {a.status_code for a in answers} == {200} and answers[0].text == "ok"
    await drain(chat.worker)
    assert await _count(InboundEvent) == 1
    rows = await InboundMessage.select(InboundMessage.text, InboundMessage.tenant)
    assert rows == [{"text": "積分", "tenant": chat.a.id}]
    events = await InboundEvent.select(
        InboundEvent.id, InboundEvent.status, InboundEvent.attempts, InboundEvent.payload
    ).output(load_json=True)
    assert [(e["status"], e["attempts"]) for e in events] == [("done", 1)]
    replies = await OutboundMessage.select(OutboundMessage.key, OutboundMessage.status)
    assert replies and {r["status"] for r in replies} == {"sent"}
    assert {r["key"].rsplit(":", 1)[0] for r in replies} == {f"reply:{events[0]['id']}"}
    # The handler run again on the same event (a retry after a crash) adds nothing.
    row = InboundEventRow(events[0]["id"], chat.a.id, KIND, "m-replay", events[0]["payload"])
    with tenant_context(chat.a.id):
        await handle_event(row)
    await drain(chat.worker)
    assert await _count(InboundMessage) == 1
    assert await _count(OutboundMessage) == len(replies) == len(chat.adapter.sent)


async def test_a_batch_of_many_messages(chat: Chat) -> None:
    events = [text_event(n, f"message {n}", sender=f"u{n % 7}") for n in range(60)]
    payload = body(*events)
    async with AsyncTestClient(app=chat.app) as client:
        answer = await client.post(URL_A, content=payload, headers=signed(payload))
    assert answer.status_code == 200
    await drain(chat.worker)
    assert await _count(InboundMessage, chat.a.id) == 60
    assert await _count(Conversation, chat.a.id) == 7
    done = await InboundEvent.count().where(InboundEvent.status == "done")
    assert done == 60


async def test_unknown_message_types_are_stored_and_kept(chat: Chat) -> None:
    payload = body({"id": "m-sticker", "from": "u1", "kind": "sticker"})
    async with AsyncTestClient(app=chat.app) as client:
        answer = await client.post(URL_A, content=payload, headers=signed(payload))
    assert answer.status_code == 200
    await drain(chat.worker)
    rows = await InboundMessage.select(InboundMessage.kind, InboundMessage.text)
    assert rows == [{"kind": "unknown", "text": ""}]
    answers = await OutboundMessage.select(OutboundMessage.text, OutboundMessage.status)
    assert answers and all(a["text"] and a["status"] == "sent" for a in answers)


async def test_two_tenants_never_cross(chat: Chat) -> None:
    """The same sender and message ids to both shops: each URL reaches its own shop only."""
    payload_a = body(text_event(1, "to alpha", sender="same-person"))
    payload_b = body(text_event(1, "to bravo", sender="same-person"))
    async with AsyncTestClient(app=chat.app) as client:
        a = await client.post(URL_A, content=payload_a, headers=signed(payload_a))
        b = await client.post(URL_B, content=payload_b, headers=signed(payload_b, "bravo-bakery"))
        # A's signed body sent to B's URL is refused: B's secret does not sign it.
        swapped = await client.post(URL_B, content=payload_a, headers=signed(payload_a))
    assert (a.status_code, b.status_code, swapped.status_code) == (200, 200, 401)
    await drain(chat.worker)
    for world, text in ((chat.a, "to alpha"), (chat.b, "to bravo")):
        rows = await InboundMessage.select(InboundMessage.text).where(
            InboundMessage.tenant == world.id
        )
        assert rows == [{"text": text}]
        assert await _count(Conversation, world.id) == 1


async def test_platform_app_routes_each_event_to_its_accounts_shop(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALCHAT_WHATSAPP_APP_SECRET", "platform-secret")
    get_settings.cache_clear()
    try:
        await _platform_routing(chat)
    finally:
        monkeypatch.delenv("LOYALCHAT_WHATSAPP_APP_SECRET")
        get_settings.cache_clear()


async def _platform_routing(chat: Chat) -> None:
    for world, account in ((chat.a, "111"), (chat.b, "222")):
        with tenant_context(world.id):
            await _enable_platform_channel(chat.pm)
            await service.sync_channel_account("whatsapp", account)
    payload = body(
        text_event("p1", "for alpha", sender="p", account="111"),
        text_event("p2", "for bravo", sender="p", account="222"),
        text_event("p3", "for nobody", sender="p", account="999"),
    )
    headers = {"x-signature": sign(payload, "platform-secret")}
    async with AsyncTestClient(app=chat.app) as client:
        answer = await client.post("/hooks/whatsapp", content=payload, headers=headers)
        forged = await client.post("/hooks/whatsapp", content=payload, headers=signed(payload))
    assert (answer.status_code, forged.status_code) == (200, 401)
    await drain(chat.worker)
    for world, text in ((chat.a, "for alpha"), (chat.b, "for bravo")):
        rows = await InboundMessage.select(InboundMessage.text).where(
            InboundMessage.tenant == world.id
        )
        assert rows == [{"text": text}]
    assert await _count(InboundEvent) == 2  # the unknown account's event is dropped


async def _enable_platform_channel(pm: pluggy.PluginManager) -> None:
    from loyalchat.tenants import plugin_settings

    await plugin_settings.enable_plugin("platform_app", pm)


async def test_a_suspended_shops_webhooks_are_still_stored(chat: Chat) -> None:
    await tenant_service.set_status(chat.a.id, TenantStatus.suspended, "unpaid")
    payload = body(text_event("s1", "hello?"))
    async with AsyncTestClient(app=chat.app) as client:
        answer = await client.post(URL_A, content=payload, headers=signed(payload))
    assert answer.status_code == 200
    await drain(chat.worker)
    assert await _count(InboundMessage, chat.a.id) == 1


async def test_an_account_held_by_another_shop_is_refused(chat: Chat) -> None:
    with tenant_context(chat.a.id):
        await service.sync_channel_account("whatsapp", "555")
        await service.sync_channel_account("whatsapp", "556")  # the shop changed its number
    with tenant_context(chat.b.id), pytest.raises(service.ChannelAccountTaken, match="another"):
        await service.sync_channel_account("whatsapp", "556")
    rows = await ChannelAccount.select(ChannelAccount.account_id, ChannelAccount.tenant)
    assert rows == [{"account_id": "556", "tenant": chat.a.id}]
    with tenant_context(chat.b.id):
        await service.sync_channel_account("whatsapp", "555")  # released by A: free
    assert await service.tenant_for_account("whatsapp", "555") == chat.b.id
    assert service.webhook_url(KIND, "alpha-tea").endswith(URL_A)


async def test_secrets_the_keys_cannot_read_are_a_503_not_a_500(chat: Chat) -> None:
    """A shop's stored secrets that the configured keys cannot decrypt (a lost or rotated
    key): the provider is told to retry later, nothing is stored, never a 500."""
    from loyalchat.tenants.tables import TenantPlugin

    await TenantPlugin.update({TenantPlugin.secrets: "gAAAAAnot-a-token"}).where(
        TenantPlugin.plugin == support.PLUGIN
    )
    payload = body(text_event(1))
    async with AsyncTestClient(app=chat.app) as client:
        answer = await client.post(URL_A, content=payload, headers=signed(payload, "alpha-tea"))
    assert answer.status_code == 503
    assert await _stored_nothing()
