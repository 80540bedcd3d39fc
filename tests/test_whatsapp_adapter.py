"""The WhatsApp adapter's outbound side against a fake Graph API: sends, errors, media.

The fake (``tests/fakes/graph_api.py``) is a real HTTP server speaking the documented
endpoints and limits; the JSON it received is asserted exactly. The inbound side
(signature, handshake, events) is in ``tests/test_whatsapp_webhooks.py``.
"""

from __future__ import annotations

import socket
from importlib.metadata import entry_points

import pytest

from loyalchat.extensions.channels import (
    ChannelAdapter,
    ChannelError,
    Choice,
    OutboundMessage,
    get_channels,
)
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.plugins.whatsapp import WhatsAppAdapter
from loyalchat.settings import get_settings
from tests.fakes import graph_api as fake_graph_api
from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi

graph_api = fake_graph_api.graph_api  # the fixture: a running fake, the API base set

PNID = "106540352242922"
CONFIG = {
    "phone_number_id": PNID,
    "display_phone": "+1 (555) 078-3881",
    "access_token": ACCESS_TOKEN,
    "app_secret": "test_app_secret_0123456789abcdef",
    "verify_token": "meatyhamhock",
    "graph_version": "",
    "template_language": "",
}
adapter = WhatsAppAdapter()


def test_registered_by_entry_point_as_a_channel() -> None:
    [point] = [p for p in entry_points(group="loyalchat") if p.name == "whatsapp"]
    assert point.value == "loyalchat.plugins.whatsapp"
    pm = build_plugin_manager(load_entrypoints=False, plugins={"whatsapp": point.load()})
    channels = get_channels(pm)
    found = channels["whatsapp"]
    assert isinstance(found, WhatsAppAdapter) and isinstance(found, ChannelAdapter)
    assert channels.owner("whatsapp") == "whatsapp"
    names = [f.name for f in found.config_fields]
    assert names == [
        "phone_number_id", "waba_id", "display_phone", "access_token", "app_secret",
        "verify_token", "graph_version", "template_name", "template_language", "rate_per_second",
    ]  # fmt: skip
    secret = {f.name for f in found.config_fields if f.secret}
    assert secret == {"access_token", "app_secret", "verify_token"}
    assert {c.value for c in found.capabilities} == {
        "text", "image", "choices", "receive_images", "broadcast", "verified_phone",
    }  # fmt: skip


# -- sending --------------------------------------------------------------------------------


async def test_send_text(graph_api: FakeGraphApi) -> None:
    result = await adapter.send(OutboundMessage(to="85291234567", text="Hello 你好"), CONFIG)
    [sent] = graph_api.sent
    assert result.provider_id == sent.wamid
    assert (sent.phone_number_id, sent.version, sent.token) == (PNID, "v21.0", ACCESS_TOKEN)
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+85291234567",
        "type": "text",
        "text": {"body": "Hello 你好"},
    }
    [request] = graph_api.requests
    assert request.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.path == f"/v21.0/{PNID}/messages"


async def test_long_text_is_cut_to_4096_characters_on_a_word(graph_api: FakeGraphApi) -> None:
    text = "word " * 2000
    await adapter.send(
        OutboundMessage(to="85291234567", text=text), {**CONFIG, "graph_version": "v24.0"}
    )
    [sent] = graph_api.sent
    body = sent.body["text"]["body"]
    assert len(body) <= 4096 and body.endswith("word…") and sent.version == "v24.0"


async def test_send_to_a_business_scoped_user_id_uses_recipient(graph_api: FakeGraphApi) -> None:
    await adapter.send(OutboundMessage(to="US.13491208655302741918", text="hi"), CONFIG)
    body = graph_api.bodies[0]
    assert body["recipient"] == "US.13491208655302741918" and "to" not in body


async def test_more_than_three_choices_are_a_list_of_at_most_ten_rows(
    graph_api: FakeGraphApi,
) -> None:
    choices = tuple(
        Choice(f"reward:{n}", f"Reward number {n} with a very long name", "d" * 100)
        for n in range(12)
    )
    await adapter.send(OutboundMessage(to="85291234567", text="Rewards", choices=choices), CONFIG)
    interactive = graph_api.bodies[0]["interactive"]
    rows = interactive["action"]["sections"][0]["rows"]
    assert interactive["type"] == "list" and interactive["body"] == {"text": "Rewards"}
    assert interactive["action"]["button"] == "Choose"
    assert len(rows) == 10 and len(interactive["action"]["sections"]) == 1
    assert rows[0] == {
        "id": "reward:0",
        "title": "Reward number 0 with a…",
        "description": "d" * 71 + "…",
    }
    assert all(len(row["title"]) <= 24 for row in rows)
    assert [row["id"] for row in rows] == [f"reward:{n}" for n in range(10)]


