"""The WeChat journey (safe mode, against the fake WeChat API), a photo on both channels,
the send failures a WhatsApp customer would notice, and two shops on the platform's own
Meta app.

The same real parts as ``tests/test_channel_journeys.py`` (whose fixtures these tests
use): the shop's plugin settings, signed (in safe mode encrypted) pushes to the real
route, the real inbox and outbox actors on the in-process broker, PostgreSQL, and Redis
for the send rate and WeChat's shared ``access_token``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pluggy
import pytest
from litestar.testing import AsyncTestClient

from loyalchat.bot import texts
from loyalchat.context import tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.tables import InboundMessage
from loyalchat.inbox.tables import InboundEvent
from loyalchat.media import store
from loyalchat.receipts.replies import IN_REVIEW
from loyalchat.rewards import codes
from loyalchat.settings import get_settings
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import plugin_settings
from tests import test_channel_journeys as journeys
from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi
from tests.fakes.wechat_api import FakeWeChatApi
from tests.fakes.wechat_api import wechat_api as wechat_api_fixture
from tests.fakes.wechat_webhooks import (
    OPENID,
    ORIGINAL_ID,
    SignedWebhook,
    click_webhook,
    image_webhook,
    subscribe_webhook,
    text_webhook,
    unsubscribe_webhook,
    wechat_config,
)
from tests.fakes.whatsapp_webhooks import (
    change,
    entry,
    envelope,
    image_message,
    signed,
    text_message,
    webhook,
)
from tests.fixtures import World
from tests.media_helpers import png
from tests.test_channel_journeys import (
    CUSTOMER,
    HANT,
    SYSTEM,
    Shop,
    WhatsApp,
    add_rewards,
    connect,
    give_points,
    grants_and_debits,
    member_of,
    outbound_rows,
    text_of,
)
from tests.test_tasks_support import drain

# Fixtures, from the WhatsApp journey and the fakes.
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
graph_api = journeys.graph_api
whatsapp = journeys.whatsapp
wechat_api = wechat_api_fixture

CONFIG = wechat_config("safe")


@dataclass
class WeChat:
    client: AsyncTestClient
    worker: EmbeddedWorker
    api: FakeWeChatApi
    world: World

    async def push(self, hook: SignedWebhook, *, times: int = 1) -> str:
        """Post a push as WeChat does (``times`` times: its retries), run the queued jobs;
        WeChat's answer."""
        answers = set()
        for _ in range(times):
            response = await self.client.post(
                hook.url(f"/hooks/wechat/{self.world.tenant.slug}"),
                content=hook.body,
                headers=hook.headers,
            )
            answers.add((response.status_code, response.text))
        await drain(self.worker)
        assert len(answers) == 1, answers
        [(status, text)] = answers
        assert status == 200, text
        return text

    async def say(self, text: str, **kw: object) -> list[dict]:
        """The member writes ``text``; what the customer-service API was asked to send."""
        before = len(self.api.messages)
        assert await self.push(text_webhook(CONFIG, OPENID, text, **kw)) == "success"
        return self.api.messages[before:]


def texts_of(messages: list[dict]) -> str:
    return "\n".join(m["text"]["content"] for m in messages if m["msgtype"] == "text")


@pytest.fixture
async def wechat(
    running: tuple[AsyncTestClient, EmbeddedWorker],
    wechat_api: FakeWeChatApi,
    tenant_a: World,
    plugins: pluggy.PluginManager,
) -> WeChat:
    """The shop's official account in safe mode, connected as a merchant does."""
    values = {name: CONFIG[name] for name in ("appid", "original_id", "secret", "token")}
    values |= {"encoding_aes_key": CONFIG["encoding_aes_key"], "mode": "safe"}
    await connect(tenant_a, "wechat", values, plugins, ORIGINAL_ID)
    client, worker = running
    return WeChat(client, worker, wechat_api, tenant_a)


# -- WeChat ------------------------------------------------------------------------------


