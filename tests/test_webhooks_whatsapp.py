"""The platform's own Meta app end to end: the real WhatsApp adapter, the fake Graph API,
signed webhooks, the inbox and outbox actors and the bot.

One webhook body may carry events for many shops' numbers; each goes to the shop holding
that ``phone_number_id`` (``channel_account``) and no other, its answers leave from that
shop's number, and a status names only its own shop's message.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pluggy
import pytest
from dramatiq.brokers.stub import StubBroker
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.inbox.tables import InboundEvent
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.settings import get_settings
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import plugin_settings
from tests.fakes.graph_api import (
    ACCESS_TOKEN,
    FakeGraphApi,
    change,
    entry,
    envelope,
    graph_api,
    signed,
    status,
    text_message,
)
from tests.fixtures import World
from tests.test_conversations_support import app_for, installed
from tests.test_tasks_support import drain, fresh_stub_broker

APP_SECRET = "platform-app-secret"
NUMBERS = {"alpha-tea": "1110001", "bravo-bakery": "2220002"}
fake_graph = graph_api  # the fixture, under a name this module uses


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@dataclass
class Platform:
    pm: pluggy.PluginManager
    app: Litestar
    worker: EmbeddedWorker
    graph: FakeGraphApi
    a: World
    b: World


@pytest.fixture
async def platform(
    tenant_a: World, tenant_b: World, stub_broker: StubBroker, fake_graph: FakeGraphApi
) -> AsyncIterator[Platform]:
    os.environ["LOYALCHAT_WHATSAPP_APP_SECRET"] = APP_SECRET
    os.environ["LOYALCHAT_WHATSAPP_ACCESS_TOKEN"] = ACCESS_TOKEN
    get_settings.cache_clear()
    pm = build_plugin_manager()
    try:
        with installed(pm):
            register_channel_handlers(pm)
            for world in (tenant_a, tenant_b):
                number = NUMBERS[world.tenant.slug]
                with tenant_context(world.id, Actor("system")):
                    # On the platform's app: no token or secret of the shop's own.
                    await plugin_settings.update_settings(
                        "whatsapp",
                        {"phone_number_id": number, "display_phone": f"+852{number}"},
                        pm,
                    )
                    await plugin_settings.enable_plugin("whatsapp", pm)
                    await service.sync_channel_account("whatsapp", number)
            worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
            try:
                yield Platform(pm, app_for(pm), worker, fake_graph, tenant_a, tenant_b)
            finally:
                worker.stop()
    finally:
        os.environ.pop("LOYALCHAT_WHATSAPP_APP_SECRET", None)
        os.environ.pop("LOYALCHAT_WHATSAPP_ACCESS_TOKEN", None)
        get_settings.cache_clear()


async def _post(platform: Platform, payload: dict, secret: str = APP_SECRET) -> int:
    body, headers = signed(payload, secret)
    async with AsyncTestClient(app=platform.app) as client:
        answer = await client.post("/hooks/whatsapp", content=body, headers=headers)
    await drain(platform.worker)
    return answer.status_code


async def test_handshake_uses_the_platforms_verify_token(platform: Platform) -> None:
    os.environ["LOYALCHAT_WHATSAPP_VERIFY_TOKEN"] = "platform-verify"
    get_settings.cache_clear()
    try:
        query = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": ""}
        async with AsyncTestClient(app=platform.app) as client:
            ok = await client.get(
                "/hooks/whatsapp", params={**query, "hub.verify_token": "platform-verify"}
            )
            wrong = await client.get("/hooks/whatsapp", params={**query, "hub.verify_token": "x"})
    finally:
        os.environ.pop("LOYALCHAT_WHATSAPP_VERIFY_TOKEN", None)
        get_settings.cache_clear()
    assert (ok.status_code, ok.text, wrong.status_code) == (200, "42", 401)


async def test_one_body_for_two_shops_reaches_each_shop_only(platform: Platform) -> None:
    payload = envelope(
        entry(
            change(
                text_message("points", wa_id="85291110000", name="Ann"), phone_number_id="1110001"
            ),
            change(text_message("積分", wa_id="85292220000", name="Bo"), phone_number_id="2220002"),
            change(text_message("hello", wa_id="85293330000"), phone_number_id="9999999"),
        )
    )
    assert await _post(platform, payload, secret="not-the-secret") == 401
    assert await InboundEvent.count() == 0
    assert await _post(platform, payload) == 200
    for world, sender, text in (
        (platform.a, "85291110000", "points"),
        (platform.b, "85292220000", "積分"),
    ):
        conversations = await Conversation.select(Conversation.sender).where(
            Conversation.tenant == world.id
        )
        assert conversations == [{"sender": sender}]
        messages = await InboundMessage.select(InboundMessage.text).where(
            InboundMessage.tenant == world.id
        )
        assert messages == [{"text": text}]
    assert await InboundEvent.count() == 2  # the unknown number's message was dropped
    # Each shop's answers left from its own number, to its own customer.
    by_number: dict[str, set[str]] = {}
    for sent in platform.graph.sent:
        assert sent.token == ACCESS_TOKEN  # the platform's token: the shops have none
        by_number.setdefault(sent.phone_number_id, set()).add(sent.body["to"])
    assert by_number == {"1110001": {"+85291110000"}, "2220002": {"+85292220000"}}
    statuses = await OutboundMessage.select(OutboundMessage.status)
    assert statuses and {row["status"] for row in statuses} == {"sent"}


async def test_statuses_touch_only_their_own_shops_messages(platform: Platform) -> None:
    payload = envelope(
        entry(change(text_message("points", wa_id="85291110000"), phone_number_id="1110001"))
    )
    assert await _post(platform, payload) == 200
    rows = await OutboundMessage.select(OutboundMessage.id, OutboundMessage.provider_id).where(
        OutboundMessage.tenant == platform.a.id
    )
    wamid = rows[0]["provider_id"]
    # The same message id in a change of B's number: B has no such message, A's stays.
    spoof = envelope(entry(change(status(wamid, "read"), phone_number_id="2220002")))
    assert await _post(platform, spoof) == 200
    assert {r["status"] for r in await OutboundMessage.select(OutboundMessage.status)} == {"sent"}
    real = envelope(entry(change(status(wamid, "delivered"), phone_number_id="1110001")))
    assert await _post(platform, real) == 200
    first = await OutboundMessage.select(OutboundMessage.status).where(
        OutboundMessage.id == rows[0]["id"]
    )
    assert first == [{"status": "delivered"}]


async def test_a_rate_limited_send_is_retried_until_sent(platform: Platform) -> None:
    platform.graph.fail_next(130429, retry_after=0.05)
    payload = envelope(
        entry(change(text_message("points", wa_id="85291110000"), phone_number_id="1110001"))
    )
    assert await _post(platform, payload) == 200
    rows = await OutboundMessage.select(
        OutboundMessage.status, OutboundMessage.attempts, OutboundMessage.error
    )
    assert rows and all(row["status"] == "sent" for row in rows)
    assert max(row["attempts"] for row in rows) == 2


async def test_a_shops_own_url_never_reaches_another_shop(platform: Platform) -> None:
    """A's own Meta app posting an event that names B's number: signed by A, stored (if at
    all) for A only; B's conversations and members are untouched."""
    with tenant_context(platform.a.id, Actor("system")):
        await plugin_settings.update_settings(
            "whatsapp", {"app_secret": "alpha-own-secret"}, platform.pm
        )
    payload = envelope(
        entry(change(text_message("points", wa_id="85299990000"), phone_number_id="2220002"))
    )
    body, headers = signed(payload, "alpha-own-secret")
    async with AsyncTestClient(app=platform.app) as client:
        own = await client.post("/hooks/whatsapp/alpha-tea", content=body, headers=headers)
        at_b = await client.post("/hooks/whatsapp/bravo-bakery", content=body, headers=headers)
    await drain(platform.worker)
    assert own.status_code == 200 and at_b.status_code in (401, 404)
    assert await Conversation.count().where(Conversation.tenant == platform.b.id) == 0
    assert await InboundEvent.count().where(InboundEvent.tenant == platform.b.id) == 0
    from loyalchat.members.tables import Member

    assert await Member.count().where(Member.tenant == platform.b.id) == 0
