"""Calls to WeChat's API with the account's token: send, upload, media, QR codes, menu.

Every call takes the tenant's ``config`` and the API host from
``LOYALCHAT_WECHAT_API_BASE`` (tests point it at a local fake). A token WeChat refuses
(40001, 40014, 42001) is dropped and the call made once more with a fresh one; every other
``errcode`` becomes a :class:`ChannelError` (:mod:`loyalchat.plugins.wechat.errors`).
JSON bodies are sent as UTF-8, not ``\\u`` escapes, which WeChat would show as written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from loyalchat import cache
from loyalchat.context import current_tenant_id
from loyalchat.extensions.channels import ChannelError, Media, OutboundMessage, SendResult
from loyalchat.plugins.wechat import tokens
from loyalchat.plugins.wechat.errors import INVALID_TOKEN, errcode, error_for
from loyalchat.plugins.wechat.render import MenuEntry, menu_json, message_text
from loyalchat.settings import get_settings

__all__ = ["MAX_IMAGE_BYTES", "MAX_MEDIA_BYTES", "fetch_media", "join_link", "push_menu", "send"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_MEDIA_BYTES = 10 * 1024 * 1024  # what we download of a member's picture
MAX_IMAGE_BYTES = 2 * 1024 * 1024  # WeChat's limit for an uploaded image
_MAX_ERROR_BYTES = 64 * 1024
MAX_SCENE_CHARS = 64  # scene_str of a parametric QR code
# A permanent code's URL is kept this long: it never changes, but a bound lets a code
# deleted on WeChat's side (or a cache that outlived its account) heal by itself.
QR_CACHE_SECONDS = 90 * 24 * 60 * 60
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}


def _base() -> str:
    return get_settings().wechat_api_base.rstrip("/")


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT)


def _utf8_json(payload: Any) -> dict[str, Any]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return {"content": body, "headers": {"content-type": "application/json; charset=utf-8"}}


def _answer(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code == 429:
        raise ChannelError(f"WeChat {what}: HTTP 429", reason="rate", retryable=True)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ChannelError(
            f"WeChat {what}: HTTP {response.status_code}, not JSON",
            retryable=response.status_code >= 500 or response.status_code == 200,
        )
    return data


async def call(
    config: Mapping[str, Any],
    path: str,
    what: str,
    *,
    query: Mapping[str, str] | None = None,
    **request: Any,
) -> dict[str, Any]:
    """POST ``path`` with the token; the JSON answer, or :class:`ChannelError`."""
    base = _base()
    async with _client() as client:
        for attempt in range(2):
            token = await tokens.access_token(config, client, base=base)
            try:
                response = await client.post(
                    base + path, params={"access_token": token, **(query or {})}, **request
                )
            except httpx.HTTPError as exc:
                raise ChannelError(f"WeChat {what}: {type(exc).__name__}", retryable=True) from exc
            data = _answer(response, what)
            code = errcode(data)
            if code in INVALID_TOKEN and attempt == 0:
                await tokens.invalidate(config, token, base=base)
                continue
            if code:
                raise error_for(code, str(data.get("errmsg", "")), what)
            return data
    raise AssertionError("unreachable")  # pragma: no cover


async def upload_image(config: Mapping[str, Any], image: bytes, content_type: str) -> str:
    """Upload ``image`` as temporary material; its ``media_id`` (valid three days)."""
    if len(image) > MAX_IMAGE_BYTES:
        raise ChannelError("WeChat upload: the image is larger than 2 MB")
    name = f"image.{_EXTENSIONS.get(content_type, 'png')}"
    data = await call(
        config,
        "/cgi-bin/media/upload",
        "upload",
        query={"type": "image"},
        files={"media": (name, image, content_type)},
    )
    media_id = data.get("media_id")
    if not isinstance(media_id, str) or not media_id:
        raise ChannelError("WeChat upload: no media_id in the answer", retryable=True)
    return media_id


async def _custom_send(config: Mapping[str, Any], payload: dict[str, Any]) -> str:
    data = await call(config, "/cgi-bin/message/custom/send", "send", **_utf8_json(payload))
    msgid = data.get("msgid")
    return str(msgid) if msgid not in (None, "") else ""


async def send(message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
    """Send through the customer-service API: the text (choices numbered), then the image.

    Only within 48 hours of the member's last interaction (45015 otherwise: the host
    marks it ``window_closed``). WeChat rarely answers a ``msgid`` here; our outbox key
    stands in for it.
    """
    text = message_text(message)
    if not text and not message.image:
        raise ChannelError("WeChat send: nothing to send")
    provider_id = ""
    if text:
        payload = {"touser": message.to, "msgtype": "text", "text": {"content": text}}
        provider_id = await _custom_send(config, payload)
    if message.image:
        media_id = await upload_image(config, message.image, message.image_type)
        payload = {"touser": message.to, "msgtype": "image", "image": {"media_id": media_id}}
        provider_id = await _custom_send(config, payload) or provider_id
    return SendResult(provider_id=provider_id or message.key or f"wechat:{uuid.uuid4().hex}")


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ChannelError(f"WeChat media: {declared} bytes, more than {cap}")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise ChannelError(f"WeChat media: more than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_media(media_id: str, config: Mapping[str, Any]) -> Media:
    """A member's picture from ``/cgi-bin/media/get``, at most 10 MB (streamed, cut there)."""
    base = _base()
    async with _client() as client:
        for attempt in range(2):
            token = await tokens.access_token(config, client, base=base)
            params = {"access_token": token, "media_id": media_id}
            try:
                async with client.stream(
                    "GET", base + "/cgi-bin/media/get", params=params
                ) as response:
                    content_type = response.headers.get("content-type", "").split(";")[0].strip()
                    is_json = content_type in ("application/json", "text/plain", "text/json", "")
                    cap = _MAX_ERROR_BYTES if is_json else MAX_MEDIA_BYTES
                    body = await _read_capped(response, cap)
            except httpx.HTTPError as exc:
                raise ChannelError(f"WeChat media: {type(exc).__name__}", retryable=True) from exc
            if response.status_code >= 500:
                raise ChannelError(f"WeChat media: HTTP {response.status_code}", retryable=True)
            if not is_json and response.status_code == 200:
                return Media(data=body, content_type=content_type)
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            code = errcode(data) if isinstance(data, dict) else 0
            if code in INVALID_TOKEN and attempt == 0:
                await tokens.invalidate(config, token, base=base)
                continue
            if code:
                raise error_for(code, str(data.get("errmsg", "")), "media")
            raise ChannelError(f"WeChat media: HTTP {response.status_code}, not a picture")
    raise AssertionError("unreachable")  # pragma: no cover


