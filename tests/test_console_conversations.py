"""The console's conversations through the real product: WhatsApp webhooks signed with the
shop's app secret make the conversation (real route, inbox actor, bot, outbox actor, the
real adapter sending to the fake Graph API, a real HTTP server); staff read the thread,
answer (once on a double submit), retry a failed send; roles, two tenants, a suspended
shop, the customer-service window and pictures in the thread."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pluggy
import pytest
from dramatiq.brokers.stub import StubBroker
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import plugin_settings
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.console_helpers import form_tokens, login, post_form
from tests.fakes import graph_api as fake_graph
from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi
from tests.fakes.whatsapp_webhooks import image_message, signed, text_message, webhook
from tests.fixtures import World
from tests.media_helpers import png
from tests.test_tasks_support import drain, fresh_stub_broker

graph_api = fake_graph.graph_api  # the fixture: a running fake, the API base pointed at it
CUSTOMER = "85291234567"


@dataclass
class Shop:
    world: World
    pnid: str
    secret: str


@dataclass
class Chat:
    client: AsyncTestClient
    worker: EmbeddedWorker
    graph: FakeGraphApi
    a: Shop
    b: Shop

    async def write(self, *items, shop: Shop | None = None) -> None:
        """A signed webhook to the shop's own URL, then every queued job run."""
        shop = shop or self.a
        body, headers = signed(webhook(*items, phone_number_id=shop.pnid), shop.secret)
        answer = await self.client.post(
            f"/hooks/whatsapp/{shop.world.tenant.slug}", content=body, headers=headers
        )
        assert answer.status_code == 200, answer.text
        await drain(self.worker)


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


async def _connect(shop: Shop, pm: pluggy.PluginManager) -> None:
    """What the Channels page does: save the WhatsApp settings, turn it on, claim the number."""
    values = {
        "phone_number_id": shop.pnid,
        "display_phone": "+15550783881",
        "access_token": ACCESS_TOKEN,
        "app_secret": shop.secret,
        "verify_token": f"verify-{shop.pnid}",
    }
    with tenant_context(shop.world.id, Actor("system")):
        await plugin_settings.update_settings("whatsapp", values, pm)
        await plugin_settings.enable_plugin("whatsapp", pm)
        await service.sync_channel_account("whatsapp", shop.pnid)


@pytest.fixture
async def chat(
    stub_broker: StubBroker,
    plugins: pluggy.PluginManager,
    graph_api: FakeGraphApi,
    tenant_a: World,
    tenant_b: World,
) -> AsyncIterator[Chat]:
    from loyalchat.app import create_app

    register_channel_handlers(plugins)
    a = Shop(tenant_a, "106540352242922", "alpha-app-secret")
    b = Shop(tenant_b, "206540352242933", "bravo-app-secret")
    for shop in (a, b):
        await _connect(shop, plugins)
    worker = EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50)
    try:
        async with AsyncTestClient(app=create_app(run_workers=False, plugins=plugins)) as client:
            yield Chat(client, worker, graph_api, a, b)
    finally:
        worker.stop()


async def _conversation(world: World) -> dict:
    row = await Conversation.select().where(Conversation.tenant == world.id).first()
    assert row is not None
    return row


async def _outbound(conversation_id: int) -> list[dict]:
    return (
        await OutboundMessage.select()
        .where(OutboundMessage.conversation == conversation_id)
        .order_by(OutboundMessage.id)
    )


def _reply_token(html: str) -> str:
    tokens = form_tokens(html)
    assert tokens, "no reply form on the page"
    return tokens[-1]


