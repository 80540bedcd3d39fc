"""The WhatsApp adapter's inbound side: signature, handshake and the events of a body.

The X-Hub-Signature-256 vectors of ``../shared/research/channels.md`` D.1 (the body bytes
are copied here), the GET handshake, batches, BSUIDs, unknown and malformed bodies. Bodies
are built and signed by ``tests/fakes/whatsapp_webhooks.py``. The send side is in
``tests/test_whatsapp_adapter.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import EventKind
from loyalchat.plugins.whatsapp import WhatsAppAdapter, accounts_in
from tests.fakes.whatsapp_webhooks import (
    button_reply,
    change,
    entry,
    envelope,
    handshake_query,
    image_message,
    list_reply,
    message_of_type,
    signed,
    status,
    template_button,
    text_message,
    webhook,
)

# Research D.1: secret, body A (Meta's overview example, compact) and its signatures.
SECRET = "test_app_secret_0123456789abcdef"
BODY_A = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":'
    b'{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881",'
    b'"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},'
    b'"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0Mzk'
    b'VAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":'
    b'{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}'
)
SIG_A = "sha256=01591d62415526782fc0a31b8faa3c8d903868b8db037a95ee396498731c8df9"
BODY_B_WIRE = BODY_A.replace(b"Does it come in another color?", b"caf\\u00e9")
SIG_B_WIRE = "sha256=278e9f7d766c1a2d0d9311c73bcf477c56b2e2c4be80932c1e537131233c1a02"
BODY_B_RESERIALISED = BODY_A.replace(b"Does it come in another color?", "café".encode())
SIG_B_RESERIALISED = "sha256=58b4cd612183b193e74de63d2c32e30ccb665e8e6a308f22ec23ea6ba1d29521"
SIG_EMPTY = "sha256=41e8f75a26ef599c5c89e456ec3c0729db143bb9925971cd4dab8c31ea4a95c3"

PNID = "106540352242922"
CONFIG = {"phone_number_id": PNID, "app_secret": SECRET, "verify_token": "meatyhamhock"}
adapter = WhatsAppAdapter()


def post(body: bytes, signature: str | None) -> InboundRequest:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    return InboundRequest("POST", "/hooks/whatsapp/demo", headers, {}, body)


def get(query: dict[str, str]) -> InboundRequest:
    return InboundRequest("GET", "/hooks/whatsapp/demo", {}, query, b"")


async def events_of(payload: dict[str, Any] | bytes, config: dict[str, str] | None = None):
    body, _ = signed(payload, SECRET)
    return (await adapter.parse(post(body, None), config if config is not None else CONFIG)).events


# -- signature ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "signature"),
    [
        (BODY_A, SIG_A),
        (BODY_B_WIRE, SIG_B_WIRE),
        (b"", SIG_EMPTY),
        (BODY_A, SIG_A.upper()[:7].lower() + SIG_A[7:].upper()),
    ],
)
async def test_signature_vectors_verify(body: bytes, signature: str) -> None:
    assert await adapter.verify(post(body, signature), CONFIG)


@pytest.mark.parametrize(
    ("body", "signature"),
    [
        (BODY_A, None),  # unsigned: Chatwoot's advisory GHSA-7rw7-pc8v-mrr3
        (BODY_A, ""),
        (BODY_A, SIG_A[7:]),  # no sha256= prefix
        (BODY_A, "sha1=" + SIG_A[7:47]),  # the legacy X-Hub-Signature form
        (BODY_A, SIG_A[:-2]),  # truncated
        (BODY_A, SIG_A[:-1] + "0"),  # one digit off
        (BODY_A, SIG_B_WIRE),  # another body's signature
        (BODY_B_RESERIALISED, SIG_B_WIRE),  # re-encoded JSON must not pass
        (BODY_B_WIRE, SIG_B_RESERIALISED),
        (BODY_A, "sha256=" + "é" * 64),  # non-ASCII in the header: refused, not raised
        (BODY_A + b" ", SIG_A),
    ],
)
async def test_bad_or_missing_signature_is_refused(body: bytes, signature: str | None) -> None:
    assert not await adapter.verify(post(body, signature), CONFIG)


async def test_no_app_secret_verifies_nothing() -> None:
    assert not await adapter.verify(post(BODY_A, SIG_A), {**CONFIG, "app_secret": ""})
    assert not await adapter.verify(post(BODY_A, SIG_A), {"phone_number_id": PNID})
    other = InboundRequest("PUT", "/", {"x-hub-signature-256": SIG_A}, {}, BODY_A)
    assert not await adapter.verify(other, CONFIG)


# -- handshake ------------------------------------------------------------------------------


async def test_handshake_echoes_the_challenge_as_text() -> None:
    request = get(handshake_query("meatyhamhock", "1158201444"))
    assert await adapter.verify(request, CONFIG)  # no signature on the GET
    parsed = await adapter.parse(request, CONFIG)
    assert (parsed.reply, parsed.content_type, parsed.status_code) == (
        b"1158201444",
        "text/plain",
        200,
    )
    assert parsed.events == []


@pytest.mark.parametrize(
    "query",
    [
        handshake_query("wrong"),
        handshake_query("meatyhamhoc"),
        handshake_query(""),
        {**handshake_query("meatyhamhock"), "hub.mode": "unsubscribe"},
        {"hub.challenge": "1", "hub.verify_token": "meatyhamhock"},
        handshake_query("meatyhamhock", challenge=""),
        handshake_query("meatyhamhock", challenge="x" * 1000),
        handshake_query("meatyhamhöck"),
    ],
)
async def test_handshake_with_a_bad_token_is_refused(query: dict[str, str]) -> None:
    assert not await adapter.verify(get(query), CONFIG)
    parsed = await adapter.parse(get(query), CONFIG)
    assert parsed.status_code == 403 and b"1158201444" not in parsed.reply


async def test_handshake_without_a_configured_token_is_refused() -> None:
    assert not await adapter.verify(get(handshake_query("")), {**CONFIG, "verify_token": ""})


# -- parsing --------------------------------------------------------------------------------


async def test_meta_example_body_parses() -> None:
    [event] = (await adapter.parse(post(BODY_A, SIG_A), CONFIG)).events
    assert event.kind is EventKind.text
    assert event.provider_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert (event.sender, event.phone, event.account) == ("16505551234", "16505551234", PNID)
    assert (event.text, event.profile_name) == ("Does it come in another color?", "Sheena Nelson")
    assert event.at is not None and int(event.at.timestamp()) == 1749416383
    [escaped] = await events_of(BODY_B_WIRE)
    assert escaped.text == "café"


async def test_a_batch_gives_every_entry_change_message_and_status() -> None:
    other_number = "209876543210987"
    payload = envelope(
        entry(
            change(
                text_message("積分", wa_id="85291234567", id="wamid.1", name="陳大文"),
                image_message("7771", caption="receipt", wa_id="85291234568", id="wamid.2"),
                status("wamid.out1", "delivered", recipient="85291234567"),
            ),
            change(
                list_reply("reward:5", "Free coffee", context="wamid.list", id="wamid.3"),
                button_reply("confirm:5", "Yes", id="wamid.4"),
            ),
        ),
        entry(
            change(
                template_button("STOP", "Stop promotions", id="wamid.5"),
                status("wamid.out2", "read"),
                status("wamid.out3", "failed", error_code=131049, error_title="Not delivered"),
            ),
            change(text_message("hi", id="wamid.6"), phone_number_id=other_number),
            waba_id="999",
        ),
    )
    events = await events_of(payload, {**CONFIG, "phone_number_id": ""})
    got = [(e.kind, e.provider_id, e.sender, e.account) for e in events]
    assert got == [
        (EventKind.text, "wamid.1", "85291234567", PNID),
        (EventKind.image, "wamid.2", "85291234568", PNID),
        (EventKind.delivery, "wamid.out1:delivered", "85291234567", PNID),
        (EventKind.choice, "wamid.3", "16505551234", PNID),
        (EventKind.choice, "wamid.4", "16505551234", PNID),
        (EventKind.choice, "wamid.5", "16505551234", PNID),
        (EventKind.delivery, "wamid.out2:read", "16505551234", PNID),
        (EventKind.delivery, "wamid.out3:failed", "16505551234", PNID),
        (EventKind.text, "wamid.6", "16505551234", other_number),
    ]
    text, image, delivered, listed, button, legacy, read, failed, _ = events
    assert (text.text, text.profile_name) == ("積分", "陳大文")
    assert (image.media_id, image.text) == ("7771", "receipt")
    assert (delivered.ref, delivered.status, delivered.text) == ("wamid.out1", "delivered", "")
    assert (listed.choice_id, listed.text, listed.raw) == (
        "reward:5",
        "Free coffee",
        {"context": "wamid.list"},
    )
    assert (button.choice_id, button.text) == ("confirm:5", "Yes")
    assert (legacy.choice_id, legacy.text) == ("STOP", "Stop promotions")
    assert (read.ref, read.status) == ("wamid.out2", "read")
    assert (failed.status, failed.text) == ("failed", "131049: Not delivered")
    assert accounts_in(signed(payload, SECRET)[0]) == [PNID, other_number]


async def test_a_shop_url_keeps_only_its_own_numbers_events() -> None:
    payload = envelope(
        entry(change(text_message("mine", id="wamid.m"))),
        entry(change(text_message("theirs", id="wamid.t"), phone_number_id="555")),
    )
    assert [e.provider_id for e in await events_of(payload)] == ["wamid.m"]
    only_theirs = webhook(text_message("theirs"), phone_number_id="555")
    assert await events_of(only_theirs) == []


async def test_business_scoped_user_id_is_the_sender_and_the_phone_is_kept() -> None:
    bsuid = "US.13491208655302741918"
    both, bsuid_only, phone_only, delivery = await events_of(
        webhook(
            text_message("a", wa_id="85291234567", user_id=bsuid),
            text_message("b", wa_id="", user_id="HK.777"),
            text_message("c", wa_id="85290000000"),
            status("wamid.x", "sent", recipient="", recipient_user_id="HK.777"),
        )
    )
    assert (both.sender, both.phone) == (bsuid, "85291234567")
    assert (bsuid_only.sender, bsuid_only.phone) == ("HK.777", "")
    assert (phone_only.sender, phone_only.phone) == ("85290000000", "85290000000")
    assert (delivery.sender, delivery.phone) == ("HK.777", "")


async def test_unknown_types_are_empty_texts_marked_unsupported() -> None:
    events = await events_of(
        webhook(
            message_of_type("sticker", {"id": "1", "mime_type": "image/webp"}, id="wamid.s"),
            message_of_type("location", {"latitude": 22.3, "longitude": 114.2}),
            message_of_type("interactive", {"type": "nfm_reply", "nfm_reply": {}}),
            message_of_type("system", {"type": "user_changed_number", "wa_id": "852"}),
            message_of_type("image", {"caption": "no id"}),
            message_of_type("", None),
        )
    )
    assert [(e.kind, e.text, dict(e.raw)) for e in events] == [
        (EventKind.text, "", {"unsupported": "sticker"}),
        (EventKind.text, "", {"unsupported": "location"}),
        (EventKind.text, "", {"unsupported": "interactive.nfm_reply"}),
        (EventKind.text, "", {"unsupported": "system"}),
        (EventKind.text, "", {"unsupported": "image"}),
        (EventKind.text, "", {"unsupported": "?"}),
    ]
    assert events[0].provider_id == "wamid.s" and events[0].sender == "16505551234"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe{",
        b"[]",
        b"null",
        b'{"object":"page","entry":[]}',
        b'{"object":"whatsapp_business_account","entry":"x"}',
        b'{"object":"whatsapp_business_account","entry":[1,null,{"changes":{"a":1}}]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":[]}]}]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":'
        b'{"metadata":7,"contacts":"x","messages":[1,{"id":5},{"type":"text"},{"from":[],"id":"w"}],'
        b'"statuses":[{"id":"w"},{"status":"read"},null]}}]}]}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"object":"whatsapp_business_account","entry":[' + b"{}," * 1_100_000 + b"{}]}",
    ],
)
async def test_malformed_bodies_give_no_events_and_never_raise(body: bytes) -> None:
    assert await events_of(body, {**CONFIG, "phone_number_id": ""}) == []
    assert accounts_in(body) == []


async def test_a_message_without_an_id_or_sender_is_skipped() -> None:
    no_id = text_message("x")
    del no_id.message["id"]
    nobody = text_message("y", wa_id="", user_id="")
    assert await events_of(webhook(no_id, nobody)) == []


def test_webhook_helpers_sign_as_meta_does() -> None:
    body, headers = signed(json.loads(BODY_A), SECRET)
    assert body == BODY_A and headers["X-Hub-Signature-256"] == SIG_A
