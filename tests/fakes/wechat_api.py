"""A fake WeChat API: a real HTTP server on a free local port that speaks WeChat's protocol.

It answers the paths the WeChat channel calls, with WeChat's JSON shapes and errcodes:
``/cgi-bin/stable_token`` (one token per appid while it is valid, as WeChat's stable
token does; ``token_requests`` counts the calls), ``/cgi-bin/message/custom/send``
(recorded in ``messages``; a text over 2,048 bytes of UTF-8 answers 45002),
``/cgi-bin/media/upload`` (multipart ``media``), ``/cgi-bin/media/get`` (bytes of
uploaded or added media; errors as JSON text), ``/cgi-bin/qrcode/create`` and
``/cgi-bin/menu/create`` (recorded). Every call but the token's checks ``access_token``
(41001 missing, 40001 unknown, 42001 expired).

    def test_x(wechat_api):               # LOYALCHAT_WECHAT_API_BASE points at it
        wechat_api.fail_next(45015)        # the next custom/send answers 45015
        wechat_api.expire_tokens()         # tokens in use now answer 42001
        wechat_api.add_media("m1", b"...") # what /cgi-bin/media/get returns for m1

Import the fixture into a test module: ``from tests.fakes.wechat_api import wechat_api``.
Signed webhooks (plain and safe mode) are built by :mod:`tests.fakes.wechat_webhooks`.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from loyalchat import cache
from loyalchat.plugins.wechat.tokens import forget_tokens
from loyalchat.settings import get_settings

__all__ = ["FakeWeChatApi", "wechat_api"]

MAX_TEXT_BYTES = 2048  # a customer-service text message's content, UTF-8
_ENDPOINTS = ("stable_token", "custom_send", "media_upload", "media_get", "qrcode", "menu")
_MENU_TYPES = {"click", "view", "pic_photo_or_album", "pic_sysphoto", "pic_weixin", "scancode_push"}


@dataclass
class FakeWeChatApi:
    """The server's state; tests read what was sent and tell it how to fail."""

    apps: dict[str, str] = field(default_factory=dict)  # appid -> secret; empty: any pair
    expires_in: int = 7200
    token_delay: float = 0.05  # stable_token is slow enough that unguarded callers race
    chunked_media: bool = False  # media/get without Content-Length (streamed in chunks)
    base: str = ""
    token_requests: int = 0
    tokens_issued: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)  # custom/send bodies as received
    uploads: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    qrcodes: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    _current: dict[str, str] = field(default_factory=dict)  # appid -> valid token
    _tokens: dict[str, str] = field(default_factory=dict)  # every token issued -> appid
    _expired: set[str] = field(default_factory=set)
    _failures: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- what tests call -------------------------------------------------------------
    def fail_next(self, errcode: int, times: int = 1, endpoint: str = "custom_send") -> None:
        """The next ``times`` calls of ``endpoint`` answer ``errcode`` (one of _ENDPOINTS)."""
        assert endpoint in _ENDPOINTS, endpoint
        with self._lock:
            self._failures.setdefault(endpoint, []).extend([errcode] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far answers 42001; the next stable_token call issues anew."""
        with self._lock:
            self._expired.update(self._tokens)
            self._current.clear()

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self.media[media_id] = (data, content_type)

    def texts(self) -> list[str]:
        """The contents of the text messages sent, in order."""
        return [m["text"]["content"] for m in self.messages if m.get("msgtype") == "text"]

    # -- the protocol ----------------------------------------------------------------
    def _failure(self, endpoint: str) -> int:
        with self._lock:
            queued = self._failures.get(endpoint) or []
            return queued.pop(0) if queued else 0

    def _token_error(self, token: str) -> int:
        with self._lock:
            if not token:
                return 41001
            if token in self._expired:
                return 42001
            return 0 if token in self._tokens else 40001

    def stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        time.sleep(self.token_delay)
        with self._lock:
            self.token_requests += 1
        if code := self._failure("stable_token"):
            return _error(code)
        appid, secret = str(body.get("appid") or ""), str(body.get("secret") or "")
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if not appid:
            return _error(40013, "invalid appid")
        if not secret or (self.apps and self.apps.get(appid) != secret):
            return _error(40125, "invalid appsecret")
        with self._lock:
            token = self._current.get(appid)
            if token is None or body.get("force_refresh"):
                token = f"ACCESS_TOKEN_{secrets.token_hex(12)}"
                self._current[appid] = token
                self._tokens[token] = appid
                self.tokens_issued += 1
        return {"access_token": token, "expires_in": self.expires_in}

    def custom_send(self, body: bytes) -> dict[str, Any]:
        data = json.loads(body.decode("utf-8"))
        msgtype = data.get("msgtype")
        if not data.get("touser"):
            return _error(40003, "invalid openid")
        if msgtype == "text" and not (data.get("text") or {}).get("content"):
            return _error(44004, "empty content")
        if msgtype == "text" and len(str(data["text"]["content"]).encode()) > MAX_TEXT_BYTES:
            return _error(45002, "content size out of limit")
        if msgtype == "image":
            media_id = (data.get("image") or {}).get("media_id")
            if media_id not in self.uploads and media_id not in self.media:
                return _error(40007, "invalid media_id")
        elif msgtype != "text":
            return _error(40008, "invalid message type")
        with self._lock:
            self.messages.append(data)
            self.raw_bodies.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    def media_upload(self, headers: Any, body: bytes, kind: str) -> dict[str, Any]:
        if kind != "image":
            return _error(40004, "invalid media type")
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + headers.get("content-type", "").encode() + b"\r\n\r\n" + body
        )
        for part in parsed.iter_parts() if parsed.is_multipart() else ():
            if part.get_param("name", header="content-disposition") == "media":
                data = part.get_payload(decode=True) or b""
                if len(data) > 2 * 1024 * 1024:
                    return _error(40006, "invalid meida size")
                media_id = f"MEDIA_{next(self._ids)}_{secrets.token_hex(6)}"
                with self._lock:
                    self.uploads[media_id] = (data, part.get_content_type())
                return {"type": "image", "media_id": media_id, "created_at": int(time.time())}
        return _error(41005, "media data missing")

    def qrcode(self, data: dict[str, Any]) -> dict[str, Any]:
        scene = ((data.get("action_info") or {}).get("scene") or {}).get("scene_str", "")
        if data.get("action_name") != "QR_LIMIT_STR_SCENE" or not 1 <= len(scene) <= 64:
            return _error(40053, "invalid action info")
        ticket = "gQ" + secrets.token_urlsafe(24)
        with self._lock:
            self.qrcodes.append(data)
        return {"ticket": ticket, "url": f"http://weixin.qq.com/q/{scene.encode().hex()}"}

    def menu(self, data: dict[str, Any]) -> dict[str, Any]:
        buttons = data.get("button") or []
        if not 1 <= len(buttons) <= 3:
            return _error(40016, "invalid button size")
        for button in buttons:
            if button.get("type") not in _MENU_TYPES:
                return _error(40017, "invalid button type")
            if not 0 < len(str(button.get("name", "")).encode()) <= 16:
                return _error(40018, "invalid button name size")
        with self._lock:
            self.menus.append(data)
        return {"errcode": 0, "errmsg": "ok"}

    # -- the server ------------------------------------------------------------------
    def start(self) -> FakeWeChatApi:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _error(code: int, message: str = "error") -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}


def _handler(api: FakeWeChatApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data: dict[str, Any], content_type: str = "application/json") -> None:
            self._send(200, json.dumps(data, ensure_ascii=False).encode(), content_type)

        def _route(self) -> tuple[str, dict[str, str]]:
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            return url.path, query

        def do_POST(self) -> None:
            path, query = self._route()
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if path == "/cgi-bin/stable_token":
                return self._json(api.stable_token(json.loads(body or b"{}")))
            endpoints = {
                "/cgi-bin/message/custom/send": "custom_send",
                "/cgi-bin/media/upload": "media_upload",
                "/cgi-bin/qrcode/create": "qrcode",
                "/cgi-bin/menu/create": "menu",
            }
            endpoint = endpoints.get(path)
            if endpoint is None:
                return self._send(404, b"not found", "text/plain")
            if code := api._token_error(query.get("access_token", "")):
                return self._json(_error(code, "invalid credential"))
            if code := api._failure(endpoint):
                return self._json(_error(code, "queued failure"))
            if endpoint == "custom_send":
                return self._json(api.custom_send(body))
            if endpoint == "media_upload":
                return self._json(api.media_upload(self.headers, body, query.get("type", "")))
            data = json.loads(body.decode("utf-8"))
            return self._json(api.qrcode(data) if endpoint == "qrcode" else api.menu(data))

        def do_GET(self) -> None:
            path, query = self._route()
            if path != "/cgi-bin/media/get":
                return self._send(404, b"not found", "text/plain")
            # WeChat answers media/get errors as JSON text, whatever the content type says.
            if code := api._token_error(query.get("access_token", "")):
                return self._json(_error(code, "invalid credential"), "text/plain")
            if code := api._failure("media_get"):
                return self._json(_error(code, "queued failure"), "text/plain")
            media_id = query.get("media_id", "")
            found = api.media.get(media_id) or api.uploads.get(media_id)
            if found is None:
                return self._json(_error(40007, "invalid media_id"), "text/plain")
            data, content_type = found
            disposition = f'attachment; filename="{media_id}.jpg"'
            if not api.chunked_media:
                return self._send(200, data, content_type, Content_disposition=disposition)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for start in range(0, len(data), 65536):
                    chunk = data[start : start + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:  # the client stopped reading past its cap
                self.close_connection = True

    return Handler


@pytest.fixture
def wechat_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeChatApi]:
    """A running fake WeChat API; ``LOYALCHAT_WECHAT_API_BASE`` points at it meanwhile."""
    fake = FakeWeChatApi().start()
    monkeypatch.setenv("LOYALCHAT_WECHAT_API_BASE", fake.base)
    get_settings.cache_clear()
    forget_tokens()
    cache.forget_memory()  # QR codes of an earlier fake
    yield fake
    fake.stop()
    get_settings.cache_clear()
    forget_tokens()
    cache.forget_memory()
