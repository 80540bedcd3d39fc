"""The web chat's updates and pictures (loyalchat.plugins.webchat.routes): the page reads
its own device's thread (conversations.service.thread) and nothing of another's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pluggy
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.media import store
from loyalchat.plugins.webchat import device
from tests.fixtures import World
from tests.media_helpers import clear_media, png
from tests.test_webchat import SYSTEM, client, enable, open_chat

__all__ = ["client"]  # the fixture


async def _thread(world: World, device_id: str, qr_key: str) -> int:
    """A conversation as the core stores it: the visitor's message, the bot's two replies."""
    now = datetime.now(UTC)
    with tenant_context(world.id, SYSTEM):
        conversation = Conversation(tenant=world.id, channel="webchat", sender=device_id)
        await conversation.save()
        await InboundMessage(
            tenant=world.id,
            conversation=conversation.id,
            provider_id=f"{device_id}:0b6c2f5e-4a3b-4c9e-9d1a-2f0e1c3b4a5d",
            text="積分 <b>",
            created_at=now - timedelta(seconds=3),
        ).save()
        await OutboundMessage(
            tenant=world.id,
            conversation=conversation.id,
            key="reply:1:0",
            kind="choices",
            text="Your card: https://example.test/w/abc",
            choices=[{"id": "r:1", "title": "Free coffee", "description": ""}],
            created_at=now - timedelta(seconds=2),
        ).save()
        await OutboundMessage(
            tenant=world.id,
            conversation=conversation.id,
            key="reply:1:1",
            kind="image",
            media_key=qr_key,
            created_at=now - timedelta(seconds=1),
        ).save()
    return conversation.id


async def test_updates_show_this_devices_thread_and_nothing_else(
    client: AsyncTestClient, tenant_a: World, tenant_b: World, plugins: pluggy.PluginManager
) -> None:
    clear_media()
    await enable(tenant_a, plugins)
    await enable(tenant_b, plugins)
    token = await open_chat(client, "alpha-tea")
    claim = device.read_device(token, tenant_a.id)
    with tenant_context(tenant_a.id, SYSTEM):
        qr = await store.save(png(colour="black"), kind="qr")
        secret = await store.save(png(colour="red"), kind="receipt")  # someone else's file
    await _thread(tenant_a, claim.device_id, qr)
    url = "/t/alpha-tea/chat/updates"

    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers={device.TOKEN_HEADER: "x" * 2000})).status_code == 401
    response = await client.get(url, headers={device.TOKEN_HEADER: token})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["direction"] for item in items] == ["in", "out", "out"]
    assert items[0]["text"] == "積分 <b>"  # as typed: the page puts it in a text node
    assert items[0]["client"] == "0b6c2f5e-4a3b-4c9e-9d1a-2f0e1c3b4a5d"
    assert items[1]["choices"] == [{"id": "r:1", "title": "Free coffee"}]
    assert items[2]["image"] == f"/t/alpha-tea/chat/media/{qr}"
    cursor = response.json()["cursor"]
    later = await client.get(url, params={"after": cursor}, headers={device.TOKEN_HEADER: token})
    assert {i["id"] for i in later.json()["items"]} <= {i["id"] for i in items}
    bad_cursor = await client.get(
        url, params={"after": "x.-1"}, headers={device.TOKEN_HEADER: token}
    )
    assert bad_cursor.status_code == 200

    # Shop B with shop A's token: refused; B's page never reads A's conversation.
    wrong = await client.get("/t/bravo-bakery/chat/updates", headers={device.TOKEN_HEADER: token})
    assert wrong.status_code == 401
    b_token = await open_chat(client, "bravo-bakery")
    b_view = await client.get(
        "/t/bravo-bakery/chat/updates", headers={device.TOKEN_HEADER: b_token}
    )
    assert b_view.json()["items"] == []

    # Pictures: the conversation's own QR code, with the device cookie; nothing else.
    picture = await client.get(items[2]["image"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert (await client.get(f"/t/alpha-tea/chat/media/{secret}")).status_code == 404
    assert (await client.get(f"/t/bravo-bakery/chat/media/{qr}")).status_code == 404
    async with AsyncTestClient(app=client.app) as stranger:  # another phone, no cookie
        assert (await stranger.get(items[2]["image"])).status_code == 404
        await open_chat(stranger, "alpha-tea")  # its own device: still not its picture
        assert (await stranger.get(items[2]["image"])).status_code == 404


async def _rows(world: World, conversation_id: int, inbound: int, outbound: int) -> None:
    """``inbound`` visitor messages, then ``outbound`` replies, each a moment apart."""
    start = datetime.now(UTC) - timedelta(hours=1)
    with tenant_context(world.id, SYSTEM):
        for n in range(inbound):
            await InboundMessage(
                tenant=world.id,
                conversation=conversation_id,
                provider_id=f"p:{uuid.uuid4()}",
                text=f"visitor {n}",
                created_at=start + timedelta(seconds=n),
            ).save()
        for n in range(outbound):
            await OutboundMessage(
                tenant=world.id,
                conversation=conversation_id,
                key=f"reply:{uuid.uuid4()}",
                text=f"reply {n}",
                created_at=start + timedelta(seconds=inbound + n),
            ).save()


async def test_polling_follows_a_long_run_of_replies_without_repeats(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    """A visitor who wrote once and got 150 replies: the page reads them in pages of 100
    and reaches the newest; what arrives later comes too, each message once. (The cursor
    once stuck on the first replies after the visitor's last message.)"""
    await enable(tenant_a, plugins)
    token = await open_chat(client, "alpha-tea")
    claim = device.read_device(token, tenant_a.id)
    with tenant_context(tenant_a.id, SYSTEM):
        conversation = Conversation(tenant=tenant_a.id, channel="webchat", sender=claim.device_id)
        await conversation.save()
    await _rows(tenant_a, conversation.id, 1, 150)
    url = "/t/alpha-tea/chat/updates"

    async def poll(cursor: str) -> tuple[list[dict], str]:
        response = await client.get(
            url, params={"after": cursor}, headers={device.TOKEN_HEADER: token}
        )
        assert response.status_code == 200
        return response.json()["items"], response.json()["cursor"]

    items, cursor = await poll("")
    assert [item["text"] for item in items[:2]] == ["visitor 0", "reply 0"]  # oldest first
    seen = [item["id"] for item in items]
    items, cursor = await poll(cursor)  # the rest: once, up to the newest
    seen += [item["id"] for item in items]
    assert len(seen) == 151 and items[-1]["text"] == "reply 149"
    assert (await poll(cursor))[0] == []  # nothing new: nothing again

    with tenant_context(tenant_a.id, SYSTEM):  # the visitor writes again; 120 replies
        await InboundMessage(
            tenant=tenant_a.id, conversation=conversation.id, provider_id="p:again", text="again"
        ).save()
        for n in range(120):
            await OutboundMessage(
                tenant=tenant_a.id, conversation=conversation.id, key=f"late:{n}", text=f"late {n}"
            ).save()
    pages = []
    for _ in range(5):
        items, cursor = await poll(cursor)
        pages.append(len(items))
        seen += [item["id"] for item in items]
        if not items:
            break
    assert pages == [100, 21, 0]
    assert len(seen) == len(set(seen))  # no message twice
    assert len(seen) == 151 + 121 and seen[151].startswith("in:")  # "again" came first