async def test_wechat_scan_to_join_card_rewards_coupon_and_unfollow(wechat: WeChat) -> None:
    before = len(wechat.api.messages)
    assert await wechat.push(subscribe_webhook(CONFIG, OPENID, "ALPHA")) == "success"
    member = await member_of(wechat.world, OPENID)
    assert member["member_no"] == "M000001"
    [welcome] = wechat.api.messages[before:]
    assert welcome["touser"] == OPENID and welcome["msgtype"] == "text"
    expected = texts.say(HANT, texts.WELCOME, member_no="M000001", shop="Alpha-Tea")
    assert expected in welcome["text"]["content"]
    follow = await InboundMessage.select(InboundMessage.text).where(InboundMessage.kind == "event")
    assert follow == [{"text": "follow ALPHA"}]

    card = texts_of(await wechat.say("會員"))
    assert "M000001" in card and "積分：0" in card and "/w/" in card
    before = len(wechat.api.messages)
    assert await wechat.push(click_webhook(CONFIG, OPENID, "CARD")) == "success"
    assert "積分：0" in texts_of(wechat.api.messages[before:])

    await add_rewards(wechat.world, 3)
    await give_points(wechat.world, member["id"], 500)
    listed = texts_of(await wechat.say("rewards"))
    # Numbered, each reward a link to it in the wallet (tests/test_wechat_reward_links.py).
    assert '">Free coffee of the day' in listed and '">Gift 2</a>' in listed
    assert "\n1. <a href=" in listed and "\n3. <a href=" in listed
    assert listed.endswith(texts.say(HANT, texts.PICK_NUMBER))  # in the member's language
    confirm = texts_of(await wechat.say("1"))
    assert "1. " in confirm and "2. " in confirm and "400" in confirm  # yes/no, points after

    # "Yes" pushed again by WeChat's retry (the same MsgId, signed anew) and replayed as is.
    yes = text_webhook(CONFIG, OPENID, "yes", msg_id=777000111)
    before, uploads = len(wechat.api.messages), len(wechat.api.uploads)
    assert await wechat.push(yes, times=3) == "success"
    retried = text_webhook(CONFIG, OPENID, "yes", msg_id=777000111)
    assert await wechat.push(retried) == "success"
    assert await InboundEvent.count().where(InboundEvent.provider_key == "777000111") == 1
    grants, debits = await grants_and_debits(wechat.world, member["id"])
    assert (len(grants), debits) == (1, 1)
    code = codes.display(grants[0]["code"])
    coupon = wechat.api.messages[before:]
    assert code in texts_of(coupon)
    images = [m for m in coupon if m["msgtype"] == "image"]
    assert len(images) == 1 and len(wechat.api.uploads) == uploads + 1
    data, content_type = wechat.api.uploads[images[0]["image"]["media_id"]]
    assert content_type == "image/png" and data.startswith(b"\x89PNG")
    assert code in texts_of(await wechat.say("my coupons"))

    before = len(wechat.api.messages)
    assert await wechat.push(unsubscribe_webhook(CONFIG, OPENID)) == "success"
    assert wechat.api.messages[before:] == []  # nobody to answer
    events = await InboundMessage.select(InboundMessage.text).where(InboundMessage.kind == "event")
    assert [row["text"] for row in events] == ["follow ALPHA", "unfollow"]
    assert wechat.api.token_requests == 1  # one access_token for the whole journey


async def test_wechat_photo_is_fetched_stored_by_sha256_and_answered(wechat: WeChat) -> None:
    await wechat.push(subscribe_webhook(CONFIG, OPENID, "ALPHA"))
    photo = png((600, 800), "white")
    wechat.api.add_media("MEDIA_RECEIPT_1", photo, "image/png")
    before = len(wechat.api.messages)
    assert await wechat.push(image_webhook(CONFIG, OPENID, "MEDIA_RECEIPT_1")) == "success"
    key = hashlib.sha256(photo).hexdigest()
    stored = await InboundMessage.select().where(InboundMessage.kind == "image")
    assert [row["media_key"] for row in stored] == [key]
    with tenant_context(wechat.world.id):
        assert await store.read(key) == photo
    # A picture is a receipt: a blank one is unreadable and goes to the shop's review.
    assert texts_of(wechat.api.messages[before:]) == texts.say(HANT, IN_REVIEW, hours=24)


# -- WhatsApp: a photo, and failures a customer would notice ----------------------------


async def test_outside_the_window_fails_clearly_or_goes_as_the_template(
    whatsapp: WhatsApp,
) -> None:
    await whatsapp.say("JOIN ALPHA")
    whatsapp.graph.fail_next(131047)
    assert await whatsapp.say("points") == []
    failed = (await outbound_rows(whatsapp.a.world, CUSTOMER))[-1]
    assert (failed["status"], failed["error_code"]) == ("failed", "131047")
    assert "no approved template" in failed["error"]
    with tenant_context(whatsapp.a.world.id):  # what the console's thread shows
        shown = (await service.thread(failed["conversation"]))[-1]
    assert (shown["id"], shown["status"]) == (f"out:{failed['id']}", "failed")
    assert "no approved template" in shown["error"]

    with tenant_context(whatsapp.a.world.id, SYSTEM):
        await plugin_settings.update_settings(
            "whatsapp", {"template_name": "wallet_link", "template_language": "zh_HK"}, whatsapp.pm
        )
    whatsapp.graph.fail_next(131047)
    [sent] = await whatsapp.say("points")
    row = (await outbound_rows(whatsapp.a.world, CUSTOMER))[-1]
    assert (row["status"], row["kind"]) == ("sent", "template")
    assert sent["template"]["name"] == "wallet_link"
    assert sent["template"]["language"]["code"] == "zh_HK"
    assert "M000001" in text_of(sent) and "/w/" in text_of(sent)
    assert row["provider_id"] == whatsapp.graph.sent[-1].wamid


