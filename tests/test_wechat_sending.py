"""The WeChat channel's outbound side against the fake WeChat API (a real local HTTP
server): the shared access_token (memory and Redis), sends, errcodes, media, QR, menu."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
import redis

from loyalchat.context import tenant_context
from loyalchat.extensions.channels import ChannelError, Choice, OutboundMessage
from loyalchat.plugins.wechat import (
    CARD,
    RECEIPT,
    REWARDS,
    MenuEntry,
    WeChatAdapter,
    api,
    push_menu,
    tokens,
)
from loyalchat.plugins.wechat.errors import error_for
from loyalchat.plugins.wechat.render import guess_locale, menu_json
from loyalchat.settings import get_settings
from tests.fakes.wechat_api import FakeWeChatApi, wechat_api
from tests.fakes.wechat_webhooks import OPENID, wechat_config

__all__ = ["wechat_api"]  # the fixture, imported for pytest

adapter = WeChatAdapter()
CONFIG = wechat_config("safe")


@pytest.fixture
def shared_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch):
    """LOYALCHAT_REDIS_URL set (the tests' Redis db): tokens are shared through Redis."""
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("loyalchat:wechat:token:*"):
        client.delete(key)
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", redis_url)
    get_settings.cache_clear()
    yield client
    for key in client.scan_iter("loyalchat:wechat:token:*"):
        client.delete(key)
    monkeypatch.delenv("LOYALCHAT_REDIS_URL")
    get_settings.cache_clear()


async def test_twenty_concurrent_sends_fetch_one_token(wechat_api: FakeWeChatApi) -> None:
    messages = [OutboundMessage(to=f"o{n}", text=f"hello {n}", key=f"k{n}") for n in range(20)]
    results = await asyncio.gather(*(adapter.send(m, CONFIG) for m in messages))
    assert wechat_api.token_requests == 1
    assert sorted(r.provider_id for r in results) == sorted(f"k{n}" for n in range(20))
    assert sorted(wechat_api.texts()) == sorted(f"hello {n}" for n in range(20))


def test_two_workers_sharing_redis_fetch_one_token(
    wechat_api: FakeWeChatApi, shared_redis: redis.Redis
) -> None:
    """Two threads, each with its own event loop (no in-process lock is shared), 10 sends each."""
    errors: list[BaseException] = []

    async def worker(name: str) -> None:
        sends = (
            adapter.send(OutboundMessage(to=f"o{name}{n}", text="hi"), CONFIG) for n in range(10)
        )
        await asyncio.gather(*sends)

    def run(name: str) -> None:
        try:
            asyncio.run(worker(name))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(wechat_api.messages) == 20
    assert wechat_api.token_requests == 1
    keys = [key.decode() for key in shared_redis.scan_iter("loyalchat:wechat:token:*")]
    assert len(keys) == 1 and keys[0].endswith(CONFIG["appid"])  # the lock is gone
    assert 0 < shared_redis.pttl(keys[0]) <= (7200 - 120) * 1000


async def test_redis_token_dropped_only_if_it_is_the_one_that_failed(
    wechat_api: FakeWeChatApi, shared_redis: redis.Redis
) -> None:
    await adapter.send(OutboundMessage(to=OPENID, text="one"), CONFIG)
    wechat_api.expire_tokens()
    await tokens.invalidate(CONFIG, "some-older-token")  # another worker's stale view
    await adapter.send(OutboundMessage(to=OPENID, text="two"), CONFIG)
    assert (wechat_api.token_requests, wechat_api.tokens_issued) == (2, 2)
    assert wechat_api.texts() == ["one", "two"]


async def test_invalid_token_is_refreshed_once(wechat_api: FakeWeChatApi) -> None:
    await adapter.send(OutboundMessage(to=OPENID, text="one"), CONFIG)
    wechat_api.expire_tokens()  # 42001 for the cached token
    await adapter.send(OutboundMessage(to=OPENID, text="two"), CONFIG)
    assert (wechat_api.token_requests, wechat_api.tokens_issued) == (2, 2)
    # Refused again after the refresh: "auth", and no third token request.
    wechat_api.fail_next(40001, times=2)
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to=OPENID, text="three"), CONFIG)
    assert (caught.value.reason, caught.value.code, caught.value.retryable) == (
        "auth",
        "40001",
        False,
    )
    assert wechat_api.token_requests == 3
    assert wechat_api.texts() == ["one", "two"]


async def test_wrong_secret_is_an_auth_error(wechat_api: FakeWeChatApi) -> None:
    wechat_api.apps[CONFIG["appid"]] = "the-real-secret"
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to=OPENID, text="hi"), CONFIG)
    assert (caught.value.reason, caught.value.code) == ("auth", "40125")
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to=OPENID, text="hi"), CONFIG | {"secret": ""})
    assert caught.value.reason == "auth"


