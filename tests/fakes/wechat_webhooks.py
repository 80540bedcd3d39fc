"""WeChat Official Account pushes as WeChat sends them, signed for a tenant's config.

XML shapes follow WeChat's "receiving messages/events" pages (``../shared/research/
channels.md`` B2). :func:`sign_push` signs a body the way WeChat does for the config's
mode: plain mode puts ``signature`` (sha1 of sorted token, timestamp, nonce) in the query;
safe mode encrypts the XML (AES-256-CBC, random prefix, length, appid: the real
algorithm), sends ``<xml><ToUserName/><Encrypt/></xml>`` and adds ``encrypt_type=aes``
and ``msg_signature``.

    hook = text_webhook(wechat_config("safe"), "oOPENID", "積分")
    client.post(hook.url("/hooks/wechat/demo"), content=hook.body, headers=hook.headers)
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from loyalchat.extensions.base import InboundRequest
from loyalchat.plugins.wechat.crypto import encrypt, signature

__all__ = [
    "AES_KEY",
    "APPID",
    "OPENID",
    "ORIGINAL_ID",
    "SECRET",
    "TOKEN",
    "SignedWebhook",
    "click_webhook",
    "click_xml",
    "event_xml",
    "image_webhook",
    "image_xml",
    "message_xml",
    "scan_webhook",
    "scan_xml",
    "sign_push",
    "subscribe_webhook",
    "subscribe_xml",
    "text_webhook",
    "text_xml",
    "unsubscribe_webhook",
    "unsubscribe_xml",
    "url_check",
    "view_xml",
    "wechat_config",
]

APPID = "wx1a2b3c4d5e6f7a8b"
ORIGINAL_ID = "gh_0a1b2c3d4e5f"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "loyalchatWeChatToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
OPENID = "oLoyalChat_member_0000000001"
_msg_ids = itertools.count(24_000_000_000_000_000)


def wechat_config(mode: str = "plain", **overrides: str) -> dict[str, str]:
    """A tenant's WeChat settings (what the adapter gets as ``config``)."""
    config = {
        "appid": APPID,
        "original_id": ORIGINAL_ID,
        "secret": SECRET,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "mode": mode,
        "rate_per_second": "80",
    }
    return config | overrides


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    """One request as WeChat makes it: method, query, raw body, headers."""

    method: str
    query: dict[str, str]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{path}?{urlencode(self.query)}"

    def inbound(self, path: str = "/hooks/wechat/demo") -> InboundRequest:
        """The same request as the adapter sees it (the core builds this from the HTTP one)."""
        return InboundRequest(
            self.method,
            path,
            {k.lower(): v for k, v in self.headers.items()},
            self.query,
            self.body,
        )


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _now(create_time: int | None) -> int:
    return int(time.time()) if create_time is None else create_time


def message_xml(
    openid: str,
    msg_type: str,
    *,
    to: str = ORIGINAL_ID,
    create_time: int | None = None,
    msg_id: int | str | None = None,
    **fields: str,
) -> str:
    """A user message (``MsgType`` text, image, voice...) with a fresh ``MsgId``."""
    extra = "".join(f"<{name}>{_cdata(value)}</{name}>" for name, value in fields.items())
    msg_id = next(_msg_ids) if msg_id is None else msg_id
    return (
        f"<xml><ToUserName>{_cdata(to)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{_now(create_time)}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>"
        f"{extra}<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(
    openid: str, event: str, *, to: str = ORIGINAL_ID, create_time: int | None = None, **fields: str
) -> str:
    """An event push (``MsgType`` event): no ``MsgId``, WeChat dedups by sender and time."""
    extra = "".join(f"<{name}>{_cdata(value)}</{name}>" for name, value in fields.items())
    return (
        f"<xml><ToUserName>{_cdata(to)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{_now(create_time)}</CreateTime><MsgType>{_cdata('event')}</MsgType>"
        f"<Event>{_cdata(event)}</Event>{extra}</xml>"
    )


def text_xml(openid: str, content: str, **kw: Any) -> str:
    return message_xml(openid, "text", Content=content, **kw)


def image_xml(openid: str, media_id: str, **kw: Any) -> str:
    pic_url = f"http://mmbiz.qpic.cn/mmbiz/{media_id}/0"
    return message_xml(openid, "image", PicUrl=pic_url, MediaId=media_id, **kw)


