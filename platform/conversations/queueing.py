"""Putting rows in the outbox and their sends on the queue: shared by the inbound handler
(the bot's replies), staff sending and the send actor, so none of them imports another.

``set_enqueue`` is called by ``conversations.tasks`` when ``import_actors()`` imports it,
in every process that writes outbox rows (web app, worker, tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import dramatiq.errors
import redis.exceptions

from loyalchat.conversations.tables import OutboundMessage
from loyalchat.extensions.channels import get_channels
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import scoped_insert, scoped_select
from loyalchat.settings import get_settings

log = logging.getLogger(__name__)

_enqueue: Callable[[int], object] | None = None
_enqueue_later: Callable[[int, int], object] | None = None


def set_enqueue(
    send: Callable[[int], object], send_later: Callable[[int, int], object] | None = None
) -> None:
    """Queue a send with ``send(outbound_id)`` and, to wait its turn behind an earlier
    message, ``send_later(outbound_id, delay_ms)`` (the ``send_outbound`` actor's; tasks.py)."""
    global _enqueue, _enqueue_later
    _enqueue, _enqueue_later = send, send_later


async def enqueue_sends(ids: Sequence[int]) -> None:
    """Queue the send of each row; an unreachable queue leaves them to the sweeper."""
    if _enqueue is None:
        if ids:
            log.warning("no outbox actor in this process; the sweeper will send %s", list(ids))
        return
    for outbound_id in ids:
        try:
            await asyncio.to_thread(_enqueue, outbound_id)
        except (dramatiq.errors.BrokerError, redis.exceptions.RedisError, OSError):
            log.warning("could not enqueue send %s; the sweeper will", outbound_id, exc_info=True)


async def runtime_config(kind: str) -> dict[str, str]:
    """The current tenant's settings of channel ``kind`` as its adapter reads them. A shop
    on the platform's own Meta app has no token of its own: the platform's is used."""
    from loyalchat.tenants.plugin_settings import runtime_settings

    pm = current_plugin_manager()
    config = dict(await runtime_settings(get_channels(pm).owner(kind), pm))
    if kind == "whatsapp" and not config.get("access_token"):
        config["access_token"] = get_settings().whatsapp_access_token.get_secret_value()
    return config


async def insert_outbound(row: OutboundMessage) -> tuple[int, bool]:
    """Insert ``row`` unless its key exists; returns ``(id, created)``."""
    inserted = await (
        scoped_insert(OutboundMessage, row)
        .on_conflict(action="DO NOTHING")
        .returning(OutboundMessage.id)
    )
    if inserted:
        return inserted[0]["id"], True
    existing = (
        await scoped_select(OutboundMessage, OutboundMessage.id)
        .where(OutboundMessage.key == row.key)
        .first()
    )
    if existing is None:  # pragma: no cover - the conflict implies the row
        raise RuntimeError(f"outbound key {row.key!r} conflicted but is not there")
    return existing["id"], False


async def enqueue_later(outbound_id: int, delay_ms: int) -> bool:
    """Queue the send again after ``delay_ms``; False when this process cannot."""
    if _enqueue_later is None:
        return False
    try:
        await asyncio.to_thread(_enqueue_later, outbound_id, delay_ms)
    except (dramatiq.errors.BrokerError, redis.exceptions.RedisError, OSError):
        log.warning("could not re-queue send %s; the sweeper will", outbound_id, exc_info=True)
    return True
