"""Calls to Meta's Graph API for one WhatsApp number: send, upload, download media.

The host comes from ``LOYALCHAT_WHATSAPP_API_BASE`` (scheme + host + port, no path; tests
point it at ``tests/fakes/graph_api.py``) and every path is the documented one:
``/<version>/<phone_number_id>/messages``, ``/<version>/<phone_number_id>/media``,
``/<version>/<media_id>``. Failures become :class:`ChannelError` with the ``reason`` the
host acts on (error codes: ``../shared/research/channels.md`` A10).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from loyalchat.extensions.channels import ChannelError, Media

__all__ = ["MAX_MEDIA_BYTES", "Graph", "error_from"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MEDIA_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_MEDIA_BYTES = 10 * 1024 * 1024  # a receipt photo is far smaller; Meta allows 100 MB
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # Meta's limit for an image we send

# Graph error codes -> what the host does (A10 of the channel research).
RATE = {4: 60.0, 80007: 60.0, 130429: 1.0, 131048: 60.0, 131056: 6.0}  # code -> retry after
WINDOW_CLOSED = {131047, 470}
AUTH = {0, 10, 190, 133010}
RECIPIENT = {131026, 131049, 131050, 131062, 1013}
TRANSIENT = {1, 2, 131000, 131016, 131057, 133004}


@functools.cache
def _tls() -> ssl.SSLContext:
    # Built once: loading the CA bundle for every send would cost more than the send.
    return ssl.create_default_context()


# Sends go through one client per event loop, so its connections to Meta are kept open
# between messages: a new client per send paid a TCP and TLS handshake each time (a
# hundred milliseconds or more to Meta), and a paced send holds its place in the account's
# log for as long as its call takes (conversations.ratelimit). The token travels on each
# request, never on the shared client.
_send_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
SEND_LIMITS = httpx.Limits(max_connections=40, max_keepalive_connections=20, keepalive_expiry=30)


def _sending_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _send_clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=TIMEOUT, verify=_tls(), follow_redirects=False, limits=SEND_LIMITS
        )
        _send_clients[loop] = client
    return client


@dataclass(frozen=True, slots=True)
class Graph:
    """One number's API: base URL, version, phone number id and bearer token."""

    base: str
    version: str
    phone_number_id: str
    token: str

    def _client(self, timeout: httpx.Timeout = TIMEOUT) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=timeout,
            verify=_tls(),
            headers={"Authorization": f"Bearer {self.token}"},
            follow_redirects=False,
        )

    async def send(self, body: Mapping[str, Any]) -> str:
        """POST a message; the ``wamid`` Meta gives it."""
        url = f"{self.base}/{self.version}/{self.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {self.token}"}
        response = await _call(_sending_client().post(url, json=body, headers=headers))
        messages = _json(response).get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            wamid = messages[0].get("id")
            if isinstance(wamid, str) and wamid:
                return wamid
        # Accepted but unreadable: sending again could deliver it twice.
        raise ChannelError("the Graph API accepted the message without an id")

    async def upload(self, data: bytes, content_type: str) -> str:
        """Upload an image we send (a coupon's QR code); its media id (kept 30 days)."""
        if len(data) > MAX_UPLOAD_BYTES:
            raise ChannelError("image over WhatsApp's 5 MB limit", code="131053")
        url = f"{self.base}/{self.version}/{self.phone_number_id}/media"
        extension = content_type.rpartition("/")[2] or "bin"
        async with self._client() as client:
            response = await _call(
                client.post(
                    url,
                    data={"messaging_product": "whatsapp", "type": content_type},
                    files={"file": (f"image.{extension}", data, content_type)},
                )
            )
        media_id = _json(response).get("id")
        if not isinstance(media_id, str) or not media_id:
            raise ChannelError("the Graph API stored the image without an id", retryable=True)
        return media_id

    async def download(self, media_id: str, limit: int = MAX_MEDIA_BYTES) -> Media:
        """An inbound image: its URL from ``GET /<media_id>``, then the bytes with the same
        token, refused over ``limit`` both by the size Meta states and while reading."""
        url = f"{self.base}/{self.version}/{media_id}"
        params = {"phone_number_id": self.phone_number_id} if self.phone_number_id else None
        async with self._client(MEDIA_TIMEOUT) as client:
            info = _json(await _call(client.get(url, params=params)))
            media_url, mime = info.get("url"), info.get("mime_type")
            if not isinstance(media_url, str) or not _fetchable(media_url, self.base):
                raise ChannelError("the Graph API gave no usable media URL")
            if _size(info.get("file_size")) > limit:
                raise ChannelError(f"media over {limit} bytes", code="size")
            try:
                data = await _read_capped(client, media_url, limit)
            except httpx.HTTPError as exc:
                raise ChannelError(f"media download failed: {exc}", retryable=True) from exc
        content_type = (mime if isinstance(mime, str) else "") or data.content_type
        return Media(data.data, content_type.split(";")[0].strip() or "application/octet-stream")


