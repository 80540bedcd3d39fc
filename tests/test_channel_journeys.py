"""A customer's whole WhatsApp journey through the real product, against the fake Graph API.

Nothing of ours is replaced: the shop connects WhatsApp through its plugin settings, every
message is a webhook signed with the shop's app secret and posted to the real route, the
real inbox actor runs the bot, the real outbox actor sends through the real adapter to
``tests/fakes/graph_api.py`` (a real HTTP server), on PostgreSQL, with the send rate
limiter on Redis. Queued jobs run as everywhere in the suite: the in-process broker and an
embedded worker, drained after each webhook. The WeChat journey and pictures on both
channels are in ``tests/test_channel_journeys_wechat.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pluggy
import pytest
import redis
from dramatiq.brokers.stub import StubBroker
from litestar.testing import AsyncTestClient

from loyalchat.bot import texts
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations import ratelimit, service
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import Conversation, OutboundMessage
from loyalchat.inbox.tables import InboundEvent
from loyalchat.ledger import service as ledger
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.rewards import codes
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Grant
from loyalchat.settings import get_settings
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import plugin_settings
from tests.fakes import graph_api as fake_graph
from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi
from tests.fakes.whatsapp_webhooks import (
    button_reply,
    list_reply,
    signed,
    status,
    text_message,
    webhook,
)
from tests.fixtures import World
from tests.test_tasks_support import drain, fresh_stub_broker

graph_api = fake_graph.graph_api  # the fixture: a running fake, the API base pointed at it

SYSTEM = Actor("system", label="journey test")
HANT = "zh-Hant"  # the shops' language (tenant default): what a JOIN is answered in
CUSTOMER = "85291234567"


# -- fixtures shared with the WeChat journey ---------------------------------------------


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@pytest.fixture
def shared_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``LOYALCHAT_REDIS_URL`` set: the send rate limit and WeChat's token live in Redis
    (no send buckets of an earlier test's tenants: their ids start again)."""
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(ratelimit.KEY_PREFIX + "*"):
            client.delete(key)
    finally:
        client.close()
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield redis_url
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", "")
    get_settings.cache_clear()


@pytest.fixture
async def running(
    stub_broker: StubBroker, plugins: pluggy.PluginManager, shared_redis: str
) -> AsyncIterator[tuple[AsyncTestClient, EmbeddedWorker]]:
    """The app (with every installed channel) and a paused in-process worker."""
    from loyalchat.app import create_app

    register_channel_handlers(plugins)
    worker = EmbeddedWorker(stub_broker, threads=2, worker_timeout_ms=50)
    try:
        async with AsyncTestClient(app=create_app(run_workers=False, plugins=plugins)) as client:
            yield client, worker
    finally:
        worker.stop()


async def connect(
    world: World, plugin: str, values: dict[str, str], pm: pluggy.PluginManager, account: str
) -> None:
    """What the console's Channels page does: save the settings, turn the channel on,
    claim the provider account."""
    with tenant_context(world.id, SYSTEM):
        await plugin_settings.update_settings(plugin, values, pm)
        await plugin_settings.enable_plugin(plugin, pm)
        await service.sync_channel_account(plugin, account)


async def add_rewards(world: World, count: int, cost: int = 100) -> list[int]:
    """``count`` coupon rewards; the first has a name far over a list row's 24 characters."""
    ids = []
    with tenant_context(world.id, Actor("staff", world.owner.id, "Owner")):
        for n in range(count):
            name = f"Free coffee of the day, any size, number {n}" if n == 0 else f"Gift {n}"
            reward = await rewards.create_reward(
                {
                    "name": {"en": name, "zh-Hant": name},
                    "points_cost": cost + n,
                    "type": "coupon",
                    "options": {"benefit": name},
                }
            )
            ids.append(reward.id)
    return ids


async def member_of(world: World, sender: str) -> dict[str, Any]:
    """The member a conversation with ``sender`` is linked to (with the conversation)."""
    conversation = (
        await Conversation.select()
        .where((Conversation.tenant == world.id) & (Conversation.sender == sender))
        .first()
    )
    assert conversation is not None and conversation["member"] is not None, sender
    member = await Member.select().where(Member.id == conversation["member"]).first()
    return {**member, "conversation": conversation}