async def test_send_text_as_utf8_json(wechat_api: FakeWeChatApi) -> None:
    result = await adapter.send(
        OutboundMessage(to=OPENID, text="你好 積分 1,200", key="out:7"), CONFIG
    )
    assert result.provider_id == "out:7"
    assert wechat_api.messages == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "你好 積分 1,200"}}
    ]
    assert "積分".encode() in wechat_api.raw_bodies[0] and b"\\u" not in wechat_api.raw_bodies[0]


async def test_send_choices_as_numbered_text(wechat_api: FakeWeChatApi) -> None:
    choices = (Choice("r1", "Free coffee", "300 points"), Choice("r2", "HK$20 off"))
    await adapter.send(
        OutboundMessage(to=OPENID, text="Rewards you can have:", choices=choices), CONFIG
    )
    assert wechat_api.texts() == [
        "Rewards you can have:\n\n1. Free coffee (300 points)\n2. HK$20 off\n\n"
        "Reply with the number of your choice."
    ]
    await adapter.send(
        OutboundMessage(to=OPENID, text="可兌換的獎賞：", choices=(Choice("r1", "免費咖啡"),)),
        CONFIG,
    )
    assert wechat_api.texts()[1].startswith("可兌換的獎賞：\n\n1. 免費咖啡\n\n")
    assert (guess_locale("可兌換的獎賞"), guess_locale("可兑换的奖励"), guess_locale("Hi 1")) == (
        "zh-Hant",
        "zh-Hans",
        "en",
    )


async def test_send_image_uploads_first(wechat_api: FakeWeChatApi) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
    await adapter.send(OutboundMessage(to=OPENID, text="Your coupon ABCD-EFGH", image=png), CONFIG)
    assert [m["msgtype"] for m in wechat_api.messages] == ["text", "image"]
    media_id = wechat_api.messages[1]["image"]["media_id"]
    assert wechat_api.uploads[media_id] == (png, "image/png")
    with pytest.raises(ChannelError):
        await adapter.send(
            OutboundMessage(to=OPENID, image=b"x" * (api.MAX_IMAGE_BYTES + 1)), CONFIG
        )
    with pytest.raises(ChannelError):
        await adapter.send(OutboundMessage(to=OPENID), CONFIG)


@pytest.mark.parametrize(
    ("code", "reason", "retryable"),
    [
        (45015, "window_closed", False),
        (45047, "rate", False),
        (45009, "rate", True),
        (-1, "", True),
        (43004, "recipient", False),
        (40164, "auth", False),
        (40008, "", False),
    ],
)
async def test_errcodes_become_channel_errors(
    wechat_api: FakeWeChatApi, code: int, reason: str, retryable: bool
) -> None:
    wechat_api.fail_next(code)
    with pytest.raises(ChannelError) as caught:
        await adapter.send(OutboundMessage(to=OPENID, text="hi"), CONFIG)
    error = caught.value
    assert (error.code, error.reason, error.retryable) == (str(code), reason, retryable)
    assert error_for(45009, "quota", "send").retry_after == 60.0
    # The next one goes through: nothing was poisoned.
    await adapter.send(OutboundMessage(to=OPENID, text="after"), CONFIG)
    assert wechat_api.texts() == ["after"]


async def test_unreachable_api_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALCHAT_WECHAT_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    tokens.forget_tokens()
    try:
        with pytest.raises(ChannelError) as caught:
            await adapter.send(OutboundMessage(to=OPENID, text="hi"), CONFIG)
        assert caught.value.retryable
    finally:
        get_settings.cache_clear()


async def test_fetch_media(wechat_api: FakeWeChatApi) -> None:
    wechat_api.add_media("M1", b"\xff\xd8\xff" + b"j" * 1000, "image/jpeg")
    media = await adapter.fetch_media("M1", CONFIG)
    assert (media.data[:3], len(media.data), media.content_type) == (
        b"\xff\xd8\xff",
        1003,
        "image/jpeg",
    )
    with pytest.raises(ChannelError) as caught:
        await adapter.fetch_media("missing", CONFIG)
    assert caught.value.code == "40007"
    wechat_api.expire_tokens()
    assert (await adapter.fetch_media("M1", CONFIG)).data == media.data
    assert wechat_api.token_requests == 2


