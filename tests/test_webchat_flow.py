"""The web chat end to end without a browser: the page's messages through the core's
send route (POST /t/<slug>/chat/send), the inbox actor and the bot, read back through
the page's updates route. Real PostgreSQL, the real app, the in-process broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pluggy
import pytest
from dramatiq.brokers.stub import StubBroker
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.inbox.tables import InboundEvent
from loyalchat.plugins.webchat import device
from loyalchat.tasks.embedded import EmbeddedWorker
from tests.fixtures import World
from tests.media_helpers import clear_media, png
from tests.test_tasks_support import drain, fresh_stub_broker
from tests.test_webchat import enable, open_chat
from tests.test_webchat_adapter import altered

SEND = "/t/alpha-tea/chat/send"
UPDATES = "/t/alpha-tea/chat/updates"


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


@dataclass
class Phone:
    client: AsyncTestClient
    token: str
    worker: EmbeddedWorker

    async def say(self, token: str | None = None, **fields: object) -> int:
        body = {"id": str(uuid.uuid4()), **fields}
        response = await self.client.post(
            SEND, json=body, headers={device.TOKEN_HEADER: token or self.token}
        )
        await drain(self.worker)
        return response.status_code

    async def thread(self) -> list[dict]:
        response = await self.client.get(UPDATES, headers={device.TOKEN_HEADER: self.token})
        assert response.status_code == 200
        return response.json()["items"]


@pytest.fixture
async def phone(
    tenant_a: World, tenant_b: World, stub_broker: StubBroker, plugins: pluggy.PluginManager
) -> AsyncIterator[Phone]:
    from loyalchat.app import create_app

    register_channel_handlers(plugins)
    await enable(tenant_a, plugins)
    await enable(tenant_b, plugins)
    app: Litestar = create_app(run_workers=False, plugins=plugins)
    worker = EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50)
    try:
        async with AsyncTestClient(app=app) as client:
            yield Phone(client, await open_chat(client, "alpha-tea"), worker)
    finally:
        worker.stop()


async def test_join_card_and_a_double_post(phone: Phone) -> None:
    client_id = str(uuid.uuid4())
    for _ in range(2):  # a double tap, or the page retrying after a lost answer
        response = await phone.client.post(
            SEND, json={"id": client_id, "text": "JOIN"}, headers={device.TOKEN_HEADER: phone.token}
        )
        assert response.status_code == 200 and response.json() == {"ok": True, "id": client_id}
    await drain(phone.worker)
    assert await InboundEvent.count() == 1 and await InboundMessage.count() == 1
    items = await phone.thread()
    assert items[0]["direction"] == "in" and items[0]["client"] == client_id
    welcome = " ".join(item["text"] for item in items if item["direction"] == "out")
    assert "M0" in welcome  # the member number the bot gave

    assert await phone.say(text="points") == 200
    card = [item["text"] for item in await phone.thread() if item["direction"] == "out"][-1]
    assert "/w/" in card  # the wallet link, which the page makes clickable


async def test_forged_or_foreign_tokens_store_nothing(phone: Phone, tenant_b: World) -> None:
    b_token = device.sign_device(tenant_b.id, device.new_device_id())
    for token in (altered(phone.token), b_token, "nonsense"):
        assert await phone.say(token, text="hello") == 401
    response = await phone.client.post(SEND, json={"id": str(uuid.uuid4()), "text": "hi"})
    assert response.status_code == 401  # no token at all
    assert await InboundEvent.count() == 0 and await Conversation.count() == 0


async def test_bad_bodies_are_refused_never_a_500(phone: Phone) -> None:
    headers = {device.TOKEN_HEADER: phone.token, "content-type": "application/json"}
    nul = b'{"id": "' + str(uuid.uuid4()).encode() + b'", "text": "a\\u0000b"}'
    for body, status in (
        (nul, 400),
        (b"{", 400),
        (b'{"id": "x", "text": "hi"}', 400),
        (b'{"id": "' + str(uuid.uuid4()).encode() + b'", "text": ""}', 400),
        (b'{"id": "' + str(uuid.uuid4()).encode() + b'", "text": "' + b"a" * 20_000 + b'"}', 413),
    ):
        response = await phone.client.post(SEND, content=body, headers=headers)
        assert response.status_code == status, body
    assert await InboundEvent.count() == 0


async def test_a_photo_is_stored_once_and_answered(phone: Phone) -> None:
    clear_media()
    upload = await phone.client.post(
        "/t/alpha-tea/chat/photo",
        files={"photo": ("receipt.png", png((600, 800), "white"), "image/png")},
        headers={device.TOKEN_HEADER: phone.token},
    )
    assert upload.status_code == 201
    assert await phone.say(photo=upload.json()["photo"]) == 200
    items = await phone.thread()
    mine = [item for item in items if item["direction"] == "in"]
    assert mine[-1]["kind"] == "image" and mine[-1]["image"].startswith("/t/alpha-tea/chat/media/")
    assert (await phone.client.get(mine[-1]["image"])).status_code == 200
    assert any(item["direction"] == "out" and item["text"] for item in items)  # answered
    assert await OutboundMessage.count() >= 1