async def test_three_choices_are_reply_buttons(graph_api: FakeGraphApi) -> None:
    choices = (
        Choice("yes", "Yes, redeem it now please"),
        Choice("no", "No"),
        Choice("later", "Later"),
    )
    await adapter.send(OutboundMessage(to="85291234567", text="Redeem?", choices=choices), CONFIG)
    assert graph_api.bodies[0]["interactive"] == {
        "type": "button",
        "body": {"text": "Redeem?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes, redeem it now…"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
                {"type": "reply", "reply": {"id": "later", "title": "Later"}},
            ]
        },
    }


async def test_titles_that_cut_to_the_same_text_stay_distinct(graph_api: FakeGraphApi) -> None:
    same = "A reward with a long long name"
    choices = (Choice("a", same + " one"), Choice("b", same + " two"))
    await adapter.send(OutboundMessage(to="85291234567", text="", choices=choices), CONFIG)
    interactive = graph_api.bodies[0]["interactive"]
    titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
    assert titles[0] != titles[1] and all(len(t) <= 20 for t in titles)
    assert interactive["body"]["text"]  # a body is required even with no text


async def test_send_image_uploads_then_sends_by_media_id(graph_api: FakeGraphApi) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    message = OutboundMessage(to="85291234567", text="Your coupon ABCD2345", image=png)
    result = await adapter.send(message, CONFIG)
    [media_id] = graph_api.uploads
    stored = graph_api.media[media_id]
    assert (stored.data, stored.mime_type, stored.phone_number_id) == (png, "image/png", PNID)
    [upload] = graph_api.requests_to("/media")
    assert (
        upload.path == f"/v21.0/{PNID}/media"
        and upload.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    )
    assert graph_api.bodies == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "+85291234567",
            "type": "image",
            "image": {"id": media_id, "caption": "Your coupon ABCD2345"},
        }
    ]
    assert result.provider_id == graph_api.sent[0].wamid


async def test_image_with_many_choices_goes_first_then_the_list(graph_api: FakeGraphApi) -> None:
    choices = tuple(Choice(str(n), f"Row {n}") for n in range(5))
    message = OutboundMessage(to="85291234567", text="More?", image=b"\x89PNG", choices=choices)
    result = await adapter.send(message, CONFIG)
    image, listed = graph_api.bodies
    assert image["type"] == "image" and "caption" not in image["image"]
    assert listed["interactive"]["type"] == "list" and result.provider_id == graph_api.sent[1].wamid


async def test_send_template(graph_api: FakeGraphApi) -> None:
    message = OutboundMessage(
        to="85291234567",
        text="ignored",
        template="points_update",
        template_params=("Chan Tai Man", "1,250"),
    )
    await adapter.send(message, {**CONFIG, "template_language": "zh_HK"})
    assert graph_api.bodies[0] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+85291234567",
        "type": "template",
        "template": {
            "name": "points_update",
            "language": {"policy": "deterministic", "code": "zh_HK"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Chan Tai Man"},
                        {"type": "text", "text": "1,250"},
                    ],
                }
            ],
        },
    }
    message = OutboundMessage(to="85291234567", template="hello_world", template_language="en_US")
    await adapter.send(message, CONFIG)
    assert graph_api.bodies[1]["template"] == {
        "name": "hello_world",
        "language": {"policy": "deterministic", "code": "en_US"},
    }


async def test_the_platform_token_sends_when_the_shop_has_none(
    graph_api: FakeGraphApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph_api.tokens.add("platform-token")
    monkeypatch.setenv("LOYALCHAT_WHATSAPP_ACCESS_TOKEN", "platform-token")
    get_settings.cache_clear()
    try:
        await adapter.send(OutboundMessage(to="852", text="hi"), {**CONFIG, "access_token": ""})
    finally:
        monkeypatch.delenv("LOYALCHAT_WHATSAPP_ACCESS_TOKEN")
        get_settings.cache_clear()
    assert graph_api.sent[0].token == "platform-token"
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to="852", text="hi"), {**CONFIG, "access_token": ""})
    assert caught.value.reason == "auth" and not caught.value.retryable


@pytest.mark.parametrize(
    ("code", "http_status", "retry_after", "expected"),
    [
        (130429, None, None, ("130429", "rate", True, 1.0)),
        (131056, None, None, ("131056", "rate", True, 6.0)),
        (130429, None, 2.5, ("130429", "rate", True, 2.5)),
        (None, 429, 3, ("", "rate", True, 3.0)),
        (131047, None, None, ("131047", "window_closed", False, None)),
        (190, None, None, ("190", "auth", False, None)),
        (10, None, None, ("10", "auth", False, None)),
        (131026, None, None, ("131026", "recipient", False, None)),
        (131050, None, None, ("131050", "recipient", False, None)),
        (131000, None, None, ("131000", "", True, None)),
        (None, 502, None, ("", "", True, None)),
        (100, None, None, ("100", "", False, None)),
        (132001, 404, None, ("132001", "", False, None)),
    ],
)
async def test_graph_errors_are_mapped(
    graph_api: FakeGraphApi,
    code: int | None,
    http_status: int | None,
    retry_after: float | None,
    expected: tuple[str, str, bool, float | None],
) -> None:
    graph_api.fail_next(code, http_status=http_status, retry_after=retry_after)
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to="85291234567", text="hi"), CONFIG)
    error = caught.value
    assert (error.code, error.reason, error.retryable, error.retry_after) == expected
    if code is not None:
        assert str(error).startswith(f"{code}: ")
    await adapter.send(OutboundMessage(to="85291234567", text="hi"), CONFIG)  # only once
    assert len(graph_api.sent) == 1