def subscribe_xml(openid: str, scene: str = "", **kw: Any) -> str:
    """A follow; from a parametric QR code, ``EventKey`` is ``qrscene_<scene>``."""
    if not scene:
        return event_xml(openid, "subscribe", **kw)
    ticket = "gQ" + secrets.token_urlsafe(16)
    return event_xml(openid, "subscribe", EventKey=f"qrscene_{scene}", Ticket=ticket, **kw)


def scan_xml(openid: str, scene: str, **kw: Any) -> str:
    """A follower scanned a parametric QR code: ``EventKey`` is the scene, no prefix."""
    return event_xml(openid, "SCAN", EventKey=scene, Ticket="gQ" + secrets.token_urlsafe(16), **kw)


def click_xml(openid: str, key: str, **kw: Any) -> str:
    return event_xml(openid, "CLICK", EventKey=key, **kw)


def view_xml(openid: str, url: str, **kw: Any) -> str:
    return event_xml(openid, "VIEW", EventKey=url, **kw)


def unsubscribe_xml(openid: str, **kw: Any) -> str:
    return event_xml(openid, "unsubscribe", EventKey="", **kw)


def sign_push(
    xml: str | bytes,
    config: Mapping[str, str],
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> SignedWebhook:
    """A POST of ``xml`` signed (and in safe mode encrypted) for ``config``."""
    body = xml.encode() if isinstance(xml, str) else xml
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    token = config["token"]
    query = {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}
    headers = {"Content-Type": "text/xml"}
    if config.get("mode") != "safe":
        return SignedWebhook("POST", query, body, headers)
    encrypted = encrypt(body, config["encoding_aes_key"], config["appid"])
    to = config.get("original_id") or ORIGINAL_ID
    envelope = (
        f"<xml><ToUserName>{_cdata(to)}</ToUserName><Encrypt>{_cdata(encrypted)}</Encrypt></xml>"
    )
    query |= {"encrypt_type": "aes", "msg_signature": signature(token, ts, nonce, encrypted)}
    return SignedWebhook("POST", query, envelope.encode(), headers)


def url_check(
    config: Mapping[str, str],
    echostr: str = "4375120948345356249",
    *,
    encrypted: bool = False,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> SignedWebhook:
    """WeChat's GET URL verification; ``encrypted``: the echostr encrypted and signed with
    ``msg_signature`` (the adapter answers the decrypted text)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    token = config["token"]
    query = {"timestamp": ts, "nonce": nonce}
    if encrypted:
        sealed = encrypt(echostr.encode(), config["encoding_aes_key"], config["appid"])
        query |= {"echostr": sealed, "msg_signature": signature(token, ts, nonce, sealed)}
    else:
        query |= {"echostr": echostr}
    query["signature"] = signature(token, ts, nonce)
    return SignedWebhook("GET", query)


def _to(config: Mapping[str, str]) -> str:
    return config.get("original_id") or ORIGINAL_ID


def text_webhook(config: Mapping[str, str], openid: str, content: str, **kw: Any) -> SignedWebhook:
    return sign_push(text_xml(openid, content, to=_to(config), **kw), config)


def image_webhook(
    config: Mapping[str, str], openid: str, media_id: str, **kw: Any
) -> SignedWebhook:
    return sign_push(image_xml(openid, media_id, to=_to(config), **kw), config)


def subscribe_webhook(
    config: Mapping[str, str], openid: str, scene: str = "", **kw: Any
) -> SignedWebhook:
    return sign_push(subscribe_xml(openid, scene, to=_to(config), **kw), config)


def scan_webhook(config: Mapping[str, str], openid: str, scene: str, **kw: Any) -> SignedWebhook:
    return sign_push(scan_xml(openid, scene, to=_to(config), **kw), config)


def click_webhook(config: Mapping[str, str], openid: str, key: str, **kw: Any) -> SignedWebhook:
    return sign_push(click_xml(openid, key, to=_to(config), **kw), config)


def unsubscribe_webhook(config: Mapping[str, str], openid: str, **kw: Any) -> SignedWebhook:
    return sign_push(unsubscribe_xml(openid, to=_to(config), **kw), config)
