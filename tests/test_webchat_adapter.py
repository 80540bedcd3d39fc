"""The web chat adapter (loyalchat.plugins.webchat): device tokens, the page's JSON, send,
media and the join link. No web server: the protocol in, plain data out."""

from __future__ import annotations

import json
import uuid

import pytest
from itsdangerous import URLSafeTimedSerializer

from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.channels import (
    Capability,
    ChannelError,
    EventKind,
    InboundRequest,
    OutboundMessage,
)
from loyalchat.media import store
from loyalchat.plugins.webchat import device
from loyalchat.plugins.webchat.adapter import WebChatAdapter
from tests.fixtures import World
from tests.media_helpers import clear_media, png

SYSTEM = Actor("system", label="test")
ADAPTER = WebChatAdapter()


def altered(token: str) -> str:
    """``token`` with a character well inside its signature changed (the last base64
    character may decode to the same bytes)."""
    at = len(token) - 10
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def request(token: str, body: object) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundRequest(
        method="POST",
        path="/t/alpha-tea/chat/send",
        headers={device.TOKEN_HEADER: token, "content-type": "application/json"},
        query={},
        body=raw,
    )


def test_declares_what_the_page_can_do() -> None:
    assert ADAPTER.kind == "webchat"
    assert ADAPTER.capabilities == {
        Capability.text,
        Capability.image,
        Capability.choices,
        Capability.receive_images,
    }
    assert tuple(ADAPTER.config_fields) == ()  # nothing to set up


async def test_verify_takes_only_a_token_signed_for_this_shop(
    tenant_a: World, tenant_b: World
) -> None:
    token = device.sign_device(tenant_a.id, device.new_device_id())
    body = {"id": str(uuid.uuid4()), "text": "hi"}
    with tenant_context(tenant_a.id, SYSTEM):
        assert await ADAPTER.verify(request(token, body), {})
        assert not await ADAPTER.verify(request(altered(token), body), {})  # forged
        assert not await ADAPTER.verify(request("", body), {})
        forged = URLSafeTimedSerializer("not-our-secret-" * 4, salt=device.DEVICE_SALT)
        assert not await ADAPTER.verify(request(forged.dumps([tenant_a.id, "d" * 24]), body), {})
    with tenant_context(tenant_b.id, SYSTEM):  # shop A's device at shop B
        assert not await ADAPTER.verify(request(token, body), {})
    assert not await ADAPTER.verify(request(token, body), {})  # no shop resolved: no


async def test_parse_text_choice_and_photo(tenant_a: World) -> None:
    device_id = device.new_device_id()
    token = device.sign_device(tenant_a.id, device_id)
    client_id = str(uuid.uuid4())
    with tenant_context(tenant_a.id, SYSTEM):
        parsed = await ADAPTER.parse(
            request(token, {"id": client_id.upper(), "text": "  積分 ", "locale": "zh-Hant"}), {}
        )
        (event,) = parsed.events
        assert (event.kind, event.text, event.sender) == (EventKind.text, "積分", device_id)
        assert event.provider_id == f"{device_id}:{client_id}"  # one message per page id
        assert event.raw == {"locale": "zh-Hant"}
        assert json.loads(parsed.reply) == {"ok": True, "id": client_id}

        choice = await ADAPTER.parse(
            request(token, {"id": client_id, "choice": "reward:7", "text": "Free coffee"}), {}
        )
        assert choice.events[0].kind == EventKind.choice
        assert (choice.events[0].choice_id, choice.events[0].text) == ("reward:7", "Free coffee")

        key = "a" * 64
        ticket = device.sign_upload(tenant_a.id, device_id, key)
        photo = await ADAPTER.parse(request(token, {"id": client_id, "photo": ticket}), {})
        assert (photo.events[0].kind, photo.events[0].media_id) == (EventKind.image, key)


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        (b"{not json", "invalid_json", 400),
        ([1, 2], "invalid_json", 400),
        ({"text": "no id"}, "invalid_id", 400),
        ({"id": "not-a-uuid", "text": "x"}, "invalid_id", 400),
        ({"id": "ID", "text": ""}, "empty_text", 400),
        ({"id": "ID", "text": 5}, "invalid_text", 400),
        ({"id": "ID", "text": "x" * 2001}, "text_too_long", 413),
        ({"id": "ID", "choice": ""}, "invalid_choice", 400),
        ({"id": "ID", "choice": "c" * 129}, "invalid_choice", 400),
        ({"id": "ID", "photo": "forged"}, "invalid_photo", 400),
    ],
)
async def test_parse_refuses_what_the_page_never_sends(
    tenant_a: World, body: object, code: str, status: int
) -> None:
    if isinstance(body, dict) and body.get("id") == "ID":
        body = {**body, "id": str(uuid.uuid4())}
    token = device.sign_device(tenant_a.id, device.new_device_id())
    with tenant_context(tenant_a.id, SYSTEM):
        parsed = await ADAPTER.parse(request(token, body), {})
    assert parsed.events == []
    assert (parsed.status_code, json.loads(parsed.reply)["error"]) == (status, code)


async def test_a_photo_ticket_belongs_to_the_device_that_uploaded_it(tenant_a: World) -> None:
    mine, other = device.new_device_id(), device.new_device_id()
    ticket = device.sign_upload(tenant_a.id, other, "b" * 64)
    with tenant_context(tenant_a.id, SYSTEM):
        parsed = await ADAPTER.parse(
            request(
                device.sign_device(tenant_a.id, mine), {"id": str(uuid.uuid4()), "photo": ticket}
            ),
            {},
        )
    assert parsed.events == [] and parsed.status_code == 400


async def test_send_stores_nothing_and_names_the_outbox_row() -> None:
    result = await ADAPTER.send(OutboundMessage(to="device", text="hi", key="reply:9:0"), {})
    assert result.provider_id == "webchat:reply:9:0"


async def test_fetch_media_reads_the_shops_own_store(tenant_a: World, tenant_b: World) -> None:
    clear_media()
    picture = png()
    with tenant_context(tenant_a.id, SYSTEM):
        key = await store.save(picture, kind="chat_photo")
        media = await ADAPTER.fetch_media(key, {})
        assert (media.data, media.content_type) == (picture, "image/png")
    with tenant_context(tenant_b.id, SYSTEM), pytest.raises(ChannelError):
        await ADAPTER.fetch_media(key, {})


async def test_join_link_opens_the_shops_chat_with_the_code(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        link = await ADAPTER.join_link("AB12", {})
    assert link.endswith("/t/alpha-tea/chat?join=AB12")
    assert link.startswith("http")