async def test_a_wrong_token_is_an_auth_error(graph_api: FakeGraphApi) -> None:
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to="852", text="hi"), {**CONFIG, "access_token": "bad"})
    assert (caught.value.code, caught.value.reason) == ("190", "auth")


async def test_an_unreachable_api_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LOYALCHAT_WHATSAPP_API_BASE", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    try:
        with pytest.raises(ChannelError) as caught:
            await adapter.send(OutboundMessage(to="852", text="hi"), CONFIG)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert caught.value.retryable


async def test_a_config_without_a_number_cannot_send(graph_api: FakeGraphApi) -> None:
    for pnid in ("", "../../me", "1/messages"):
        with pytest.raises(ChannelError):
            await adapter.send(
                OutboundMessage(to="852", text="hi"), {**CONFIG, "phone_number_id": pnid}
            )
    with pytest.raises(ChannelError):
        await adapter.send(OutboundMessage(to="852"), CONFIG)
    assert graph_api.requests == []


# -- media ----------------------------------------------------------------------------------


async def test_fetch_media_follows_the_url_with_the_bearer_token(graph_api: FakeGraphApi) -> None:
    photo = b"\xff\xd8\xff" + b"jpeg" * 5000
    media_id = graph_api.add_media(photo, "image/jpeg", phone_number_id=PNID)
    media = await adapter.fetch_media(media_id, CONFIG)
    assert (media.data, media.content_type) == (photo, "image/jpeg")
    info, download = graph_api.requests
    assert info.path == f"/v21.0/{media_id}" and info.query == {"phone_number_id": PNID}
    assert download.path == f"/media-download/{media_id}"
    assert download.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


async def test_another_numbers_media_or_a_wrong_token_is_refused(graph_api: FakeGraphApi) -> None:
    theirs = graph_api.add_media(b"x", phone_number_id="999")
    with pytest.raises(ChannelError):
        await adapter.fetch_media(theirs, CONFIG)
    mine = graph_api.add_media(b"x", phone_number_id=PNID)
    with pytest.raises(ChannelError) as caught:
        await adapter.fetch_media(mine, {**CONFIG, "access_token": "stolen"})
    assert caught.value.reason == "auth"
    for bad in ("", "../v21.0/123", "1?x=y", "a" * 200):
        with pytest.raises(ChannelError):
            await adapter.fetch_media(bad, CONFIG)


async def test_an_expired_or_refused_media_url_is_an_error(graph_api: FakeGraphApi) -> None:
    media_id = graph_api.add_media(b"photo")
    graph_api.media[media_id].download_status = 404
    with pytest.raises(ChannelError) as caught:
        await adapter.fetch_media(media_id, CONFIG)
    assert not caught.value.retryable and caught.value.reason == ""
    graph_api.media[media_id].download_status = 401
    with pytest.raises(ChannelError) as caught:
        await adapter.fetch_media(media_id, CONFIG)
    assert caught.value.reason == "auth"


@pytest.mark.parametrize(
    ("declared", "chunked", "downloads"),
    [
        (None, False, 0),  # Meta states the size: refused before downloading
        (1000, False, 1),  # the size was understated: Content-Length gives it away
        (1000, True, 1),  # no length at all: reading stops at the cap
    ],
)
async def test_oversized_media_is_refused(
    graph_api: FakeGraphApi, declared: int | None, chunked: bool, downloads: int
) -> None:
    big = b"\0" * (10 * 1024 * 1024 + 1)
    media_id = graph_api.add_media(big, declared_size=declared, chunked=chunked)
    with pytest.raises(ChannelError) as caught:
        await adapter.fetch_media(media_id, CONFIG)
    assert caught.value.code == "size" and not caught.value.retryable
    assert len(graph_api.requests_to("/media-download/")) == downloads


async def test_join_link_opens_the_chat_with_the_code() -> None:
    link = await adapter.join_link("7F3K", CONFIG)
    assert link == "https://wa.me/15550783881?text=JOIN%207F3K"
    odd = await adapter.join_link("a&b=c d", {"display_phone": "+852 9123-4567"})
    assert odd == "https://wa.me/85291234567?text=JOIN%20a%26b%3Dc%20d"
    with pytest.raises(ChannelError):
        await adapter.join_link("7F3K", {"display_phone": ""})
