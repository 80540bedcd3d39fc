"""Small readings of a raw ASGI request, for code that runs outside Litestar's router
(the Idempotency-Key middleware, the webhook fast path)."""

from __future__ import annotations

from typing import Any


def scope_header(scope: Any, name: bytes) -> str | None:
    """The first header ``name`` (lower-case bytes, as ASGI servers give them), or None."""
    for header, value in scope.get("headers", []):
        if header == name:
            return value.decode("latin-1")
    return None


async def read_body(receive: Any, limit: int) -> bytes | None:
    """The whole request body, read from ``receive``; None as soon as it passes ``limit``
    bytes. A client that went away leaves what had arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
