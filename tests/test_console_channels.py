"""The console's Channels page through the real app, with the real channel plugins.

WhatsApp and WeChat talk to the local fakes (tests/fakes/graph_api.py, wechat_api.py);
webhooks are signed with the real algorithm (tests/fakes/whatsapp_webhooks.py); the inbox
and the outbox run on the in-process broker with an embedded worker, as in production.
Tests touch the database only outside the ``async with`` client blocks.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pluggy
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import ChannelAccount, Conversation, OutboundMessage
from loyalchat.inbox.tables import InboundEvent
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import plugin_settings as ps
from loyalchat.tenants.tables import TenantPlugin
from tests.console_helpers import login, post_form
from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi, graph_api
from tests.fakes.wechat_api import wechat_api
from tests.fakes.whatsapp_webhooks import WA_ID, signed, text_message, webhook
from tests.fixtures import World
from tests.test_conversations_support import app_for, installed
from tests.test_tasks_support import drain, fresh_stub_broker

__all__ = ["graph_api", "wechat_api"]  # the fixtures, imported for pytest

PNID = "106540352242922"
APP_SECRET = "alpha-app-secret-0123456789"
VERIFY = "alpha-verify-token-42"
WHATSAPP = {
    "phone_number_id": PNID,
    "waba_id": "102290129340398",
    "display_phone": "+852 9123 4567",
    "access_token": ACCESS_TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY,
}
WECHAT = {
    "appid": "wx1234567890abcdef",
    "original_id": "gh_0123456789ab",
    "secret": "wx-secret-77",
    "token": "wx-token-88",
}


def value_of(page: str, testid: str) -> str:
    found = re.search(r'value="([^"]*)"[^>]*data-testid="' + testid + '"', page)
    assert found, f"no {testid} on the page"
    return html.unescape(found.group(1))


@pytest.fixture
def stub_broker():
    yield from fresh_stub_broker()


@dataclass
class Shop:
    pm: pluggy.PluginManager
    app: Litestar
    worker: EmbeddedWorker
    a: World
    b: World


@pytest.fixture
async def shop(tenant_a: World, tenant_b: World, stub_broker) -> AsyncIterator[Shop]:
    pm = build_plugin_manager()
    with installed(pm):
        register_channel_handlers(pm)
        worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
        try:
            yield Shop(pm, app_for(pm), worker, tenant_a, tenant_b)
        finally:
            worker.stop()


async def _client(shop: Shop, email: str) -> AsyncTestClient:
    client = AsyncTestClient(app=shop.app)
    await client.__aenter__()
    await login(client, email)
    return client


async def _connect_whatsapp(client: AsyncTestClient, **extra: str) -> None:
    answer = await post_form(client, "/console/channels/whatsapp/settings", {**WHATSAPP, **extra})
    assert answer.status_code == 303, answer.text
    answer = await post_form(client, "/console/channels/whatsapp/enabled", {"enabled": "1"})
    assert answer.status_code == 303, answer.text


async def _row(tenant_id: int, plugin: str) -> dict | None:
    return (
        await TenantPlugin.select()
        .where((TenantPlugin.tenant == tenant_id) & (TenantPlugin.plugin == plugin))
        .first()
    )


# -- settings ------------------------------------------------------------------------------


async def test_owner_connects_whatsapp_secrets_encrypted_and_never_shown(shop: Shop) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        page = await client.get("/console/channels")
        assert page.status_code == 200
        for kind in ("whatsapp", "wechat", "webchat"):
            assert f'data-testid="channel-{kind}"' in page.text
        await _connect_whatsapp(client)
        detail = await client.get("/console/channels/whatsapp")
    finally:
        await client.__aexit__(None, None, None)
    assert detail.status_code == 200
    for secret in (APP_SECRET, VERIFY, ACCESS_TOKEN):
        assert secret not in detail.text
    assert 'data-testid="secret-app_secret"' in detail.text and "Set ·" in detail.text
    assert "••" not in detail.text  # not even a masked end of a secret
    assert 'value="106540352242922"' in detail.text
    row = await _row(shop.a.id, "whatsapp")
    config = row["config"] if isinstance(row["config"], dict) else json.loads(row["config"])
    assert row["enabled"] and config["phone_number_id"] == PNID
    for secret in (APP_SECRET, VERIFY, ACCESS_TOKEN):
        assert secret not in row["secrets"] and secret not in str(row["config"])
    with tenant_context(shop.a.id, Actor("system")):
        assert (await ps.runtime_settings("whatsapp", shop.pm))["app_secret"] == APP_SECRET
    assert await service.tenant_for_account("whatsapp", PNID) == shop.a.id


async def test_a_number_another_shop_holds_is_refused_and_nothing_saved(shop: Shop) -> None:
    with tenant_context(shop.b.id, Actor("system")):
        await ps.update_settings(
            "whatsapp", {"phone_number_id": PNID, "display_phone": "+85255"}, shop.pm
        )
        await service.sync_channel_account("whatsapp", PNID)
    client = await _client(shop, shop.a.owner.email)
    try:
        answer = await post_form(client, "/console/channels/whatsapp/settings", WHATSAPP)
    finally:
        await client.__aexit__(None, None, None)
    assert answer.status_code == 409
    assert "connected to another shop" in answer.text
    assert APP_SECRET not in answer.text and VERIFY not in answer.text
    assert await _row(shop.a.id, "whatsapp") is None
    assert await service.tenant_for_account("whatsapp", PNID) == shop.b.id
    held = await ChannelAccount.select().where(ChannelAccount.tenant == shop.a.id)
    assert held == []


async def test_wechat_saves_its_original_id_as_the_account(shop: Shop) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        answer = await post_form(client, "/console/channels/wechat/settings", WECHAT)
        assert answer.status_code == 303, answer.text
        missing = await post_form(client, "/console/channels/wechat/settings", {"appid": ""})
    finally:
        await client.__aexit__(None, None, None)
    assert missing.status_code == 400 and "Fill this in." in missing.text
    assert await service.tenant_for_account("wechat", WECHAT["original_id"]) == shop.a.id


# -- roles, other shops, suspension ------------------------------------------------------


async def test_cashier_cannot_and_manager_only_reads_settings(shop: Shop) -> None:
    client = await _client(shop, shop.a.cashier.email)
    try:
        assert (await client.get("/console/channels")).status_code == 403
        answer = await post_form(client, "/console/channels/whatsapp/settings", WHATSAPP)
        assert answer.status_code == 403
    finally:
        await client.__aexit__(None, None, None)
    assert await _row(shop.a.id, "whatsapp") is None


async def test_unknown_kinds_and_another_shops_conversation_are_not_found(shop: Shop) -> None:
    with tenant_context(shop.b.id, Actor("system")):
        await ps.enable_plugin("webchat", shop.pm)
    theirs = await Conversation.insert(
        Conversation(tenant=shop.b.id, channel="webchat", sender="dev-b", locale="en")
    ).returning(Conversation.id)
    with tenant_context(shop.a.id, Actor("system")):
        await ps.enable_plugin("webchat", shop.pm)
    client = await _client(shop, shop.a.owner.email)
    try:
        for path in (
            "/console/channels/x",
            "/console/channels/x/join",
            "/console/channels/x/poster",
        ):
            assert (await client.get(path)).status_code == 404, path
        assert (await post_form(client, "/console/channels/x/settings", {})).status_code == 404
        assert (await post_form(client, "/console/channels/webchat/menu", {})).status_code == 404
        page = await client.get("/console/channels/webchat")
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        form = {
            "conversation": str(theirs[0]["id"]),
            "text": "hi",
            "token": token.group(1) if token else "t" * 24,
        }
        answer = await post_form(client, "/console/channels/webchat/test", form)
    finally:
        await client.__aexit__(None, None, None)
    assert answer.status_code == 400
    assert "not on this channel" in answer.text
    assert await OutboundMessage.count() == 0


async def test_a_suspended_shop_reads_but_changes_nothing(shop: Shop) -> None:
    from loyalchat.tenants import service as tenants

    await tenants.set_status(shop.a.id, tenants.TenantStatus.suspended, reason="test")
    client = await _client(shop, shop.a.owner.email)
    try:
        page = await client.get("/console/channels/whatsapp")
        answer = await post_form(client, "/console/channels/whatsapp/settings", WHATSAPP)
        menu = await post_form(client, "/console/channels/wechat/menu", {"locale": "en"})
    finally:
        await client.__aexit__(None, None, None)
    assert page.status_code == 200
    assert 'data-testid="settings-save"' not in page.text and "channel-switch" not in page.text
    assert answer.status_code == 403 and menu.status_code == 403
    assert await _row(shop.a.id, "whatsapp") is None


# -- webhook URL, health, test message -------------------------------------------------------


async def test_the_webhook_url_shown_takes_a_signed_webhook_and_a_test_is_sent(
    shop: Shop,
    graph_api,
) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        await _connect_whatsapp(client)
        page = await client.get("/console/channels/whatsapp")
        url = value_of(page.text, "webhook-url")
        assert url.endswith("/hooks/whatsapp/alpha-tea")
        assert 'data-testid="verify-token-hint"' in page.text and "Verify token: set" in page.text
        assert 'data-testid="test-nobody"' in page.text
        body, headers = signed(webhook(text_message("JOIN alpha-tea")), APP_SECRET)
        answer = await client.post(urlsplit(url).path, content=body, headers=headers)
        assert answer.status_code == 200
        forged = await client.post(
            urlsplit(url).path,
            content=body,
            headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64},
        )
        assert forged.status_code == 401
    finally:
        await client.__aexit__(None, None, None)
    await drain(shop.worker)
    assert await InboundEvent.count().where(InboundEvent.tenant == shop.a.id) == 1
    conversation = await Conversation.select().where(Conversation.tenant == shop.a.id).first()
    assert conversation["sender"] == WA_ID

    client = await _client(shop, shop.a.owner.email)
    try:
        page = await client.get("/console/channels/whatsapp")
        assert "None received yet" not in page.text  # the health line saw the webhook
        token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
        form = {"conversation": str(conversation["id"]), "text": "Test from Alpha", "token": token}
        answer = await post_form(client, "/console/channels/whatsapp/test", form)
        again = await post_form(client, "/console/channels/whatsapp/test", form)
    finally:
        await client.__aexit__(None, None, None)
    assert answer.status_code == 303 and again.status_code == 303
    await drain(shop.worker)
    tests = [m for m in graph_api.sent if m.body.get("text", {}).get("body") == "Test from Alpha"]
    assert len(tests) == 1  # the form sent twice is one message
    assert tests[0].body["to"].lstrip("+") == WA_ID and tests[0].phone_number_id == PNID
    row = await OutboundMessage.select().where(OutboundMessage.key == f"test:{token}").first()
    assert row["status"] == "sent" and row["sent_by"] == f"staff:{shop.a.owner.id}"


async def test_outside_the_window_the_test_is_refused_clearly(
    shop: Shop, graph_api: FakeGraphApi
) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        await _connect_whatsapp(client)
        body, headers = signed(webhook(text_message("hello")), APP_SECRET)
        assert (
            await client.post("/hooks/whatsapp/alpha-tea", content=body, headers=headers)
        ).status_code == 200
    finally:
        await client.__aexit__(None, None, None)
    await drain(shop.worker)
    await Conversation.update(
        {Conversation.last_inbound_at: datetime.now(UTC) - timedelta(days=2)}
    ).where(Conversation.tenant == shop.a.id)
    conversation = await Conversation.select(Conversation.id).first()
    before = await OutboundMessage.count()
    client = await _client(shop, shop.a.owner.email)
    try:
        form = {"conversation": str(conversation["id"]), "text": "Late", "token": "w" * 24}
        answer = await post_form(client, "/console/channels/whatsapp/test", form)
    finally:
        await client.__aexit__(None, None, None)
    assert answer.status_code == 409
    assert "more than 24 hours ago" in answer.text and "approved template" in answer.text
    assert await OutboundMessage.count() == before


async def test_a_wechat_test_outside_the_window_mentions_no_template(shop: Shop) -> None:
    with tenant_context(shop.a.id, Actor("system")):
        await ps.update_settings("wechat", WECHAT, shop.pm)
        await ps.enable_plugin("wechat", shop.pm)
    rows = await Conversation.insert(
        Conversation(
            tenant=shop.a.id,
            channel="wechat",
            sender="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            locale="en",
            last_inbound_at=datetime.now(UTC) - timedelta(hours=49),
        )
    ).returning(Conversation.id)
    client = await _client(shop, shop.a.owner.email)
    try:
        form = {"conversation": str(rows[0]["id"]), "text": "Late", "token": "v" * 24}
        answer = await post_form(client, "/console/channels/wechat/test", form)
    finally:
        await client.__aexit__(None, None, None)
    assert answer.status_code == 409
    assert "more than 48 hours ago" in answer.text and "no message" in answer.text
    assert "approved template" not in answer.text
    assert await OutboundMessage.count() == 0


async def test_values_the_database_cannot_keep_are_form_errors(shop: Shop) -> None:
    with tenant_context(shop.a.id, Actor("system")):
        await ps.enable_plugin("webchat", shop.pm)
    conversation = await Conversation.insert(
        Conversation(tenant=shop.a.id, channel="webchat", sender="dev-a", locale="en")
    ).returning(Conversation.id)
    client = await _client(shop, shop.a.owner.email)
    try:
        nul = await post_form(
            client, "/console/channels/whatsapp/settings", {**WHATSAPP, "waba_id": "1\x002"}
        )
        huge = await post_form(
            client, "/console/channels/whatsapp/settings", {**WHATSAPP, "app_secret": "s" * 5000}
        )
        form = {"conversation": str(conversation[0]["id"]), "text": "a\x00b", "token": "n" * 24}
        text = await post_form(client, "/console/channels/webchat/test", form)
    finally:
        await client.__aexit__(None, None, None)
    # A NUL is refused before the page (the app's form hardening); a page would refuse it too.
    assert (nul.status_code, huge.status_code, text.status_code) == (400, 400, 400)
    assert "Check this value." in huge.text
    assert await _row(shop.a.id, "whatsapp") is None
    assert await OutboundMessage.count() == 0
