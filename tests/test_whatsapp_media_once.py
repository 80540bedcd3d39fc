"""A coupon's QR code goes to Meta once: the media id of an image is kept per number
(plugins/whatsapp/media.py) and uploaded again only when Meta no longer has it.

Through the adapter and the Graph fake (the cache in this process's memory), and through
the whole WhatsApp journey (signed webhooks, the real inbox and outbox, the cache in
Redis): the same coupon shown twice is uploaded once; a fake that lost its uploads, as
Meta does after 30 days, gets the image again and the member still gets it.
"""

from __future__ import annotations

import pytest

from loyalchat import cache
from loyalchat.extensions.channels import ChannelError, OutboundMessage
from loyalchat.plugins.whatsapp import WhatsAppAdapter, media
from loyalchat.rewards import codes
from tests import test_channel_journeys as journeys
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.whatsapp_webhooks import button_reply, list_reply
from tests.test_whatsapp_adapter import CONFIG, PNID

graph_api = journeys.graph_api
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
whatsapp = journeys.whatsapp
adapter = WhatsAppAdapter()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _coupon(to: str = "85291234567", image: bytes = PNG) -> OutboundMessage:
    return OutboundMessage(to=to, text="ABCD-2345", image=image)


def _image_ids(graph: FakeGraphApi) -> list[str]:
    return [body["image"]["id"] for body in graph.bodies if body["type"] == "image"]


def test_an_id_is_kept_a_day_less_than_meta_keeps_the_image() -> None:
    assert media.KEEP_SECONDS == 29 * 24 * 60 * 60


async def test_the_same_image_is_uploaded_once_per_number(graph_api: FakeGraphApi) -> None:
    await adapter.send(_coupon(), CONFIG)
    await adapter.send(_coupon(to="85290000002"), CONFIG)  # the same QR to someone else
    [media_id] = graph_api.uploads
    assert _image_ids(graph_api) == [media_id, media_id]

    other_number = {**CONFIG, "phone_number_id": "206540352242933"}
    await adapter.send(_coupon(), other_number)  # its own upload: media belong to a number
    another_image = PNG + b"\x00"
    await adapter.send(_coupon(image=another_image), CONFIG)
    assert len(graph_api.uploads) == 3
    assert [graph_api.media[i].phone_number_id for i in graph_api.uploads] == [
        PNID,
        "206540352242933",
        PNID,
    ]


async def test_an_image_meta_forgot_is_uploaded_again_and_sent(graph_api: FakeGraphApi) -> None:
    await adapter.send(_coupon(), CONFIG)
    graph_api.forget_uploads()
    result = await adapter.send(_coupon(), CONFIG)
    first, second = graph_api.uploads
    assert _image_ids(graph_api) == [first, second]  # the refused try was not accepted
    assert result.provider_id == graph_api.sent[-1].wamid
    await adapter.send(_coupon(), CONFIG)  # the new id is the one kept now
    assert len(graph_api.uploads) == 2 and _image_ids(graph_api)[-1] == second


async def test_a_new_upload_refused_is_not_tried_again(graph_api: FakeGraphApi) -> None:
    """Only a kept id is retried: a fresh upload that Meta refuses fails the send."""
    graph_api.fail_next(131009)
    with pytest.raises(ChannelError) as caught:
        await adapter.send(_coupon(), CONFIG)
    assert caught.value.code == "131009" and len(graph_api.uploads) == 1


async def test_other_failures_with_a_kept_id_upload_nothing_more(graph_api: FakeGraphApi) -> None:
    await adapter.send(_coupon(), CONFIG)
    graph_api.fail_next(131047)  # outside the 24-hour window: not the image's fault
    with pytest.raises(ChannelError) as caught:
        await adapter.send(_coupon(), CONFIG)
    assert caught.value.reason == "window_closed" and len(graph_api.uploads) == 1


async def test_the_coupon_shown_again_in_the_chat_is_uploaded_once(
    whatsapp: journeys.WhatsApp,
) -> None:
    cache.forget_memory()  # the cache is Redis's here (shared_redis): nothing in memory
    shop = whatsapp.a
    await journeys.add_rewards(shop.world, 4)  # a list
    await whatsapp.say("JOIN ALPHA")
    member = await journeys.member_of(shop.world, journeys.CUSTOMER)
    await journeys.give_points(shop.world, member["id"], 1000)
    [listed] = await whatsapp.say("rewards")
    row = listed["interactive"]["action"]["sections"][0]["rows"][1]
    assert await whatsapp.post(list_reply(row["id"], row["title"], wa_id=journeys.CUSTOMER)) == 200

    yes = button_reply("confirm:yes", "是", wa_id=journeys.CUSTOMER)
    assert await whatsapp.post(yes) == 200  # the coupon: its code, then its QR code
    again = await whatsapp.say("yes")  # shown again: the same QR code
    [grant], _ = await journeys.grants_and_debits(shop.world, member["id"])
    code = codes.display(grant["code"])
    assert code in journeys.all_text(again)
    [first] = whatsapp.graph.uploads
    assert _image_ids(whatsapp.graph) == [first, first]
    assert cache._memory == {}  # kept in Redis, shared by every worker

    whatsapp.graph.forget_uploads()  # 30 days later, Meta has no copy
    later = await whatsapp.say("yes")
    _, second = whatsapp.graph.uploads
    assert [body["image"]["id"] for body in later if body["type"] == "image"] == [second]
    rows = await journeys.outbound_rows(shop.world, journeys.CUSTOMER)
    assert {row["status"] for row in rows} == {"sent"}