async def test_the_thread_and_a_staff_reply_sent_once(chat: Chat) -> None:
    await chat.write(text_message("Hello, are you open on Sunday?", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    bot_rows = await _outbound(conversation["id"])
    assert bot_rows and all(row["status"] == "sent" for row in bot_rows)

    client = chat.client
    await login(client, chat.a.world.cashier.email)  # a cashier reads and answers
    listing = await client.get("/console/conversations")
    page = await client.get(f"/console/conversations/{conversation['id']}")
    assert listing.status_code == 200 and 'data-testid="conversation-row"' in listing.text
    assert "WhatsApp" in listing.text
    assert page.status_code == 200
    assert "Hello, are you open on Sunday?" in page.text
    assert page.text.count('data-direction="out"') == len(bot_rows)
    assert 'data-status="sent"' in page.text and 'data-testid="window-open"' in page.text
    # Customer first, then the bot's answers (oldest first).
    assert page.text.index('data-direction="in"') < page.text.index('data-direction="out"')

    token = _reply_token(page.text)
    before = len(chat.graph.sent)
    path = f"/console/conversations/{conversation['id']}/reply"
    first = await post_form(client, path, {"token": token, "text": "Yes, 10 to 6. 歡迎!"})
    second = await post_form(client, path, {"token": token, "text": "Yes, 10 to 6. 歡迎!"})
    await drain(chat.worker)
    assert first.status_code == second.status_code == 303
    staff = [row for row in await _outbound(conversation["id"]) if row["sent_by"] != "bot"]
    assert len(staff) == 1 and staff[0]["key"] == f"staff:{token}"
    assert staff[0]["status"] == "sent" and staff[0]["sent_by"] == chat.a.world.cashier.email
    sent = [body for body in chat.graph.bodies[before:] if body.get("type") == "text"]
    assert [body["text"]["body"] for body in sent] == ["Yes, 10 to 6. 歡迎!"]
    assert sent[0]["to"].lstrip("+") == CUSTOMER

    shown = await client.get(f"/console/conversations/{conversation['id']}")
    assert "Yes, 10 to 6. 歡迎!" in shown.text and chat.a.world.cashier.email in shown.text
    empty = await post_form(client, path, {"token": _reply_token(shown.text), "text": "  "})
    expired = await post_form(client, path, {"text": "no token"})
    assert empty.status_code == expired.status_code == 400
    assert 'data-testid="error-summary"' in empty.text and "Write a reply." in empty.text


async def test_a_failed_send_shows_the_providers_error_and_staff_retry_it(chat: Chat) -> None:
    chat.graph.fail_next(131026, message="(#131026) Message undeliverable")
    await chat.write(text_message("points", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    failed = [row for row in await _outbound(conversation["id"]) if row["status"] == "failed"]
    assert len(failed) == 1, await _outbound(conversation["id"])

    client = chat.client
    await login(client, chat.a.world.owner.email)
    listing = await client.get("/console/conversations")
    page = await client.get(f"/console/conversations/{conversation['id']}")
    assert 'data-testid="failed-badge"' in listing.text
    assert 'data-status="failed"' in page.text and "Message undeliverable" in page.text
    assert 'data-testid="retry-send"' in page.text

    before = len(chat.graph.sent)
    retried = await post_form(client, f"/console/conversations/messages/{failed[0]['id']}/retry")
    await drain(chat.worker)
    again = await post_form(client, f"/console/conversations/messages/{failed[0]['id']}/retry")
    assert retried.status_code == again.status_code == 303
    assert retried.headers["location"].startswith(f"/console/conversations/{conversation['id']}")
    row = (await OutboundMessage.select().where(OutboundMessage.id == failed[0]["id"]))[0]
    assert row["status"] == "sent" and len(chat.graph.sent) == before + 1
    page = await client.get(f"/console/conversations/{conversation['id']}")
    assert 'data-testid="retry-send"' not in page.text


async def test_outside_the_window_the_form_explains_and_nothing_is_stored(chat: Chat) -> None:
    await chat.write(text_message("hi", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    client = chat.client
    await login(client, chat.a.world.owner.email)
    token = _reply_token((await client.get(f"/console/conversations/{conversation['id']}")).text)
    await Conversation.update(
        {Conversation.last_inbound_at: datetime.now(UTC) - timedelta(hours=30)}
    ).where(Conversation.id == conversation["id"])
    count = len(await _outbound(conversation["id"]))
    page = await client.get(f"/console/conversations/{conversation['id']}")
    refused = await post_form(
        client,
        f"/console/conversations/{conversation['id']}/reply",
        {"token": token, "text": "Late answer"},
    )
    assert (
        'data-testid="window-closed"' in page.text and 'data-testid="reply-form"' not in page.text
    )
    assert "24 hours" in page.text
    assert refused.status_code == 409 and "approved template" in refused.text
    assert "set an approved template" in page.text
    assert len(await _outbound(conversation["id"])) == count


async def test_wechat_outside_its_window_says_the_customer_writes_first(chat: Chat) -> None:
    """WeChat has no templates and a 48-hour window: no word of a template anywhere."""
    rows = await Conversation.insert(
        Conversation(
            tenant=chat.a.world.id,
            channel="wechat",
            sender="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            locale="en",
            last_inbound_at=datetime.now(UTC) - timedelta(hours=50),
        )
    ).returning(Conversation.id)
    conversation_id = rows[0]["id"]
    client = chat.client
    await login(client, chat.a.world.owner.email)
    page = await client.get(f"/console/conversations/{conversation_id}")
    refused = await post_form(
        client,
        f"/console/conversations/{conversation_id}/reply",
        {"token": "w" * 24, "text": "Late answer"},
    )
    assert 'data-testid="window-closed"' in page.text and "48 hours" in page.text
    assert "WeChat has no message templates" in page.text
    assert refused.status_code == 409 and "once the customer writes" in refused.text
    for answer in (page, refused):
        assert "template in the channel" not in answer.text
        assert "approved template" not in answer.text
    assert await _outbound(conversation_id) == []


async def test_a_long_thread_shows_its_latest_messages(chat: Chat) -> None:
    rows = await Conversation.insert(
        Conversation(tenant=chat.a.world.id, channel="whatsapp", sender=CUSTOMER, locale="en")
    ).returning(Conversation.id)
    conversation_id = rows[0]["id"]
    start = datetime.now(UTC) - timedelta(hours=5)

    async def write(numbers: range) -> None:
        await InboundMessage.insert(
            *(
                InboundMessage(
                    tenant=chat.a.world.id,
                    conversation=conversation_id,
                    provider_id=f"wamid.long{n}",
                    text=f"msg {n:03d}",
                    created_at=start + timedelta(seconds=n),
                )
                for n in numbers
            )
        )

    await write(range(200))
    client = chat.client
    await login(client, chat.a.world.cashier.email)
    whole = await client.get(f"/console/conversations/{conversation_id}")
    assert "msg 000" in whole.text and "msg 199" in whole.text
    assert 'data-testid="thread-older"' not in whole.text  # all 200 are shown
    await write(range(200, 205))
    page = await client.get(f"/console/conversations/{conversation_id}")
    texts = re.findall(r'data-testid="thread-text">(msg \d+)<', page.text)
    assert texts == [f"msg {n:03d}" for n in range(5, 205)]  # the latest, oldest first
    assert 'data-testid="thread-older"' in page.text and "older ones are not" in page.text


async def test_pictures_are_shown_from_this_shops_media_only(chat: Chat) -> None:
    media_id = chat.graph.add_media(png(), "image/png", phone_number_id=chat.a.pnid)
    await chat.write(image_message(media_id, mime_type="image/png", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    picture = await InboundMessage.select().where(InboundMessage.media_key != "").first()
    assert picture is not None
    client = chat.client
    await login(client, chat.a.world.cashier.email)
    page = await client.get(f"/console/conversations/{conversation['id']}")
    own = await client.get(f"/console/media/{picture['media_key']}")
    assert f'src="/console/media/{picture["media_key"]}"' in page.text
    assert own.status_code == 200 and own.headers["content-type"].startswith("image/")
    async with AsyncTestClient(app=chat.client.app) as other:
        await login(other, chat.b.world.owner.email)
        theirs = await other.get(f"/console/media/{picture['media_key']}")
    assert theirs.status_code == 404


async def test_two_tenants_never_see_each_others_conversations(chat: Chat) -> None:
    await chat.write(text_message("alpha question", wa_id=CUSTOMER))
    chat.graph.fail_next(131026)
    await chat.write(text_message("bravo question", wa_id="85290000000"), shop=chat.b)
    theirs = await _conversation(chat.b.world)
    their_failed = [r for r in await _outbound(theirs["id"]) if r["status"] == "failed"]
    assert their_failed
    client = chat.client
    await login(client, chat.a.world.owner.email)
    listing = await client.get("/console/conversations")
    page = await client.get(f"/console/conversations/{theirs['id']}")
    reply = await post_form(
        client,
        f"/console/conversations/{theirs['id']}/reply",
        {"token": "x" * 24, "text": "crossing"},
    )
    retry = await post_form(
        client, f"/console/conversations/messages/{their_failed[0]['id']}/retry"
    )
    member_filter = await client.get(
        "/console/conversations", params={"member": str(theirs["member"] or 1)}
    )
    mine = await _conversation(chat.a.world)
    assert f'href="/console/conversations/{mine["id"]}"' in listing.text
    assert f'href="/console/conversations/{theirs["id"]}"' not in listing.text
    assert "bravo question" not in listing.text
    assert [page.status_code, reply.status_code, retry.status_code] == [404, 404, 404]
    assert f'href="/console/conversations/{theirs["id"]}"' not in member_filter.text
    rows = await _outbound(theirs["id"])
    assert [r["key"] for r in rows if r["key"].startswith("staff:")] == []
    assert [r["status"] for r in rows if r["id"] == their_failed[0]["id"]] == ["failed"]


async def test_a_suspended_shop_reads_but_never_sends(chat: Chat) -> None:
    chat.graph.fail_next(131026)
    await chat.write(text_message("hello", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    failed = [r for r in await _outbound(conversation["id"]) if r["status"] == "failed"]
    await tenant_service.set_status(chat.a.world.id, TenantStatus.suspended, reason="test")
    client = chat.client
    await login(client, chat.a.world.owner.email)
    page = await client.get(f"/console/conversations/{conversation['id']}")
    token = _reply_token(page.text) if form_tokens(page.text) else "y" * 24
    reply = await post_form(
        client,
        f"/console/conversations/{conversation['id']}/reply",
        {"token": token, "text": "while suspended"},
    )
    retry = await post_form(client, f"/console/conversations/messages/{failed[0]['id']}/retry")
    assert page.status_code == 200 and "hello" in page.text
    assert reply.status_code == retry.status_code == 403
    rows = await _outbound(conversation["id"])
    assert not [r for r in rows if r["key"].startswith("staff:")]
    assert [r["status"] for r in rows if r["id"] == failed[0]["id"]] == ["failed"]


async def test_roles_and_the_member_page_link(chat: Chat) -> None:
    await chat.write(text_message("JOIN", wa_id=CUSTOMER))
    conversation = await _conversation(chat.a.world)
    async with AsyncTestClient(app=chat.client.app) as anonymous:
        page = await anonymous.get("/console/conversations", follow_redirects=False)
    assert page.status_code in (302, 303) and "/login" in page.headers["location"]
    client = chat.client
    await login(client, chat.a.world.cashier.email)
    member_id = conversation["member"]
    assert member_id, "the bot links the member on first contact"
    detail = await client.get(f"/console/members/{member_id}")
    link = re.search(r'href="(/console/conversations\?member=\d+)"', detail.text)
    assert link, "the member page links to the member's conversations"
    filtered = await client.get(link.group(1))
    assert f'href="/console/conversations/{conversation["id"]}"' in filtered.text
