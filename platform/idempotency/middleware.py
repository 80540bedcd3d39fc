"""Honour ``Idempotency-Key`` on every POST under ``/api/v1``: controllers know nothing of it.

Runs after the principal is resolved (a key is per tenant and credential) and before the
handler. The route's guards run first, so a caller whose role the route refuses gets the
guard's 401/403 and nothing is claimed, stored or replayed for it (DESIGN.md 5.6). The
request body is read here (it is part of the fingerprint) and handed on unchanged; the
handler's response is held back until it is stored, so a client that retries the moment
it gets an answer finds it. Responses that are the caller's to fix before retrying
(malformed body, wrong key or role, throttling) and our own failures (5xx) are not kept.
A route marked :data:`SECRET_RESPONSE` (a new API key) has only its ``id`` kept: a
replay gets 409 ``secret_not_replayable`` instead of the secret.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from loyalchat.api_errors import encode_payload, error_payload
from loyalchat.asgi import read_body, scope_header
from loyalchat.context import current_tenant_id
from loyalchat.i18n import locale_of
from loyalchat.idempotency import service
from loyalchat.tenants.auth import Principal, principal_of

HEADER = b"idempotency-key"
REPLAYED_HEADER = b"idempotent-replayed"
# Where provide_service_key() finds the key a service call of this request uses.
STATE_KEY = "idempotency_service_key"
MAX_BODY = 1024 * 1024  # API bodies are small JSON documents
# Status codes that say "fix the request and send it again": not stored.
_NOT_KEPT = frozenset({400, 401, 403, 405, 408, 413, 415, 429})
# Route ``opt`` of handlers whose success response carries a secret (shown once).
SECRET_RESPONSE = {"response_has_secret": True}


def _is_api_post(scope: Scope) -> bool:
    return scope.get("method") == "POST" and scope["path"].startswith("/api/v1/")


async def provide_service_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(
            name="Idempotency-Key",
            description=(
                "Send the same key again (same body) after a timeout or a network error: "
                "you get the first response again, with `Idempotent-Replayed: true`, and "
                "nothing is done twice. Up to 255 characters; kept for 24 hours."
            ),
            examples=[Example(value="pos-7-20260512-000123")],
            min_length=1,
            max_length=service.MAX_KEY_LENGTH,
            # Printable ASCII (service.valid_key()); no spaces at the ends, which HTTP drops.
            pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
        ),
    ] = None,
) -> str | None:
    """Dependency: the idempotency key a service call of this request uses, or None.

    ``api:<Idempotency-Key>:<fingerprint>`` when the client sent the header (set by the
    middleware); the handler falls back to its natural key (``purchase:<reference>``)
    or a fresh token.
    """
    return request.scope.get("state", {}).get(STATE_KEY)


# For the controllers' ``dependencies``: documents the header on the routes that use it.
IDEMPOTENCY_DEPENDENCIES = {"service_key": Provide(provide_service_key)}
# How a handler asks for it: ``service_key: ServiceKey``.
ServiceKey = NamedDependency[str | None]
# For POST routes' ``response_headers``: documents the header a replay carries.
REPLAY_HEADERS = [
    ResponseHeader(
        name="Idempotent-Replayed",
        description="`true` when this is the stored response to an earlier request with "
        "the same Idempotency-Key.",
        documentation_only=True,
    )
]


class IdempotencyMiddleware(ASGIMiddleware):
    """Store the first response per (tenant, credential, Idempotency-Key); replay it for
    repeats by the same credential, after the route's guards have let it in."""

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: not _is_api_post(scope))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        raw_key = scope_header(scope, HEADER)
        connection: ASGIConnection = ASGIConnection(scope, receive)
        credential = credential_of(principal_of(connection))
        if raw_key is None or current_tenant_id() is None or credential is None:
            # No key, or no valid API key (the guard answers 401): nothing to remember.
            await next_app(scope, receive, send)
            return
        # Authority before anything is claimed or replayed: a failing guard raises its
        # 401/403 here, answered by the exception handlers as if the handler had run.
        await scope["route_handler"].authorize_connection(connection)
        key = raw_key.strip()
        if not service.valid_key(key):
            await _send_error(connection, send, 400, "invalid_idempotency_key")
            return
        body = await read_body(receive, MAX_BODY)
        if body is None:
            await _send_error(connection, send, 413, "too_large")
            return
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope.get("query_string") else ""
        )
        fingerprint = service.fingerprint(scope["method"], path, body)
        scope.setdefault("state", {})[STATE_KEY] = service.service_key(key, fingerprint, credential)

        claimed = await service.claim(key, credential, fingerprint)
        if claimed.outcome is service.Claim.mismatch:
            await _send_error(connection, send, 422, "idempotency_key_reused")
        elif claimed.outcome is service.Claim.in_progress:
            await _send_error(connection, send, 409, "request_in_progress")
        elif claimed.outcome is service.Claim.replay:
            assert claimed.response is not None
            if _has_secret(scope) and claimed.response.status_code < 300:
                await _send_secret_gone(connection, send, claimed.response.body)
            else:
                await _send_stored(send, claimed.response)
        else:
            replaying = _replaying(body, receive)
            await self._run_first(key, credential, scope, replaying, send, next_app)

    async def _run_first(
        self,
        key: str,
        credential: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
    ) -> None:
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        try:
            await next_app(scope, receive, hold)
        except BaseException:
            await service.release(key, credential)
            raise
        status, content_type, body = _response_of(messages)
        if status >= 500 or status in _NOT_KEPT or not _is_text(body):
            await service.release(key, credential)
        else:
            if _has_secret(scope) and status < 300:
                body = _without_secret(body)
            await service.finish(key, credential, status, body, content_type)
        for message in messages:
            await send(message)


