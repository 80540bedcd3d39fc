"""Abuse limits of the web chat (loyalchat.plugins.webchat.limits): a device, and a client
address, may post only so fast; a refused post is a 429 the page can show, and nothing of
it is stored. The core's webhook route, which cannot limit, takes no web chat post."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pluggy
import pytest
from litestar.testing import AsyncTestClient

from loyalchat.inbox.tables import InboundEvent
from loyalchat.plugins.webchat import device, limits
from tests.fixtures import World
from tests.media_helpers import clear_media, png, tenant_files
from tests.test_webchat import client, enable, open_chat

__all__ = ["client"]  # the fixture
SEND = "/t/{slug}/chat/send"
BURST = int(limits.MESSAGE_DEVICE.burst)


@pytest.fixture(autouse=True)
def fresh_buckets() -> Iterator[None]:
    """The app's buckets are in memory (no Redis in these tests) and outlive a test."""
    limits.limiter("").forget()  # type: ignore[union-attr]
    yield
    limits.limiter("").forget()  # type: ignore[union-attr]


async def new_device(client: AsyncTestClient, slug: str = "alpha-tea") -> str:
    """Another phone (the client keeps the device cookie: without it, a new device)."""
    client.cookies.clear()
    return await open_chat(client, slug)


async def say(client: AsyncTestClient, token: str, slug: str = "alpha-tea", **headers: str):
    body = {"id": str(uuid.uuid4()), "text": "hello"}
    return await client.post(
        SEND.format(slug=slug), json=body, headers={device.TOKEN_HEADER: token, **headers}
    )


async def flood(client: AsyncTestClient, token: str, slug: str = "alpha-tea") -> tuple[int, object]:
    """Post until refused (at most 4x the burst); returns how many passed and the refusal."""
    for passed in range(BURST * 4):
        response = await say(client, token, slug, **{"accept-language": "zh-HK"})
        if response.status_code != 200:
            return passed, response
    return BURST * 4, None


async def test_a_flooding_device_is_refused_after_its_burst_and_nothing_is_stored(
    client: AsyncTestClient, tenant_a: World, tenant_b: World, plugins: pluggy.PluginManager
) -> None:
    await enable(tenant_a, plugins)
    await enable(tenant_b, plugins)
    token = await open_chat(client, "alpha-tea")
    passed, refused = await flood(client, token)
    assert passed >= BURST and refused is not None, "a flood was never refused"
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["error"] == "too_many" and body["retry_after"] >= 1
    assert "太快" in body["message"]  # in the visitor's language, for the page to show
    assert await InboundEvent.count() == passed  # the refused post left nothing

    # Another device behind the same address, and the same address at another shop, post.
    other = await new_device(client)
    assert (await say(client, other)).status_code == 200
    b_token = await new_device(client, "bravo-bakery")
    assert (await say(client, b_token, "bravo-bakery")).status_code == 200
    assert (await say(client, token)).status_code == 429  # the flooder still waits


async def test_many_devices_from_one_address_are_held_to_the_addresss_limit(
    client: AsyncTestClient,
    tenant_a: World,
    tenant_b: World,
    plugins: pluggy.PluginManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A script that opens the page for a fresh device token each time gains nothing;
    another address, or the same address at another shop, is not held back. Buckets that
    refill once in 1,000 s here, so nothing depends on how fast the test runs."""
    slow = (
        limits.Bucket("message", "device", rate=0.001, burst=2),
        limits.Bucket("message", "address", rate=0.001, burst=3),
    )
    monkeypatch.setattr(limits, "MESSAGE", slow)
    await enable(tenant_a, plugins)
    await enable(tenant_b, plugins)
    first = await new_device(client)
    assert [(await say(client, first)).status_code for _ in range(3)] == [200, 200, 429]
    second = await new_device(client)  # the address's third and last message
    assert [(await say(client, second)).status_code for _ in range(2)] == [200, 429]
    third = await new_device(client)  # a fresh device: the address is spent
    refused = await say(client, third)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 900
    assert await InboundEvent.count() == 3

    b_token = await new_device(client, "bravo-bakery")
    assert (await say(client, b_token, "bravo-bakery")).status_code == 200  # another shop
    elsewhere = httpx.ASGITransport(app=client.app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
        token = await open_chat(other, "alpha-tea")  # type: ignore[arg-type]
        assert (await say(other, token)).status_code == 200  # type: ignore[arg-type]
    assert (await say(client, await new_device(client))).status_code == 429  # still held
    assert await InboundEvent.count() == 5


async def test_photos_are_limited_and_a_refused_upload_is_not_stored(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    clear_media()
    await enable(tenant_a, plugins)
    token = await open_chat(client, "alpha-tea")
    statuses = []
    for size in range(int(limits.PHOTO_DEVICE.burst) * 3):
        response = await client.post(
            "/t/alpha-tea/chat/photo",
            files={"photo": ("p.png", png((40 + size, 30)), "image/png")},
            headers={device.TOKEN_HEADER: token, "accept": "application/json"},
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["retry-after"].isdigit()
            assert response.json()["message"].startswith("You are sending photos too fast")
            break
    assert statuses[-1] == 429 and statuses.count(201) >= limits.PHOTO_DEVICE.burst
    assert len(tenant_files(tenant_a.id)) == statuses.count(201)


async def test_the_core_webhook_route_takes_no_web_chat_post(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    """It knows no client address, so it could not limit: the adapter refuses it."""
    await enable(tenant_a, plugins)
    token = await open_chat(client, "alpha-tea")
    response = await client.post(
        "/hooks/webchat/alpha-tea",
        json={"id": str(uuid.uuid4()), "text": "hello"},
        headers={device.TOKEN_HEADER: token},
    )
    assert response.status_code == 401
    assert await InboundEvent.count() == 0


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_refused_post_takes_nothing_and_addresses_are_separate(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""
    chosen = limits.limiter(url)
    chosen.forget()
    slow = limits.Bucket("test", "device", rate=0.001, burst=2)  # one token in 1,000 s
    by_address = limits.Bucket("test", "address", rate=0.001, burst=3)
    buckets = (slow, by_address)

    async def admit(device_id: str, address: str) -> limits.Verdict:
        return await limits.admit(7, device_id, address, buckets, redis_url=url)

    assert [(await admit("dev-a", "10.0.0.1")).allowed for _ in range(2)] == [True, True]
    for _ in range(5):  # refused again and again: the address's bucket keeps its token
        refused = await admit("dev-a", "10.0.0.1")
        assert not refused.allowed and refused.retry_after > 900
    assert (await admit("dev-b", "10.0.0.1")).allowed  # the address's third token
    assert not (await admit("dev-c", "10.0.0.1")).allowed  # and no fourth
    assert (await admit("dev-c", "10.0.0.2")).allowed  # another address: its own bucket
    assert (await limits.admit(8, "dev-a", "10.0.0.1", buckets, redis_url=url)).allowed
    chosen.forget()
