"""The WeChat channel's inbound side: WeChat's official vectors, signatures, safe mode,
hostile XML and every event type, as pure calls on the adapter (no HTTP, no database).

Official vectors: WeChat's message-push page (``../shared/research/channels.md`` D.2).
"""

from __future__ import annotations

import json
import time

import pytest

from loyalchat.extensions.channels import ChannelAdapter, EventKind
from loyalchat.plugins.wechat import WeChatAdapter, inbound
from loyalchat.plugins.wechat.crypto import (
    CryptoError,
    aes_key,
    decrypt,
    encrypt,
    signature,
    signature_matches,
)
from tests.fakes.wechat_webhooks import (
    APPID,
    OPENID,
    ORIGINAL_ID,
    SignedWebhook,
    click_webhook,
    image_webhook,
    message_xml,
    scan_webhook,
    sign_push,
    subscribe_webhook,
    text_webhook,
    text_xml,
    unsubscribe_webhook,
    url_check,
    view_xml,
    wechat_config,
)

# WeChat's worked example (message-push page).
V_TOKEN, V_KEY, V_APPID = "AAAAA", "A" * 43, "wxba5fad812f8e6fb9"
V_ENCRYPT = (
    "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZ"
    "qzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2"
    "Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBr"
    "ebufAlr7F9mFUPAJGj04="
)
V_MESSAGE = (
    b'{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",'
    b'"CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}'
)
V_REPLY = "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="
V_CONFIG = {"token": V_TOKEN, "encoding_aes_key": V_KEY, "appid": V_APPID, "mode": "safe"}

adapter = WeChatAdapter()


def test_adapter_declares_the_protocol() -> None:
    assert isinstance(adapter, ChannelAdapter)
    assert adapter.kind == "wechat"
    names = [f.name for f in adapter.config_fields]
    assert names == [
        "appid",
        "original_id",
        "secret",
        "token",
        "encoding_aes_key",
        "mode",
        "rate_per_second",
    ]
    assert {f.name for f in adapter.config_fields if f.secret} == {
        "secret",
        "token",
        "encoding_aes_key",
    }


