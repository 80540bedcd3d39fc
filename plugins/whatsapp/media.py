"""Images we send, uploaded once: the media id of each (number, image) is kept and reused.

A coupon's QR code is shown again and again (the chat's "yes" replayed, "my coupons"):
each time the same bytes. Meta keeps an uploaded image 30 days
(``../shared/research/channels.md`` A6), so its id is kept 29 days per phone number id and
SHA-256 of the bytes, in :mod:`loyalchat.cache` (Redis when configured, else this
process). Should Meta refuse a kept id anyway (deleted, expired early), the send is made
once more with the image uploaded again (:func:`refused_media`).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from loyalchat import cache
from loyalchat.extensions.channels import ChannelError
from loyalchat.plugins.whatsapp.graph import Graph

__all__ = ["KEEP_SECONDS", "drop", "image_id", "refused_media"]

KEEP_SECONDS = 29 * 24 * 60 * 60  # a day short of Meta's 30
# What a send naming a media id Meta no longer has may answer: an invalid parameter
# (100, 131009: Meta's own answer for an unknown id) or a media error (131052, 131053).
MEDIA_REFUSALS = {"100", "131009", "131052", "131053"}


def _key(graph: Graph, data: bytes) -> str:
    # The API host keeps a staging fake's ids apart from Meta's.
    host = urlsplit(graph.base).netloc
    digest = hashlib.sha256(data).hexdigest()
    return f"whatsapp:media:{host}:{graph.phone_number_id}:{digest}"


async def image_id(
    graph: Graph, data: bytes, content_type: str, *, fresh: bool = False
) -> tuple[str, bool]:
    """The media id of ``data`` on this number, and whether it was kept from before
    (``fresh``: upload it again whatever was kept)."""
    key = _key(graph, data)
    if not fresh and (kept := await cache.get(key)):
        return kept, True
    media_id = await graph.upload(data, content_type)
    await cache.put(key, media_id, KEEP_SECONDS)
    return media_id, False


async def drop(graph: Graph, data: bytes, media_id: str) -> None:
    """Forget ``media_id`` for ``data`` (Meta refused it)."""
    await cache.drop(_key(graph, data), media_id)


def refused_media(exc: ChannelError) -> bool:
    """Whether a send's failure may be Meta no longer having the image we named."""
    return exc.code in MEDIA_REFUSALS
