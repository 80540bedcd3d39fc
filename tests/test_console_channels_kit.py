"""The Channels page's join QR kit (the link, its QR code decoded by ZXing, the SVG file
and the A6 poster) and WeChat's custom menu (pushed, then clicked by a follower), through
the real app and the WeChat fake.
Fixtures and helpers: tests/test_console_channels.py."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import numpy
import zxingcpp
from litestar.testing import AsyncTestClient
from PIL import Image, ImageDraw

from loyalchat import i18n
from loyalchat.bot import texts as bot_texts
from loyalchat.bot import words
from loyalchat.context import Actor, tenant_context
from loyalchat.languages import LOCALES
from loyalchat.tenants import plugin_settings as ps
from tests.console_helpers import post_form
from tests.fakes.wechat_api import FakeWeChatApi, wechat_api
from tests.fakes.wechat_webhooks import OPENID, click_webhook, subscribe_webhook, wechat_config
from tests.test_console_channels import (
    WECHAT,
    Shop,
    _client,
    _connect_whatsapp,
    shop,
    stub_broker,
    value_of,
)
from tests.test_tasks_support import drain

__all__ = ["shop", "stub_broker", "wechat_api"]  # fixtures, imported for pytest

QR_SRC = re.compile(r'src="(data:image/svg\+xml;base64,[^"]+)"[^>]*data-testid="join-qr"')
CELL = re.compile(r"M(\d+),(\d+)H")


def decode_svg(svg: str) -> str:
    """What a phone's camera reads in a QR code drawn as qrcode's SVG path (one square per
    dark module): drawn again as pixels and read by ZXing."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in CELL.findall(svg):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle([left, top, left + scale - 1, top + scale - 1], fill=0)
    found = zxingcpp.read_barcodes(numpy.array(image))
    assert len(found) == 1, "no QR code found"
    return found[0].text


def svg_in(page: str) -> str:
    uri = QR_SRC.search(page)
    assert uri, "no QR code image on the page"
    return base64.b64decode(uri.group(1).split(",", 1)[1]).decode()


# -- join QR kit -----------------------------------------------------------------------------


async def test_the_whatsapp_join_qr_decodes_to_wa_me_with_the_join_code(shop: Shop) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        await _connect_whatsapp(client)
        kit = await client.get("/console/channels/whatsapp/join")
        svg = await client.get("/console/channels/whatsapp/qr.svg")
        poster = await client.get("/console/channels/whatsapp/poster")
        only = await client.get("/console/channels/whatsapp/poster?locale=en")
    finally:
        await client.__aexit__(None, None, None)
    expected = "https://wa.me/85291234567?text=JOIN%20alpha-tea"
    assert kit.status_code == 200 and value_of(kit.text, "join-url") == expected
    assert decode_svg(svg_in(kit.text)) == expected
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "attachment" in svg.headers["content-disposition"]
    assert decode_svg(svg.text) == expected
    assert poster.status_code == 200 and 'data-testid="poster-qr"' in poster.text
    for title in ("加入會員", "加入会员", "Join our membership"):
        assert title in poster.text
    assert "Join our membership" in only.text and "加入會員" not in only.text


async def test_the_wechat_join_qr_comes_from_wechat_and_a_refusal_is_shown(
    shop: Shop, wechat_api: FakeWeChatApi
) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        assert (
            await post_form(client, "/console/channels/wechat/settings", WECHAT)
        ).status_code == 303
        wechat_api.fail_next(40013, endpoint="qrcode")
        refused = await client.get("/console/channels/wechat/join")
        wechat_api.fail_next(40013, endpoint="qrcode")
        no_svg = await client.get("/console/channels/wechat/qr.svg")
        kit = await client.get("/console/channels/wechat/join")
    finally:
        await client.__aexit__(None, None, None)
    link = f"http://weixin.qq.com/q/{b'alpha-tea'.hex()}"
    assert value_of(kit.text, "join-url") == link
    assert wechat_api.qrcodes[0]["action_info"]["scene"]["scene_str"] == "alpha-tea"
    assert decode_svg(svg_in(kit.text)) == link
    assert refused.status_code == 200 and 'data-testid="join-error"' in refused.text
    assert "40013" in refused.text
    assert no_svg.status_code == 404


async def test_wechat_is_asked_for_the_permanent_qr_once_per_appid(
    shop: Shop, wechat_api: FakeWeChatApi
) -> None:
    """A permanent QR code never changes for its scene and an account has 100,000 of them:
    the kit and its files shown again ask WeChat nothing more, until the AppID changes."""
    client = await _client(shop, shop.a.owner.email)
    try:
        await post_form(client, "/console/channels/wechat/settings", WECHAT)
        first = await client.get("/console/channels/wechat/join")
        again = await client.get("/console/channels/wechat/join")
        svg = await client.get("/console/channels/wechat/qr.svg")
        asked = len(wechat_api.qrcodes)
        other = {**WECHAT, "appid": "wx00000000000000ff"}
        assert (
            await post_form(client, "/console/channels/wechat/settings", other)
        ).status_code == 303
        moved = await client.get("/console/channels/wechat/join")
        back = await client.get("/console/channels/wechat/join")
    finally:
        await client.__aexit__(None, None, None)
    link = f"http://weixin.qq.com/q/{b'alpha-tea'.hex()}"
    assert asked == 1
    assert value_of(first.text, "join-url") == value_of(again.text, "join-url") == link
    assert svg.status_code == 200 and decode_svg(svg.text) == link
    assert len(wechat_api.qrcodes) == 2  # the new account's code: asked once, then kept
    assert value_of(moved.text, "join-url") == value_of(back.text, "join-url") == link