async def _read_capped(client: httpx.AsyncClient, url: str, limit: int) -> Media:
    """GET ``url``; stop as soon as more than ``limit`` bytes are announced or arrive."""
    # Redirects are followed; httpx drops the token when one leaves the host.
    async with client.stream("GET", url, follow_redirects=True) as response:
        if response.status_code != 200:
            await response.aread()
            raise error_from(response)
        if _size(response.headers.get("content-length")) > limit:
            raise ChannelError(f"media over {limit} bytes", code="size")
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > limit:
                raise ChannelError(f"media over {limit} bytes", code="size")
        return Media(bytes(data), response.headers.get("content-type", ""))


async def _call(request: Any) -> httpx.Response:
    """Await an httpx call; network trouble is retryable, an error answer is mapped."""
    try:
        response = await request
    except httpx.TimeoutException as exc:
        raise ChannelError("the Graph API did not answer in time", retryable=True) from exc
    except httpx.HTTPError as exc:
        raise ChannelError(f"the Graph API could not be reached: {exc}", retryable=True) from exc
    except httpx.InvalidURL as exc:  # LOYALCHAT_WHATSAPP_API_BASE is not a URL
        raise ChannelError(f"bad Graph API address: {exc}") from exc
    if response.status_code >= 300:
        raise error_from(response)
    return response


def error_from(response: httpx.Response) -> ChannelError:
    """A Graph error answer as a :class:`ChannelError` (code, reason, retryable)."""
    error = _json(response).get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    details = error.get("error_data")
    details = details.get("details") if isinstance(details, dict) else None
    text = str(error.get("message") or f"HTTP {response.status_code}")
    if isinstance(details, str) and details:
        text = f"{text} ({details})"
    message = f"{code}: {text}" if code is not None else text
    status = response.status_code
    retry_after = _retry_after(response.headers.get("retry-after"))
    code_text = "" if code is None else str(code)
    if code in RATE or status == 429:
        wait = retry_after if retry_after is not None else RATE.get(code or 0, 1.0)
        return ChannelError(
            message, retryable=True, code=code_text, reason="rate", retry_after=wait
        )
    if code in WINDOW_CLOSED:
        return ChannelError(message, code=code_text, reason="window_closed")
    if code in AUTH or 200 <= (code or 0) <= 299 or (code is None and status in (401, 403)):
        return ChannelError(message, code=code_text, reason="auth")
    if code in RECIPIENT:
        return ChannelError(message, code=code_text, reason="recipient")
    if code in TRANSIENT or status >= 500:
        return ChannelError(message, retryable=True, code=code_text, retry_after=retry_after)
    return ChannelError(message, code=code_text)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _size(value: Any) -> int:
    """``file_size`` (a string in Graph answers) or a Content-Length; 0 when absent."""
    try:
        return max(0, int(str(value)))
    except (TypeError, ValueError):
        return 0


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the defaults per code are good enough


def _fetchable(url: str, base: str) -> bool:
    """A media URL we may send our token to: https (or the API base's own scheme and host,
    for a local fake over http)."""
    parts, api = urlsplit(url), urlsplit(base)
    if parts.scheme == "https" and parts.netloc:
        return True
    return parts.scheme == api.scheme and parts.netloc == api.netloc