async def give_points(world: World, member_id: int, points: int) -> None:
    with tenant_context(world.id, SYSTEM):
        await ledger.earn(member_id, points, key=f"journey:{member_id}:{points}")


async def grants_and_debits(world: World, member_id: int) -> tuple[list[dict], int]:
    grants = await Grant.select().where((Grant.tenant == world.id) & (Grant.member == member_id))
    debits = await LedgerEntry.count().where(
        (LedgerEntry.tenant == world.id)
        & (LedgerEntry.member == member_id)
        & (LedgerEntry.kind == "redeem")
    )
    return grants, debits


async def outbound_rows(world: World, sender: str) -> list[dict[str, Any]]:
    member = await member_of(world, sender)
    return (
        await OutboundMessage.select()
        .where(OutboundMessage.conversation == member["conversation"]["id"])
        .order_by(OutboundMessage.id)
    )


# -- the WhatsApp journey --------------------------------------------------------------


@dataclass
class Shop:
    world: World
    pnid: str
    display_phone: str
    secret: str

    @property
    def slug(self) -> str:
        return self.world.tenant.slug


def whatsapp_values(shop: Shop, **more: str) -> dict[str, str]:
    """The WhatsApp settings form of a shop with its own Meta app."""
    return {
        "phone_number_id": shop.pnid,
        "display_phone": f"+{shop.display_phone}",
        "access_token": ACCESS_TOKEN,
        "app_secret": shop.secret,
        "verify_token": f"verify-{shop.slug}",
        **more,
    }


@dataclass
class WhatsApp:
    client: AsyncTestClient
    worker: EmbeddedWorker
    graph: FakeGraphApi
    pm: pluggy.PluginManager
    a: Shop
    b: Shop

    async def post(
        self, *items: Any, shop: Shop | None = None, times: int = 1, path: str = ""
    ) -> int:
        """A signed webhook with these messages and statuses to the shop's own URL (posted
        ``times`` times, as Meta's retries do), then every queued job run."""
        shop = shop or self.a
        payload = webhook(*items, phone_number_id=shop.pnid, display_phone=shop.display_phone)
        body, headers = signed(payload, shop.secret)
        codes_seen = set()
        for _ in range(times):
            answer = await self.client.post(
                path or f"/hooks/whatsapp/{shop.slug}", content=body, headers=headers
            )
            codes_seen.add(answer.status_code)
        await drain(self.worker)
        assert len(codes_seen) == 1, codes_seen
        return codes_seen.pop()

    async def say(self, text: str, *, wa_id: str = CUSTOMER, shop: Shop | None = None) -> list:
        """The customer writes ``text``; the messages the fake received because of it."""
        before = len(self.graph.sent)
        assert await self.post(text_message(text, wa_id=wa_id), shop=shop) == 200
        return self.graph.bodies[before:]


def text_of(body: dict[str, Any]) -> str:
    """What the customer reads in one message the fake accepted."""
    kind = body["type"]
    if kind == "text":
        return body["text"]["body"]
    if kind == "image":
        return body["image"].get("caption", "")
    if kind == "interactive":
        return body["interactive"]["body"]["text"]
    if kind == "template":
        parameters = body["template"].get("components", [{}])[0].get("parameters", [])
        return " ".join(p["text"] for p in parameters)
    raise AssertionError(kind)


def all_text(bodies: list[dict[str, Any]]) -> str:
    return "\n".join(text_of(body) for body in bodies)


@pytest.fixture
async def whatsapp(
    running: tuple[AsyncTestClient, EmbeddedWorker],
    graph_api: FakeGraphApi,
    tenant_a: World,
    tenant_b: World,
    plugins: pluggy.PluginManager,
) -> WhatsApp:
    """Two shops, each with its own number and Meta app, connected as a merchant does."""
    client, worker = running
    a = Shop(tenant_a, "106540352242922", "15550783881", "alpha-app-secret")
    b = Shop(tenant_b, "206540352242933", "15550783882", "bravo-app-secret")
    for shop in (a, b):
        await connect(shop.world, "whatsapp", whatsapp_values(shop), plugins, shop.pnid)
    return WhatsApp(client, worker, graph_api, plugins, a, b)


