"""Serving stored media over HTTP: the right Content-Type, private caching, ETag = key.

The caller decides who may see a key (staff of the tenant, a member's wallet for the
catalogue's pictures, an API key for a reward's picture) and sets the tenant; this module
only reads the current tenant's store, so another tenant's key is simply not found.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Response
from litestar.connection import ASGIConnection

from loyalchat.media import store

# A key names its bytes for ever: a URL with the key in it may be cached a long time.
IMMUTABLE = "private, max-age=31536000, immutable"
# A URL that names a reward, not bytes: its picture can change, so check every time.
REVALIDATE = "private, no-cache"


def _matches(connection: ASGIConnection, etag: str) -> bool:
    given = connection.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in given.split(",")}
    return etag in tags or "*" in tags


async def media_response(
    connection: ASGIConnection,
    key: str,
    *,
    cache_control: str = IMMUTABLE,
    headers: Mapping[str, str] | None = None,
) -> Response[bytes]:
    """The current tenant's file ``key`` (304 when the client holds it already).

    Raises :class:`~loyalchat.media.store.MediaNotFound` for a key the tenant lacks,
    a malformed key included.
    """
    if not await store.exists(key):
        raise store.MediaNotFound("no such media file")
    etag = f'"{key}"'
    sent = {
        **(headers or {}),
        "cache-control": cache_control,
        "etag": etag,
        "x-content-type-options": "nosniff",
    }
    if _matches(connection, etag):
        return Response(b"", status_code=304, headers=sent)
    data = await store.read(key)
    return Response(data, media_type=store.media_type_of(data), headers=sent)