@pytest.mark.parametrize("chunked", [False, True])
async def test_fetch_media_size_cap(wechat_api: FakeWeChatApi, chunked: bool) -> None:
    wechat_api.chunked_media = chunked  # without Content-Length the stream is cut at the cap
    wechat_api.add_media("BIG", b"\xff\xd8" + b"\x00" * api.MAX_MEDIA_BYTES, "image/jpeg")
    with pytest.raises(ChannelError, match="more than"):
        await adapter.fetch_media("BIG", CONFIG)
    wechat_api.add_media("OK", b"\xff\xd8" + b"\x00" * (api.MAX_MEDIA_BYTES - 2), "image/jpeg")
    assert len((await adapter.fetch_media("OK", CONFIG)).data) == api.MAX_MEDIA_BYTES


async def test_join_link_is_the_permanent_qr_url(wechat_api: FakeWeChatApi) -> None:
    url = await adapter.join_link("JOIN42", CONFIG)
    assert url == "http://weixin.qq.com/q/" + b"JOIN42".hex()
    assert wechat_api.qrcodes == [
        {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": "JOIN42"}}}
    ]
    with pytest.raises(ChannelError):
        await adapter.join_link("x" * 65, CONFIG)


async def test_the_qr_url_is_kept_in_redis_per_shop_and_appid(
    wechat_api: FakeWeChatApi, shared_redis: redis.Redis
) -> None:
    """Asked once per (shop, AppID, scene), shared by every process through Redis."""
    pattern = "loyalchat:cache:wechat:qr:*"
    for key in shared_redis.scan_iter(pattern):
        shared_redis.delete(key)
    other_app = {**CONFIG, "appid": "wx00000000000000ff"}
    with tenant_context(101):
        first = await adapter.join_link("JOIN42", CONFIG)
        again = await adapter.join_link("JOIN42", CONFIG)
        moved = await adapter.join_link("JOIN42", other_app)
        other_scene = await adapter.join_link("JOIN43", CONFIG)
    with tenant_context(102):
        other_shop = await adapter.join_link("JOIN42", CONFIG)
    with tenant_context(101):
        await adapter.join_link("JOIN42", other_app)  # kept too
    keys = [key.decode() for key in shared_redis.scan_iter(pattern)]
    lifetimes = [shared_redis.ttl(key) for key in keys]
    for key in keys:
        shared_redis.delete(key)
    assert first == again == moved == other_shop == "http://weixin.qq.com/q/" + b"JOIN42".hex()
    assert other_scene.endswith(b"JOIN43".hex())
    assert len(wechat_api.qrcodes) == 4 and len(keys) == 4
    assert all(api.QR_CACHE_SECONDS - 60 < ttl <= api.QR_CACHE_SECONDS for ttl in lifetimes)
    assert any(key.endswith(f"101:{CONFIG['appid']}:JOIN42") for key in keys)


def test_menu_json() -> None:
    menu = menu_json({RECEIPT: "上載收據", CARD: "我的會員卡", REWARDS: "獎賞"})
    assert menu == {
        "button": [
            {"type": "pic_photo_or_album", "name": "上載收據", "key": "RECEIPT"},
            {"type": "click", "name": "我的會員卡", "key": "CARD"},
            {"type": "click", "name": "獎賞", "key": "REWARDS"},
        ]
    }
    long = menu_json(
        [MenuEntry(CARD, "我的會員卡和積分"), MenuEntry("WEB", "Wallet", url="https://x.test/w")]
    )
    assert long["button"][0]["name"] == "我的會員卡"  # 16 bytes at most, whole characters
    assert long["button"][1] == {"type": "view", "name": "Wallet", "url": "https://x.test/w"}
    for bad in ({}, {"A": "a", "B": "b", "C": "c", "D": "d"}, {"A": " "}):
        with pytest.raises(ValueError):
            menu_json(bad)


async def test_push_menu(wechat_api: FakeWeChatApi) -> None:
    await push_menu(CONFIG, {RECEIPT: "Send receipt", CARD: "My card", REWARDS: "Rewards"})
    assert wechat_api.menus == [
        json.loads(
            json.dumps(menu_json({RECEIPT: "Send receipt", CARD: "My card", REWARDS: "Rewards"}))
        )
    ]
    wechat_api.fail_next(40018, endpoint="menu")
    with pytest.raises(ChannelError) as caught:
        await push_menu(CONFIG, {CARD: "My card"})
    assert caught.value.code == "40018"


async def test_redis_outage_is_retryable(
    wechat_api: FakeWeChatApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALCHAT_REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    try:
        with pytest.raises(ChannelError) as caught:
            await adapter.send(OutboundMessage(to=OPENID, text="hi"), CONFIG)
        assert caught.value.retryable
        assert wechat_api.messages == []
    finally:
        monkeypatch.delenv("LOYALCHAT_REDIS_URL")
        get_settings.cache_clear()