async def test_join_gets_a_member_number_and_the_card_in_three_languages(
    whatsapp: WhatsApp,
) -> None:
    welcome = await whatsapp.say("JOIN ALPHA")
    member = await member_of(whatsapp.a.world, CUSTOMER)
    assert member["member_no"] == "M000001"
    expected = texts.say(HANT, texts.WELCOME, member_no="M000001", shop="Alpha-Tea")
    assert [body["to"] for body in welcome] == [f"+{CUSTOMER}"]
    assert expected in text_of(welcome[0])
    assert {sent.phone_number_id for sent in whatsapp.graph.sent} == {whatsapp.a.pnid}

    # Three other customers whose first words pick their language.
    hant = all_text(await whatsapp.say("積分", wa_id="85290000001"))
    hans = all_text(await whatsapp.say("积分", wa_id="85290000002"))
    english = all_text(await whatsapp.say("points", wa_id="85290000003"))
    assert "積分：0" in hant and "會員卡金額" in hant and "/w/" in hant
    assert "积分：0" in hans and "会员卡余额" in hans and "/w/" in hans
    assert "Points: 0" in english and "Stored value" in english and "/w/" in english
    numbers = [
        (await member_of(whatsapp.a.world, wa))["member_no"]
        for wa in ("85290000001", "85290000002", "85290000003")
    ]
    assert numbers == ["M000002", "M000003", "M000004"]

    # Points given at the counter show in the next card.
    await give_points(whatsapp.a.world, member["id"], 1234)
    card = all_text(await whatsapp.say("積分"))
    assert "M000001" in card and "積分：1,234" in card
    assert await Member.count().where(Member.tenant == whatsapp.b.world.id) == 0


async def test_rewards_list_confirm_and_one_coupon_however_often_yes_arrives(
    whatsapp: WhatsApp,
) -> None:
    shop = whatsapp.a
    reward_ids = await add_rewards(shop.world, 12)
    await whatsapp.say("JOIN ALPHA")
    member = await member_of(shop.world, CUSTOMER)
    await give_points(shop.world, member["id"], 1000)

    [listed] = await whatsapp.say("rewards")
    assert listed["type"] == "interactive" and listed["interactive"]["type"] == "list"
    assert listed["interactive"]["action"]["button"] == "選擇"  # in the list's language
    rows = [row for s in listed["interactive"]["action"]["sections"] for row in s["rows"]]
    assert 1 <= len(rows) <= 10
    assert all(len(row["title"]) <= 24 for row in rows)
    assert rows[0]["title"].endswith("…")  # the long name, cut
    assert rows[0]["id"] == f"reward:{reward_ids[0]}"

    before = len(whatsapp.graph.sent)
    tap = list_reply(rows[0]["id"], rows[0]["title"], wa_id=CUSTOMER)
    assert await whatsapp.post(tap) == 200
    [confirm] = whatsapp.graph.bodies[before:]
    assert confirm["interactive"]["type"] == "button"
    buttons = [b["reply"] for b in confirm["interactive"]["action"]["buttons"]]
    assert [b["id"] for b in buttons] == ["confirm:yes", "confirm:no"]
    assert "100" in text_of(confirm)  # the cost, and the balance after it
    assert "900" in text_of(confirm)

    # "Yes", delivered five times by Meta (the same message id), then a second tap.
    before, uploads = len(whatsapp.graph.sent), len(whatsapp.graph.uploads)
    yes = button_reply("confirm:yes", buttons[0]["title"], wa_id=CUSTOMER)
    assert await whatsapp.post(yes, times=5) == 200
    assert await InboundEvent.count().where(InboundEvent.provider_key == yes.message["id"]) == 1
    coupon = whatsapp.graph.bodies[before:]
    grants, debits = await grants_and_debits(shop.world, member["id"])
    assert (len(grants), debits) == (1, 1)
    code = codes.display(grants[0]["code"])
    assert code in all_text(coupon)
    images = [body for body in coupon if body["type"] == "image"]
    assert len(images) == 1 and len(whatsapp.graph.uploads) == uploads + 1
    uploaded = whatsapp.graph.media[images[0]["image"]["id"]]
    assert uploaded.mime_type == "image/png" and uploaded.data.startswith(b"\x89PNG")

    again = button_reply("confirm:yes", buttons[0]["title"], wa_id=CUSTOMER)  # double tap
    assert await whatsapp.post(again) == 200
    grants, debits = await grants_and_debits(shop.world, member["id"])
    assert (len(grants), debits) == (1, 1)
    assert (await member_of(shop.world, CUSTOMER))["points"] == 900

    mine = all_text(await whatsapp.say("my coupons"))
    assert texts.say(HANT, texts.COUPONS_HEADER) in mine and code in mine