def test_official_signature_vectors() -> None:
    assert (
        signature("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    )
    assert (
        signature("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    )
    assert (
        signature("AAAAA", "1714112445", "415670741") == "6c5c811b55cc85e0e1b54100749188c20beb3f5d"
    )
    assert (
        signature("AAAAA", "1714112445", "415670741", V_ENCRYPT)
        == "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
    )
    assert signature_matches(
        "F464B24FC39322E44B38AA78F5EDD27BD1441696", "AAAAA", "1714036504", "1514711492"
    )
    assert not signature_matches("f464b24f", "AAAAA", "1714036504", "1514711492")
    assert not signature_matches("é" * 40, "AAAAA", "1714036504", "1514711492")


def test_official_decrypt_and_encrypt_vectors() -> None:
    assert len(aes_key(V_KEY)) == 32
    assert decrypt(V_ENCRYPT, V_KEY, V_APPID) == V_MESSAGE
    reply = encrypt(b'{"demo_resp":"good luck"}', V_KEY, V_APPID, random_prefix=b"707722b803182950")
    assert reply == V_REPLY
    assert (
        signature("AAAAA", "1713424427", "415670741", reply)
        == "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"
    )


async def test_official_safe_mode_push_verifies_in_json_and_xml() -> None:
    query = {
        "signature": "6c5c811b55cc85e0e1b54100749188c20beb3f5d",
        "timestamp": "1714112445",
        "nonce": "415670741",
        "encrypt_type": "aes",
        "msg_signature": "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
    }
    json_body = json.dumps({"ToUserName": "gh_97417a04a28d", "Encrypt": V_ENCRYPT}).encode()
    xml_body = (
        f"<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>"
        f"<Encrypt><![CDATA[{V_ENCRYPT}]]></Encrypt></xml>"
    ).encode()
    for body in (json_body, xml_body):
        ok, fields, _ = inbound.open_request(
            SignedWebhook("POST", query, body).inbound(), V_CONFIG, now=1714112445
        )
        assert ok
        assert fields is not None and fields["debug_str"] == "hello world"
        # The debug event is none of ours: no event, still "success".
        assert inbound.event_of(fields) is None
    # The official URL-verification example.
    get = {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "timestamp": "1714036504"}
    get |= {"nonce": "1514711492", "echostr": "4375120948345356249"}
    ok, _, echo = inbound.open_request(
        SignedWebhook("GET", get).inbound(), V_CONFIG | {"mode": "plain"}, now=1714036504
    )
    assert (ok, echo) == (True, "4375120948345356249")


@pytest.mark.parametrize("message", [b"", b"x", "積分".encode() * 300])
def test_round_trip_and_refusals(message: bytes) -> None:
    sealed = encrypt(message, V_KEY, APPID)
    assert decrypt(sealed, V_KEY, APPID) == message
    with pytest.raises(CryptoError):
        decrypt(sealed, V_KEY, "wx0000000000000000")  # another account's appid
    with pytest.raises(CryptoError):
        decrypt(sealed, "B" * 43, APPID)  # another key: the padding or the appid fails
    with pytest.raises(CryptoError):
        decrypt(sealed[:-8] + "AAAAAAA=", V_KEY, APPID)


@pytest.mark.parametrize(
    "text", ["", "not base64 !", "QUFBQQ==", "A" * 44, "QUFB" * 11]
)  # empty, junk, one short block, non-multiple of 16, 33 bytes
def test_decrypt_refuses_malformed(text: str) -> None:
    with pytest.raises(CryptoError):
        decrypt(text, V_KEY, APPID)


def test_bad_key_refused() -> None:
    for key in ("", "short", "!" * 43):
        with pytest.raises(CryptoError):
            aes_key(key)


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_url_verification(mode: str) -> None:
    config = wechat_config(mode)
    for hook in (url_check(config, "echo-123"), url_check(config, "echo-123", encrypted=True)):
        assert await adapter.verify(hook.inbound(), config)
        parsed = await adapter.parse(hook.inbound(), config)
        assert (parsed.status_code, parsed.reply, parsed.events) == (200, b"echo-123", [])
    bad = url_check(wechat_config(mode, token="another"), "echo-123")
    assert not await adapter.verify(bad.inbound(), config)
    assert (await adapter.parse(bad.inbound(), config)).status_code == 400


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_bad_signature_refused(mode: str) -> None:
    config = wechat_config(mode)
    hook = text_webhook(config, OPENID, "hi")
    wrong = SignedWebhook(
        "POST", hook.query | {"signature": "0" * 40, "msg_signature": "0" * 40}, hook.body
    )
    assert not await adapter.verify(wrong.inbound(), config)
    assert not await adapter.verify(hook.inbound(), config | {"token": "another-token"})
    unsigned = SignedWebhook("POST", {"timestamp": hook.query["timestamp"]}, hook.body)
    assert not await adapter.verify(unsigned.inbound(), config)
    assert (await adapter.parse(wrong.inbound(), config)).events == []


async def test_safe_mode_refuses_plain_pushes_and_another_appid() -> None:
    safe = wechat_config("safe")
    plain_hook = text_webhook(wechat_config("plain"), OPENID, "hi")
    assert not await adapter.verify(plain_hook.inbound(), safe)
    # Encrypted for another account that shares token and key: the appid suffix refuses it.
    other = text_webhook(wechat_config("safe", appid="wx9999999999999999"), OPENID, "hi")
    assert not await adapter.verify(other.inbound(), safe)
    assert (await adapter.parse(other.inbound(), safe)).status_code == 400


@pytest.mark.parametrize("mode", ["plain", "safe"])
@pytest.mark.parametrize("skew", [-301, 301, 3600])
async def test_stale_timestamp_refused(mode: str, skew: int) -> None:
    config = wechat_config(mode)
    hook = sign_push(text_xml(OPENID, "hi"), config, timestamp=int(time.time()) + skew)
    assert not await adapter.verify(hook.inbound(), config)
    fresh = sign_push(text_xml(OPENID, "hi"), config, timestamp=int(time.time()) - 250)
    assert await adapter.verify(fresh.inbound(), config)
    check = url_check(config, timestamp=int(time.time()) + skew)
    assert not await adapter.verify(check.inbound(), config)


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]><xml><ToUserName>gh_x</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml>'
    "<FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>"
)
DTD_ONLY = '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml><MsgType>text</MsgType></xml>'


@pytest.mark.parametrize("mode", ["plain", "safe"])
@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, DTD_ONLY])
async def test_hostile_xml_refused_without_expansion(mode: str, body: str) -> None:
    assert inbound.read_fields(body.encode()) is None
    config = wechat_config(mode)
    hook = sign_push(body, config)  # signed as WeChat would: the XML itself is refused
    started = time.perf_counter()
    parsed = await adapter.parse(hook.inbound(), config)
    assert time.perf_counter() - started < 0.5
    assert parsed.events == [] and parsed.status_code == 400
    assert b"lollol" not in parsed.reply and b"root:" not in parsed.reply


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_oversized_body_refused_before_parsing(mode: str) -> None:
    config = wechat_config(mode)
    big = text_xml(OPENID, "a" * (inbound.MAX_BODY_BYTES + 1))
    hook = sign_push(big, config)
    assert not await adapter.verify(hook.inbound(), config)
    assert (await adapter.parse(hook.inbound(), config)).status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<xml>",
        b"not xml at all",
        b"<other><MsgType>text</MsgType></other>",
        b"\xff\xfe<x",
        b"[" * 5000,
        b"{" * 5000,
        b'{"a":',
    ],
)
async def test_malformed_body_is_a_400_not_a_crash(body: bytes) -> None:
    config = wechat_config("plain")
    hook = sign_push(body, config)
    parsed = await adapter.parse(hook.inbound(), config)
    assert parsed.events == [] and parsed.status_code == 400
    safe = wechat_config("safe")
    envelope = SignedWebhook("POST", sign_push(b"", safe).query, body)
    assert not await adapter.verify(envelope.inbound(), safe)


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_each_event_type(mode: str) -> None:
    config = wechat_config(mode)

    async def one(hook: SignedWebhook):
        assert await adapter.verify(hook.inbound(), config)
        parsed = await adapter.parse(hook.inbound(), config)
        assert (parsed.status_code, parsed.reply, parsed.content_type) == (
            200,
            b"success",
            "text/plain",
        )
        assert len(parsed.events) == 1
        event = parsed.events[0]
        assert (event.sender, event.account) == (OPENID, ORIGINAL_ID)
        return event

    text = await one(text_webhook(config, OPENID, " 積分 ]]> <b>", msg_id=123456789012345678))
    assert (text.kind, text.text, text.provider_id) == (
        EventKind.text,
        " 積分 ]]> <b>",
        "123456789012345678",
    )
    image = await one(image_webhook(config, OPENID, "MEDIA_1"))
    assert (image.kind, image.media_id) == (EventKind.image, "MEDIA_1")
    follow = await one(subscribe_webhook(config, OPENID, "JOIN42", create_time=1_800_000_000))
    assert (follow.kind, follow.scene) == (EventKind.follow, "JOIN42")
    assert follow.provider_id == f"{OPENID}:1800000000:subscribe:qrscene_JOIN42"
    plain_follow = await one(subscribe_webhook(config, OPENID))
    assert (plain_follow.kind, plain_follow.scene) == (EventKind.follow, "")
    scan = await one(scan_webhook(config, OPENID, "JOIN42", create_time=1_800_000_000))
    assert (scan.kind, scan.scene) == (EventKind.follow, "JOIN42")
    assert scan.provider_id != follow.provider_id  # same second, another event
    click = await one(click_webhook(config, OPENID, "CARD", create_time=1_800_000_000))
    assert (click.kind, click.choice_id) == (EventKind.choice, "CARD")
    assert click.provider_id == f"{OPENID}:1800000000:CLICK:CARD"
    gone = await one(unsubscribe_webhook(config, OPENID))
    assert gone.kind == EventKind.unfollow
    voice = await one(sign_push(message_xml(OPENID, "voice", MediaId="v1", Format="amr"), config))
    assert (voice.kind, voice.text, dict(voice.raw)) == (
        EventKind.text,
        "",
        {"unsupported": "voice"},
    )


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_skipped_pushes_still_answer_success(mode: str) -> None:
    config = wechat_config(mode)
    for xml in (
        view_xml(OPENID, "https://example.com/wallet"),
        message_xml(OPENID, "event", Event="TEMPLATESENDJOBFINISH", Status="success"),
        f"<xml><ToUserName>{ORIGINAL_ID}</ToUserName><MsgType>text</MsgType><Content>no sender</Content></xml>",
    ):
        hook = sign_push(xml, config)
        assert await adapter.verify(hook.inbound(), config)
        parsed = await adapter.parse(hook.inbound(), config)
        assert (parsed.status_code, parsed.reply, parsed.events) == (200, b"success", [])