async def test_a_rate_limited_send_is_retried_and_sent(whatsapp: WhatsApp) -> None:
    await whatsapp.say("JOIN ALPHA")
    whatsapp.graph.fail_next(130429, retry_after=0.05)
    [card] = await whatsapp.say("points")
    assert "M000001" in text_of(card)
    row = (await outbound_rows(whatsapp.a.world, CUSTOMER))[-1]
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 2, "")
    assert row["provider_id"] == whatsapp.graph.sent[-1].wamid


async def test_a_photo_is_fetched_stored_by_sha256_and_answered(whatsapp: WhatsApp) -> None:
    await whatsapp.say("JOIN ALPHA")
    photo = png((600, 800), "white")
    media_id = whatsapp.graph.add_media(photo, "image/png", phone_number_id=whatsapp.a.pnid)
    before = len(whatsapp.graph.sent)
    assert (
        await whatsapp.post(image_message(media_id, mime_type="image/png", wa_id=CUSTOMER)) == 200
    )
    key = hashlib.sha256(photo).hexdigest()
    stored = await InboundMessage.select().where(InboundMessage.kind == "image")
    assert [row["media_key"] for row in stored] == [key]
    with tenant_context(whatsapp.a.world.id):
        assert await store.read(key) == photo
    downloads = whatsapp.graph.requests_to(f"/media-download/{media_id}")
    assert len(downloads) == 1 and downloads[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    [held] = whatsapp.graph.bodies[before:]
    assert text_of(held) == texts.say(HANT, IN_REVIEW, hours=24)  # a blank receipt: review


# -- WhatsApp: the platform's own Meta app -------------------------------------------


async def test_the_platform_app_routes_each_number_to_its_own_shop(
    running: tuple[AsyncTestClient, EmbeddedWorker],
    graph_api: FakeGraphApi,
    tenant_a: World,
    tenant_b: World,
    plugins: pluggy.PluginManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two shops on the platform's Meta app (no app, secret or token of their own): one
    webhook naming both numbers reaches each shop with its own event only, and each
    answer goes out from that shop's number."""
    monkeypatch.setenv("LOYALCHAT_WHATSAPP_APP_SECRET", "platform-app-secret")
    monkeypatch.setenv("LOYALCHAT_WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN)
    get_settings.cache_clear()
    a = Shop(tenant_a, "106540352242922", "15550783881", "")
    b = Shop(tenant_b, "206540352242933", "15550783882", "")
    try:
        for shop in (a, b):
            values = {"phone_number_id": shop.pnid, "display_phone": f"+{shop.display_phone}"}
            await connect(shop.world, "whatsapp", values, plugins, shop.pnid)
        await _platform_routing(WhatsApp(*running, graph_api, plugins, a, b))
    finally:
        monkeypatch.delenv("LOYALCHAT_WHATSAPP_APP_SECRET")
        monkeypatch.delenv("LOYALCHAT_WHATSAPP_ACCESS_TOKEN")
        get_settings.cache_clear()


async def _platform_routing(whatsapp: WhatsApp) -> None:
    a, b = whatsapp.a, whatsapp.b
    payload = envelope(
        entry(change(text_message("JOIN ALPHA", wa_id=CUSTOMER), phone_number_id=a.pnid)),
        entry(change(text_message("JOIN BRAVO", wa_id=CUSTOMER), phone_number_id=b.pnid)),
        entry(change(text_message("JOIN", wa_id=CUSTOMER), phone_number_id="999999999999")),
    )
    body, headers = signed(payload, "platform-app-secret")
    answer = await whatsapp.client.post("/hooks/whatsapp", content=body, headers=headers)
    _, forged = signed(payload, "another-app-secret")
    refused = await whatsapp.client.post("/hooks/whatsapp", content=body, headers=forged)
    await drain(whatsapp.worker)
    assert (answer.status_code, refused.status_code) == (200, 401)
    assert await InboundEvent.count() == 2  # nobody's number: dropped

    for shop, text in ((a, "JOIN ALPHA"), (b, "JOIN BRAVO")):
        messages = await InboundMessage.select(InboundMessage.text).where(
            InboundMessage.tenant == shop.world.id
        )
        assert messages == [{"text": text}]
        member = await member_of(shop.world, CUSTOMER)
        assert member["member_no"] == "M000001" and member["tenant"] == shop.world.id
    by_number = {sent.phone_number_id: sent.body for sent in whatsapp.graph.sent}
    assert set(by_number) == {a.pnid, b.pnid}
    assert "Alpha" in text_of(by_number[a.pnid]) and "Bravo" in text_of(by_number[b.pnid])

    # The platform's signature on a shop's own URL proves nothing: a shop on the
    # platform's app has no secret there, so nothing verifies and nothing is stored.
    payload = webhook(text_message("積分", wa_id=CUSTOMER), phone_number_id=a.pnid)
    body, headers = signed(payload, "platform-app-secret")
    for slug in (a.slug, b.slug):
        crossed = await whatsapp.client.post(
            f"/hooks/whatsapp/{slug}", content=body, headers=headers
        )
        assert crossed.status_code == 401
    assert await InboundEvent.count() == 2