async def test_the_webchat_join_link_is_the_shops_chat_page(shop: Shop) -> None:
    with tenant_context(shop.a.id, Actor("system")):
        await ps.enable_plugin("webchat", shop.pm)
    client = await _client(shop, shop.a.owner.email)
    try:
        kit = await client.get("/console/channels/webchat/join")
        page = await client.get("/console/channels/webchat")
    finally:
        await client.__aexit__(None, None, None)
    assert "/t/alpha-tea/chat?join=alpha-tea" in kit.text
    assert (
        'data-testid="webhook-url"' not in page.text
        and 'data-testid="wechat-menu"' not in page.text
    )


# -- WeChat menu ------------------------------------------------------------------------------


def _menu_form(**titles: str) -> dict[str, str]:
    form = {"locale": "zh-Hant"}
    defaults = {
        "receipt": ("上載收據", "Send receipt"),
        "card": ("會員卡", "My card"),
        "rewards": ("獎賞", "Rewards"),
    }
    for name, (hant, en) in defaults.items():
        form[f"{name}_zh_Hant"] = titles.get(f"{name}_zh_Hant", hant)
        form[f"{name}_zh_Hans"] = ""
        form[f"{name}_en"] = titles.get(f"{name}_en", en)
    return form


async def test_the_menu_is_pushed_as_wechat_json_and_prefills_next_time(
    shop: Shop, wechat_api: FakeWeChatApi
) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        assert (
            await post_form(client, "/console/channels/wechat/settings", WECHAT)
        ).status_code == 303
        page = await client.get("/console/channels/wechat")
        assert 'data-testid="wechat-menu"' in page.text and "Send receipt" in page.text
        long = await post_form(
            client, "/console/channels/wechat/menu", _menu_form(card_en="My membership card")
        )
        pushed = await post_form(client, "/console/channels/wechat/menu", _menu_form())
        again = await client.get("/console/channels/wechat")
        wechat_api.fail_next(40018, endpoint="menu")
        refused = await post_form(client, "/console/channels/wechat/menu", _menu_form())
    finally:
        await client.__aexit__(None, None, None)
    assert long.status_code == 400 and "At most 16 bytes" in long.text
    assert pushed.status_code == 303
    assert wechat_api.menus == [
        {
            "button": [
                {"type": "pic_photo_or_album", "name": "上載收據", "key": "RECEIPT"},
                {"type": "click", "name": "會員卡", "key": "CARD"},
                {"type": "click", "name": "獎賞", "key": "REWARDS"},
            ]
        }
    ]
    assert 'value="上载收据"' in again.text  # the Simplified title made from the Traditional
    assert refused.status_code == 400 and "WeChat refused the menu" in refused.text


def test_the_bot_reads_the_menu_clicks_as_the_card_and_rewards_words() -> None:
    # A CLICK arrives as a choice with the button's key; the engine reads an unknown key as
    # if typed (platform/bot/engine.py, _choose).
    assert words.command("CARD") == "card"
    assert words.command("REWARDS") == "rewards"


async def test_a_menu_title_with_a_nul_is_refused_and_not_pushed(
    shop: Shop, wechat_api: FakeWeChatApi
) -> None:
    client = await _client(shop, shop.a.owner.email)
    try:
        assert (
            await post_form(client, "/console/channels/wechat/settings", WECHAT)
        ).status_code == 303
        answer = await post_form(
            client, "/console/channels/wechat/menu", _menu_form(card_en="a\x00")
        )
    finally:
        await client.__aexit__(None, None, None)
    assert answer.status_code == 400  # refused by the app's form hardening or by the page
    assert wechat_api.menus == []


async def test_the_pushed_menus_card_and_rewards_clicks_get_the_bots_answers(
    shop: Shop, wechat_api: FakeWeChatApi
) -> None:
    """Through the webhook URL the page shows: a follower from the join QR, then the
    menu's CARD and REWARDS clicks, answered through WeChat's customer-service API."""
    config = wechat_config("plain")
    client = await _client(shop, shop.a.owner.email)
    try:
        assert (
            await post_form(client, "/console/channels/wechat/settings", config)
        ).status_code == 303
        answer = await post_form(client, "/console/channels/wechat/enabled", {"enabled": "1"})
        assert answer.status_code == 303
        assert (
            await post_form(client, "/console/channels/wechat/menu", _menu_form())
        ).status_code == 303
        page = await client.get("/console/channels/wechat")
        path = urlsplit(value_of(page.text, "webhook-url")).path
        hook = subscribe_webhook(config, OPENID, scene="alpha-tea")
        assert (
            await client.post(hook.url(path), content=hook.body, headers=hook.headers)
        ).status_code == 200
    finally:
        await client.__aexit__(None, None, None)
    await drain(shop.worker)
    welcomed = len(wechat_api.texts())
    assert welcomed >= 1

    async def click(key: str) -> list[str]:
        before = len(wechat_api.texts())
        hook = click_webhook(config, OPENID, key)
        async with AsyncTestClient(app=shop.app) as anonymous:
            sent = await anonymous.post(hook.url(path), content=hook.body, headers=hook.headers)
        assert sent.status_code == 200
        await drain(shop.worker)
        return wechat_api.texts()[before:]

    card = await click("CARD")
    assert card and any("/w/" in text for text in card)  # the card with a fresh wallet link
    rewards = await click("REWARDS")
    empty = {i18n.translations(locale).gettext(bot_texts.REWARDS_EMPTY) for locale in LOCALES}
    assert rewards and any(text in empty for text in rewards)