def credential_of(principal: Principal) -> str | None:
    """Who a stored response belongs to: ``api_key:<id>``, ``staff:<id>``, or None."""
    if principal.api_key is not None:
        return f"api_key:{principal.api_key.key_id}"
    if principal.user is not None:
        return f"staff:{principal.user.id}"
    return None


def _has_secret(scope: Scope) -> bool:
    return bool(scope["route_handler"].opt.get("response_has_secret"))


def _without_secret(body: bytes) -> bytes:
    """What is kept of a response with a secret: its ``id`` only (that it was made)."""
    return msgspec.json.encode({"id": _id_of(body)} if _id_of(body) is not None else {})


def _id_of(body: bytes) -> int | None:
    try:
        found: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    value = found.get("id") if isinstance(found, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the handler the body we already read, then the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _response_of(messages: list[Message]) -> tuple[int, str, bytes]:
    status, content_type, chunks = 500, "application/json", []
    for message in messages:
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
    return status, content_type, b"".join(chunks)


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _send_stored(send: Send, stored: service.StoredResponse) -> None:
    await _send(
        send, stored.status_code, stored.body, stored.content_type, [(REPLAYED_HEADER, b"true")]
    )


async def _send_secret_gone(connection: ASGIConnection, send: Send, kept: bytes) -> None:
    """The replay of a response that held a secret: what was made, not the secret."""
    made = _id_of(kept)
    detail = "the first request with this Idempotency-Key created the object; its secret "
    detail += "was shown only then: revoke it and create a new one if it was lost"
    extra = {"id": made} if made is not None else None
    await _send_error(connection, send, 409, "secret_not_replayable", detail=detail, extra=extra)


async def _send_error(
    connection: ASGIConnection,
    send: Send,
    status: int,
    code: str,
    *,
    detail: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    body = encode_payload(error_payload(connection, status, code, detail=detail, extra=extra))
    language = locale_of(connection).encode()
    await _send(send, status, body, "application/json", [(b"content-language", language)])


async def _send(
    send: Send, status: int, body: bytes, content_type: str, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