async def test_stop_and_start_and_delivery_statuses_move_forward_only(
    whatsapp: WhatsApp,
) -> None:
    [welcome] = await whatsapp.say("JOIN ALPHA")
    stopped = all_text(await whatsapp.say("STOP"))
    assert texts.say(HANT, texts.STOPPED) in stopped
    member = await member_of(whatsapp.a.world, CUSTOMER)
    assert member["conversation"]["opted_out"] is True
    assert member["conversation"]["opted_out_at"] is not None
    assert member["marketing_opt_in"] is False
    started = all_text(await whatsapp.say("START"))
    assert texts.say(HANT, texts.STARTED) in started
    member = await member_of(whatsapp.a.world, CUSTOMER)
    assert member["conversation"]["opted_out"] is False and member["marketing_opt_in"] is True

    wamid = whatsapp.graph.sent[0].wamid
    row = (await outbound_rows(whatsapp.a.world, CUSTOMER))[0]
    assert (row["provider_id"], row["status"]) == (wamid, "sent")
    seen = []
    for state in ("sent", "delivered", "read", "sent", "delivered"):
        assert await whatsapp.post(status(wamid, state, recipient=CUSTOMER)) == 200
        rows = await OutboundMessage.select().where(OutboundMessage.provider_id == wamid)
        seen.append(rows[0]["status"])
    assert seen == ["sent", "delivered", "read", "read", "read"]
    assert welcome["to"] == f"+{CUSTOMER}"

    stop_wamid = whatsapp.graph.sent[1].wamid  # Meta could not deliver the STOP answer
    failed = status(stop_wamid, "failed", error_code=131026, error_title="Message undeliverable")
    assert await whatsapp.post(failed) == 200
    row = (await OutboundMessage.select().where(OutboundMessage.provider_id == stop_wamid))[0]
    assert (row["status"], row["error_code"]) == ("failed", "131026")
    assert row["error"] == "131026: Message undeliverable"


async def test_the_member_is_found_by_phone_when_meta_adds_the_business_scoped_id(
    whatsapp: WhatsApp,
) -> None:
    """The same person, now with a BSUID beside the phone: the same member (found by the
    phone), answered through ``recipient`` (the BSUID)."""
    await whatsapp.say("JOIN ALPHA")
    bsuid = "US.13491208655302741918"
    before = len(whatsapp.graph.sent)
    assert await whatsapp.post(text_message("points", wa_id=CUSTOMER, user_id=bsuid)) == 200
    answers = whatsapp.graph.bodies[before:]
    assert answers and all(body["recipient"] == bsuid for body in answers)
    assert "M000001" in all_text(answers)
    assert (await member_of(whatsapp.a.world, bsuid))["member_no"] == "M000001"
    assert await Member.count() == 1


async def test_a_shops_own_url_takes_only_its_own_number(whatsapp: WhatsApp) -> None:
    """A body signed with A's secret that names B's number reaches nobody."""
    payload = webhook(text_message("JOIN", wa_id=CUSTOMER), phone_number_id=whatsapp.b.pnid)
    body, headers = signed(payload, whatsapp.a.secret)
    answer = await whatsapp.client.post(
        f"/hooks/whatsapp/{whatsapp.a.slug}", content=body, headers=headers
    )
    await drain(whatsapp.worker)
    assert answer.status_code == 200
    assert await InboundEvent.count() == 0 and await Member.count() == 0
    assert whatsapp.graph.sent == []