def _qr_key(config: Mapping[str, Any], scene: str) -> str:
    # The API host keeps a staging fake's answers apart; another AppID is another key,
    # so changing the account's AppID asks WeChat again.
    host = urlsplit(_base()).netloc
    return f"wechat:qr:{host}:{current_tenant_id()}:{config.get('appid') or ''}:{scene}"


async def join_link(join_code: str, config: Mapping[str, Any]) -> str:
    """What a permanent parametric QR code for ``join_code`` encodes (scanning it opens
    the account; following, or scanning again, pushes the code as the event's scene).

    A permanent code never changes for its scene, and an account has at most 100,000:
    WeChat is asked once per (shop, AppID, scene) and the URL kept
    (:data:`QR_CACHE_SECONDS`, :mod:`loyalchat.cache`), however often the kit is shown.
    """
    if not 1 <= len(join_code) <= MAX_SCENE_CHARS:
        raise ChannelError(f"WeChat QR: a scene is 1 to {MAX_SCENE_CHARS} characters")
    key = _qr_key(config, join_code)
    if cached := await cache.get(key):
        return cached
    payload = {
        "action_name": "QR_LIMIT_STR_SCENE",
        "action_info": {"scene": {"scene_str": join_code}},
    }
    data = await call(config, "/cgi-bin/qrcode/create", "qrcode", **_utf8_json(payload))
    url = data.get("url")
    if not isinstance(url, str) or not url:
        raise ChannelError("WeChat QR: no url in the answer", retryable=True)
    await cache.put(key, url, QR_CACHE_SECONDS)
    return url


async def push_menu(
    config: Mapping[str, Any], entries: Mapping[str, str] | Iterable[MenuEntry]
) -> None:
    """Replace the account's custom menu (:func:`~loyalchat.plugins.wechat.render.menu_json`)."""
    await call(config, "/cgi-bin/menu/create", "menu", **_utf8_json(menu_json(entries)))
