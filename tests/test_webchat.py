"""The web chat's routes (loyalchat.plugins.webchat.routes): the page, photo uploads, the
thread's updates and its pictures, each refusing a device token that is not this shop's."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pluggy
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.plugins.webchat import device
from loyalchat.tenants import plugin_settings
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.fixtures import World
from tests.media_helpers import clear_media, png, png_bomb, tenant_files, too_large
from tests.test_webchat_adapter import altered

SYSTEM = Actor("system", label="test")
TOKEN = re.compile(r'data-token="([^"]+)"')


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def enable(world: World, pm: pluggy.PluginManager) -> None:
    with tenant_context(world.id, SYSTEM):
        await plugin_settings.enable_plugin("webchat", pm)


async def open_chat(client: AsyncTestClient, slug: str, **headers: str) -> str:
    """Open the page like a phone; returns its device token."""
    response = await client.get(f"/t/{slug}/chat", headers=headers)
    assert response.status_code == 200, response.text
    return html.unescape(TOKEN.search(response.text).group(1))


async def test_page_sets_a_device_cookie_and_speaks_the_browsers_language(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    await enable(tenant_a, plugins)
    response = await client.get("/t/alpha-tea/chat", headers={"accept-language": "zh-HK"})
    assert response.status_code == 200
    page = response.text
    assert '<html lang="zh-Hant">' in page
    assert 'data-send="/t/alpha-tea/chat/send"' in page
    assert "/static/plugins/webchat/chat.js" in page and "<script>" not in page
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{device.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Path=/t/alpha-tea/chat" in cookie
    assert response.headers["cache-control"] == "no-store"
    token = html.unescape(TOKEN.search(page).group(1))
    claim = device.read_device(token, tenant_a.id)
    assert claim is not None
    # The same phone again: the same device (re-signed), so its conversation stays.
    again = await open_chat(client, "alpha-tea")
    assert device.read_device(again, tenant_a.id).device_id == claim.device_id


async def test_join_code_fills_the_text_box(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    await enable(tenant_a, plugins)
    response = await client.get("/t/alpha-tea/chat", params={"join": 'A1"><b>'})
    assert 'value="JOIN A1&#34;&gt;&lt;b&gt;"' in response.text  # escaped, never markup


async def test_unknown_slug_off_channel_and_unapproved_shop_are_the_friendly_404(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    for path in ("/t/no-such-shop/chat", "/t/alpha-tea/chat", "/t/" + "x" * 300 + "/chat"):
        response = await client.get(path, headers={"accept": "text/html"})
        assert response.status_code == 404, path  # alpha-tea has not turned web chat on
        assert "text/html" in response.headers["content-type"]
    await tenant_service.create_tenant("new-shop", "New Shop", status=TenantStatus.pending_review)
    assert (await client.get("/t/new-shop/chat")).status_code == 404


async def test_a_suspended_shop_still_shows_its_page(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    await enable(tenant_a, plugins)
    await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
    assert (await client.get("/t/alpha-tea/chat")).status_code == 200


async def test_photo_upload_checks_the_picture_and_the_device(
    client: AsyncTestClient, tenant_a: World, tenant_b: World, plugins: pluggy.PluginManager
) -> None:
    clear_media()
    await enable(tenant_a, plugins)
    await enable(tenant_b, plugins)
    token = await open_chat(client, "alpha-tea")
    other_shop = await open_chat(client, "bravo-bakery")
    url = "/t/alpha-tea/chat/photo"

    async def upload(data: bytes, token: str = token) -> tuple[int, dict]:
        response = await client.post(
            url,
            files={"photo": ("p.png", data, "image/png")},
            headers={device.TOKEN_HEADER: token, "accept": "application/json"},
        )
        return response.status_code, response.json()

    for bad_token in ("", altered(token), other_shop):
        status, body = await upload(png(), bad_token)
        assert (status, body["error"]) == (401, "device_token")
    status, body = await upload(b"just some text, not a picture")
    assert (status, body["error"]) == (400, "not_an_image")
    assert "JPEG, PNG or WebP" in body["message"]
    status, body = await upload(png_bomb())
    assert (status, body["error"]) == (400, "too_many_pixels")
    status, body = await upload(too_large())
    assert (status, body["error"]) == (413, "too_large")
    assert "8 MB" in body["message"]
    assert tenant_files(tenant_a.id) == []  # nothing refused was stored

    status, body = await upload(png((800, 600)))
    assert status == 201
    claim = device.read_device(token, tenant_a.id)
    key = device.read_upload(body["photo"], claim)
    assert key in tenant_files(tenant_a.id) and tenant_files(tenant_b.id) == []


async def test_a_photo_past_the_request_limit_is_refused_not_a_500(
    client: AsyncTestClient, tenant_a: World, plugins: pluggy.PluginManager
) -> None:
    clear_media()
    await enable(tenant_a, plugins)
    token = await open_chat(client, "alpha-tea")
    response = await client.post(
        "/t/alpha-tea/chat/photo",
        files={"photo": ("big.jpg", too_large(12), "image/jpeg")},
        headers={device.TOKEN_HEADER: token, "accept": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert tenant_files(tenant_a.id) == []
