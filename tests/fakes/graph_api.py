"""A fake of Meta's Graph API for WhatsApp: a real HTTP server on a free local port.

It speaks the documented endpoints (``../shared/research/channels.md`` A6, A7, A10):

* ``POST /<version>/<phone_number_id>/messages``: checks the bearer token and the
  documented limits (text 4096, list rows 10 with titles of 24 and descriptions of 72,
  buttons 3 with titles of 20...: :mod:`tests.fakes.graph_limits`), records the body,
  answers a fresh ``wamid``; or the Graph error queued with :meth:`FakeGraphApi.fail_next`
  (130429, 131047, 190, HTTP 500...).
* ``POST /<version>/<phone_number_id>/media``: a multipart upload; answers a media id
  (:meth:`FakeGraphApi.forget_uploads` loses them all, as Meta does after 30 days).
* ``GET /<version>/<media_id>``: the media's ``url``, ``mime_type``, ``file_size``; the
  URL (``/media-download/<id>``) needs the same bearer token.

The ``graph_api`` fixture starts one per test and points ``LOYALCHAT_WHATSAPP_API_BASE`` at
it; use it from another test module with ``from tests.fakes.graph_api import graph_api``.
Webhook bodies (signed) come from :mod:`tests.fakes.whatsapp_webhooks`, re-exported here.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes.graph_limits import send_problem
from tests.fakes.whatsapp_webhooks import *  # noqa: F403 (the webhook builders, for one import)
from tests.fakes.whatsapp_webhooks import __all__ as _webhook_names

__all__ = [
    "ACCESS_TOKEN",
    "FakeGraphApi",
    "GraphRequest",
    "SentMessage",
    "StoredMedia",
    "graph_api",
    *_webhook_names,
]

ACCESS_TOKEN = "EAAtest-access-token"
_VERSION = re.compile(r"v\d+\.\d+")
_DEFAULT_STATUS = {0: 401, 190: 401, 10: 403, 131057: 500, 131000: 500, 131016: 503, 1: 500}


@dataclass(frozen=True, slots=True)
class GraphRequest:
    """Every request the fake received, as received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the fake accepted: the JSON body exactly as sent, and what it answered."""

    phone_number_id: str
    version: str
    body: dict[str, Any]
    token: str
    wamid: str
    at: float = 0.0  # when the request arrived (time.monotonic()): pacing tests read it


@dataclass(slots=True)
class StoredMedia:
    data: bytes
    mime_type: str
    phone_number_id: str = ""  # "" : any number may fetch it
    declared_size: int | None = None  # what GET /<media_id> states (default: the real size)
    chunked: bool = False  # download without Content-Length (the size shows only on reading)
    filename: str = ""
    download_status: int = 200  # e.g. 404: the URL expired (after 5 minutes at Meta)


@dataclass(slots=True)
class _Failure:
    code: int | None
    http_status: int
    message: str
    retry_after: str | None


@dataclass
class FakeGraphApi:
    """The fake's state; thread-safe (the server answers from its own threads)."""

    tokens: set[str] = field(default_factory=lambda: {ACCESS_TOKEN})
    requests: list[GraphRequest] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)  # media ids uploaded, in order
    base_url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: deque[_Failure] = deque()
        self._ids = itertools.count(secrets.randbelow(10**9) * 10**6 + 10**15)
        self._server: ThreadingHTTPServer | None = None

    # -- test controls -------------------------------------------------------------------

    def fail_next(
        self,
        code: int | None,
        *,
        times: int = 1,
        http_status: int | None = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> None:
        """The next ``times`` sends answer Graph error ``code`` (None: only ``http_status``,
        e.g. a bare 429 or 502), with a ``Retry-After`` header when given."""
        status = http_status or _DEFAULT_STATUS.get(code or 0, 400)
        text = message or f"(#{code}) fake error" if code is not None else "fake error"
        after = None if retry_after is None else str(retry_after)
        with self._lock:
            self._failures.extend(_Failure(code, status, text, after) for _ in range(times))

    def add_media(
        self,
        data: bytes,
        mime_type: str = "image/jpeg",
        *,
        phone_number_id: str = "",
        declared_size: int | None = None,
        chunked: bool = False,
    ) -> str:
        """Media a member sent (a receipt photo); returns its media id for the webhook."""
        media_id = str(next(self._ids))
        with self._lock:
            self.media[media_id] = StoredMedia(
                data, mime_type, phone_number_id, declared_size, chunked
            )
        return media_id

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the accepted sends, in order."""
        with self._lock:
            return [item.body for item in self.sent]

    def requests_to(self, path_part: str) -> list[GraphRequest]:
        with self._lock:
            return [r for r in self.requests if path_part in r.path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.sent.clear()
            self._failures.clear()

    def forget_uploads(self) -> None:
        """Lose every image uploaded so far, as Meta does after 30 days: a send naming one
        is refused (131009, ``image.id``) until it is uploaded again."""
        with self._lock:
            for media_id in self.uploads:
                self.media.pop(media_id, None)

    # -- server ---------------------------------------------------------------------------

    def start(self) -> FakeGraphApi:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGraphApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- endpoints (called from the server's threads) --------------------------------------

    def handle(self, req: GraphRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(req)
        parts = [p for p in req.path.split("/") if p]
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _error(401, 190, "Invalid OAuth access token.")
        if req.method == "GET" and len(parts) == 2 and parts[0] == "media-download":
            return self._download(parts[1])
        if len(parts) >= 2 and _VERSION.fullmatch(parts[0]):
            if req.method == "POST" and len(parts) == 3 and parts[2] == "messages":
                return self._send(parts[0], parts[1], req.body, token)
            if req.method == "POST" and len(parts) == 3 and parts[2] == "media":
                return self._upload(parts[1], req)
            if req.method == "GET" and len(parts) == 2:
                return self._media_info(parts[1], req.query.get("phone_number_id", ""))
        return _error(400, 100, "Unsupported request: the fake does not know this path.")

    def _send(self, version: str, pnid: str, raw: bytes, token: str) -> tuple[int, dict, bytes]:
        arrived = time.monotonic()
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            if failure.code is None:
                return failure.http_status, headers, b'{"error":{"message":"fake"}}'
            status, _, body = _error(failure.http_status, failure.code, failure.message)
            return status, headers, body
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, 100, "Invalid JSON")
        problem = send_problem(body, self.media) if isinstance(body, dict) else "not an object"
        if problem:
            return _error(400, 131009, f"Parameter value is not valid: {problem}")
        wamid = "wamid." + uuid.uuid4().hex
        with self._lock:
            self.sent.append(SentMessage(pnid, version, body, token, wamid, arrived))
        recipient = body.get("to") or body.get("recipient")
        contact = {"input": recipient}
        if body.get("to"):
            contact["wa_id"] = "".join(ch for ch in recipient if ch.isdigit())
        else:
            contact["user_id"] = recipient
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": wamid}],
        }
        return _json(200, answer)

    def _upload(self, pnid: str, req: GraphRequest) -> tuple[int, dict, bytes]:
        content_type = req.headers.get("content-type", "")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + req.body
        )
        fields: dict[str, Any] = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                fields[str(name)] = part
        file = fields.get("file")
        product = fields.get("messaging_product")
        if file is None or product is None or product.get_content().strip() != "whatsapp":
            return _error(400, 100, "messaging_product and file are required")
        data = file.get_payload(decode=True) or b""
        mime = file.get_content_type()
        if mime not in ("image/png", "image/jpeg"):
            return _error(400, 131053, "Media upload error: unsupported type")
        media_id = self.add_media(data, mime, phone_number_id=pnid)
        with self._lock:
            self.media[media_id].filename = str(file.get_filename() or "")
            self.uploads.append(media_id)
        return _json(200, {"id": media_id})

    def _media_info(self, media_id: str, pnid: str) -> tuple[int, dict, bytes]:
        item = self.media.get(media_id)
        if item is None or (pnid and item.phone_number_id and pnid != item.phone_number_id):
            return _error(400, 100, "Unsupported get request: no such media for this number")
        size = len(item.data) if item.declared_size is None else item.declared_size
        return _json(
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/media-download/{media_id}",
                "mime_type": item.mime_type,
                "sha256": "fake",
                "file_size": str(size),
                "id": media_id,
            },
        )

    def _download(self, media_id: str) -> tuple[int, dict, bytes]:
        item = self.media.get(media_id)
        if item is None or item.download_status != 200:
            status = 404 if item is None else item.download_status
            return status, {"Content-Type": "text/plain"}, b"not found"
        headers = {"Content-Type": item.mime_type}
        if item.chunked:
            headers["X-Fake-No-Length"] = "1"
        return 200, headers, item.data


def _json(status: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return _json(
        status,
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "Afake" + uuid.uuid4().hex[:16],
            }
        },
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 50 * 1024 * 1024)) if length else b""
        req = GraphRequest(
            method=method,
            path=url.path,
            query={k: v[0] for k, v in parse_qs(url.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        status, headers, payload = self.server.fake.handle(req)  # type: ignore[attr-defined]
        self.send_response(status)
        no_length = headers.pop("X-Fake-No-Length", None)
        for name, value in headers.items():
            self.send_header(name, value)
        if no_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            for start in range(0, len(payload), 64 * 1024):
                self.wfile.write(payload[start : start + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading (a size cap)


@pytest.fixture
def graph_api() -> Iterator[FakeGraphApi]:
    """A running fake Graph API; ``LOYALCHAT_WHATSAPP_API_BASE`` points at it meanwhile."""
    from loyalchat import cache
    from loyalchat.settings import get_settings

    fake = FakeGraphApi().start()
    before = os.environ.get("LOYALCHAT_WHATSAPP_API_BASE")
    os.environ["LOYALCHAT_WHATSAPP_API_BASE"] = fake.base_url
    get_settings.cache_clear()
    cache.forget_memory()  # media ids of an earlier fake
    try:
        yield fake
    finally:
        fake.stop()
        cache.forget_memory()
        if before is None:
            os.environ.pop("LOYALCHAT_WHATSAPP_API_BASE", None)
        else:
            os.environ["LOYALCHAT_WHATSAPP_API_BASE"] = before
        get_settings.cache_clear()
