"""Webhooks answered before Litestar's router: the same answers, less framework each.

A provider's webhook needs none of what the router and route middleware give a page or an
API call (sessions, CSRF, the console's principal, dependency injection, response
objects), and under a provider's load they were a third of a webhook's time
(bench/channels.py). :func:`webhooks_first` wraps the app's ASGI handler: a GET or POST
whose path is exactly a webhook route (``/hooks/<kind>/<slug>``, ``/hooks/whatsapp``) is
answered here by :mod:`loyalchat.conversations.webhooks`' own functions; anything else (a
trailing slash, another method, a multipart body) goes on to Litestar and its registered
routes, which call the same functions.

What the stack did for these requests is done here too: the input guard's checks
(:func:`loyalchat.inputguard.check_target` and ``check_body``: a NUL or absurdly deep
JSON is a 400), the body cap (413), and never a 500 (an unexpected error is a 503, which
a provider retries). The access log and the security headers wrap this handler, as they
wrap Litestar's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pluggy
import structlog

from loyalchat.asgi import read_body, scope_header
from loyalchat.conversations.webhooks import (
    MAX_BODY_BYTES,
    TRY_LATER,
    Answer,
    Reader,
    answer_platform,
    answer_shop,
)
from loyalchat.domain import DomainError
from loyalchat.extensions.base import InboundRequest
from loyalchat.inputguard import check_body, check_target

log = structlog.get_logger(__name__)

ASGIApp = Any  # (scope, receive, send) -> None
TOO_LARGE = Answer(413, "request body too large")


def webhooks_first(pm: pluggy.PluginManager, app: ASGIApp) -> ASGIApp:
    """``app`` with the exact webhook routes answered before it."""

    async def handle(scope: dict, receive: Any, send: Any) -> None:
        route = _route(scope)
        if route is None:
            await app(scope, receive, send)
            return
        try:
            answer = await _answer(route, scope, receive, pm)
        except Exception:
            log.error("webhook_error", path=scope["path"][:200], exc_info=True)
            answer = TRY_LATER
        await _send(send, answer)

    return handle


def _route(scope: dict) -> tuple[str, ...] | None:
    """``("platform",)``, ``("shop", kind, slug)`` or None (for Litestar to answer)."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "POST"):
        return None
    path: str = scope["path"]
    if not path.startswith("/hooks/"):
        return None
    parts = path.split("/")
    if len(parts) == 3 and parts[2] == "whatsapp":
        route: tuple[str, ...] = ("platform",)
    elif len(parts) == 4 and parts[2] and parts[3]:
        route = ("shop", parts[2], parts[3])
    else:
        return None
    if _header(scope, b"content-type").lower().startswith("multipart/"):
        return None  # the input guard's streaming multipart check lives in Litestar's stack
    return route


async def _answer(route: tuple[str, ...], scope: dict, receive: Any, pm) -> Answer:
    try:
        check_target(scope["path"], scope.get("query_string", b""))
    except DomainError as exc:
        return Answer(400, str(exc))
    read = _reader(scope, receive)
    if route[0] == "platform":
        return await answer_platform(pm, read)
    return await answer_shop(route[1], route[2], pm, read)


def _reader(scope: dict, receive: Any) -> Reader:
    async def read() -> InboundRequest | Answer:
        body = await _body(scope, receive)
        if isinstance(body, Answer):
            return body
        kind = _header(scope, b"content-type").partition(";")[0].strip().lower()
        try:
            check_body(kind, body)
        except DomainError as exc:
            return Answer(400, str(exc))
        query = scope.get("query_string", b"").decode("latin-1")
        return InboundRequest(
            method=scope["method"],
            path=scope["path"],
            headers={
                name.decode("latin-1").lower(): v.decode("latin-1") for name, v in scope["headers"]
            },
            query=dict(parse_qsl(query, keep_blank_values=True, errors="replace")),
            body=body,
        )

    return read


async def _body(scope: dict, receive: Any) -> bytes | Answer:
    declared = _header(scope, b"content-length")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return TOO_LARGE
    body = await read_body(receive, MAX_BODY_BYTES)
    return TOO_LARGE if body is None else body


def _header(scope: dict, name: bytes) -> str:
    return scope_header(scope, name) or ""


async def _send(send: Any, answer: Answer) -> None:
    body = answer.body.encode() if isinstance(answer.body, str) else answer.body
    content_type = answer.content_type
    if content_type.startswith("text/") and "charset" not in content_type:
        content_type += "; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