async def test_a_replayed_push_keeps_its_provider_id() -> None:
    config = wechat_config("safe")
    hook = click_webhook(config, OPENID, "REWARDS")
    first = (await adapter.parse(hook.inbound(), config)).events[0]
    again = (await adapter.parse(hook.inbound(), config)).events[0]
    assert first.provider_id == again.provider_id


def test_registered_by_entry_point(plugins) -> None:
    from loyalchat.extensions.channels import get_channels
    from loyalchat.extensions.tenant_plugins import get_settings_fields

    channels = get_channels(plugins)
    assert isinstance(channels["wechat"], WeChatAdapter)
    assert channels.owner("wechat") == "wechat"
    assert [f.name for f in get_settings_fields(plugins)["wechat"]][:3] == [
        "appid",
        "original_id",
        "secret",
    ]


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_push_for_another_account_refused(mode: str) -> None:
    """Two shops: a push to shop B's account, posted to shop A's URL with A's token and key,
    is refused because its ToUserName is not A's original id."""
    shop_a = wechat_config(mode, original_id="gh_aaaaaaaaaaaa")
    hook = sign_push(text_xml(OPENID, "hi", to="gh_bbbbbbbbbbbb"), shop_a)
    assert not await adapter.verify(hook.inbound(), shop_a)
    assert (await adapter.parse(hook.inbound(), shop_a)).events == []
    # Without an original id configured, the signature (and in safe mode the appid) decides.
    assert await adapter.verify(hook.inbound(), shop_a | {"original_id": ""})
