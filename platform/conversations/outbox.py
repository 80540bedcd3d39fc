"""The outbox: every reply is an ``outbound_message`` row first, then sent by an actor.

:func:`deliver` is the body of the ``send_outbound`` actor. It claims a queued row with one
conditional UPDATE (two runs never both send it), waits its turn at the account's rate
(:mod:`loyalchat.conversations.ratelimit`), hands the message to the channel's adapter and
stores what the provider said. A refusal the provider calls temporary puts the row back in
``queued`` and asks dramatiq to try later (after ``retry_after`` when the provider gave
one); anything else, or too many attempts, is ``failed`` with the provider's code and
message, shown in the console, where staff can :func:`retry_send` it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq.errors
import redis.exceptions

from loyalchat.context import require_tenant
from loyalchat.conversations.ratelimit import rate_of, wait_turn
from loyalchat.conversations.tables import (
    Conversation,
    MessageKind,
    OutboundMessage,
    OutboundStatus,
)
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.channels import (
    Capability,
    ChannelAdapter,
    ChannelError,
    Choice,
    get_channels,
)
from loyalchat.extensions.channels import OutboundMessage as Message
from loyalchat.media import store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update
from loyalchat.settings import get_settings

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8
ERROR_MAX_CHARS = 2000
# The customer-service window per channel (hours since the person last wrote); a channel
# not listed has none. An adapter may say otherwise with a ``window_hours`` attribute.
WINDOW_HOURS = {"whatsapp": 24, "wechat": 48}
TEMPLATE_PARAM_MAX = 1000

_enqueue: Callable[[int], object] | None = None


class WindowClosed(DomainError):
    """The person last wrote too long ago for this channel to carry a free-form message."""

    code = "window_closed"
    status = 409


def set_enqueue(send: Callable[[int], object]) -> None:
    """Queue a send with ``send(outbound_id)`` (``send_outbound.send``; see tasks.py)."""
    global _enqueue
    _enqueue = send


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


def window_hours(kind: str, adapter: ChannelAdapter | None) -> float | None:
    hours = getattr(adapter, "window_hours", None)
    return float(hours) if isinstance(hours, int | float) else WINDOW_HOURS.get(kind)


async def runtime_config(kind: str) -> dict[str, str]:
    """The current tenant's settings of channel ``kind`` as its adapter reads them. A shop
    on the platform's own Meta app has no token of its own: the platform's is used."""
    from loyalchat.tenants.plugin_settings import runtime_settings

    pm = current_plugin_manager()
    config = dict(await runtime_settings(get_channels(pm).owner(kind), pm))
    if kind == "whatsapp" and not config.get("access_token"):
        config["access_token"] = get_settings().whatsapp_access_token.get_secret_value()
    return config


# -- staff -----------------------------------------------------------------------------


async def queue_reply(
    conversation_id: int,
    text: str,
    *,
    key: str,
    sent_by: str,
    choices: Sequence[Choice] | Sequence[dict[str, str]] = (),
    media_key: str = "",
) -> int:
    """Store a staff (or web chat) message and queue its send; returns the row's id.

    ``key`` makes a resubmitted form store nothing twice (the same id comes back).
    Refused with :class:`WindowClosed` outside the channel's customer-service window,
    unless the shop set an approved template the send can fall back to.
    """
    conversation = (
        await scoped_select(Conversation).where(Conversation.id == conversation_id).first()
    )
    if conversation is None:
        raise NotFound("no such conversation")
    kind = conversation["channel"]
    adapter = get_channels(current_plugin_manager()).get(kind)
    hours = window_hours(kind, adapter)
    last = conversation["last_inbound_at"]
    if hours is not None and (last is None or last < datetime.now(UTC) - timedelta(hours=hours)):
        has_template = adapter is not None and bool(
            (await runtime_config(kind)).get("template_name")
        )
        if not has_template:
            raise WindowClosed(
                f"the customer last wrote more than {hours:g} hours ago: {kind} only carries "
                "an approved template now, and none is set in the channel's settings",
                hours=hours,
            )
    rows = [_choice_dict(choice) for choice in choices]
    row = new_row(
        OutboundMessage,
        conversation=conversation_id,
        key=key[:200],
        kind=(
            MessageKind.choices if rows else MessageKind.image if media_key else MessageKind.text
        ),
        text=text,
        media_key=media_key,
        choices=json.dumps(rows),
        sent_by=sent_by[:80],
    )
    outbound_id, created = await insert_outbound(row)
    if created:
        await enqueue_sends([outbound_id])
    return outbound_id


def _choice_dict(choice: Choice | dict[str, str]) -> dict[str, str]:
    if isinstance(choice, Choice):
        return {"id": choice.id, "title": choice.title, "description": choice.description}
    return {
        "id": str(choice.get("id", "")),
        "title": str(choice.get("title", "")),
        "description": str(choice.get("description", "")),
    }


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


async def retry_send(outbound_id: int) -> bool:
    """Staff: send a failed message again (failed -> queued, re-queued). False when the
    row is not the current tenant's or not failed."""
    moved = (
        await scoped_update(
            OutboundMessage,
            {
                OutboundMessage.status: OutboundStatus.queued.value,
                OutboundMessage.attempts: 0,
                OutboundMessage.updated_at: datetime.now(UTC),
            },
            use_auto_update=False,
        )
        .where(
            (OutboundMessage.id == outbound_id)
            & (OutboundMessage.status == OutboundStatus.failed.value)
        )
        .returning(OutboundMessage.id)
    )
    if moved:
        await enqueue_sends([outbound_id])
    return bool(moved)


# -- the actor's body ------------------------------------------------------------------


class RetryLater(Exception):
    """The send failed for now; ``delay_ms`` (or dramatiq's backoff) until the next try."""

    def __init__(self, message: str, delay_ms: int | None = None) -> None:
        super().__init__(message)
        self.delay_ms = delay_ms


async def deliver(outbound_id: int) -> str:
    """Send one queued message of the current tenant; returns what happened:
    ``"sent"``, ``"failed"``, or a no-op (``"not_found"``, ``"not_queued"``). Raises
    :class:`RetryLater` after putting the row back in ``queued``."""
    require_tenant()
    row = await _claim(outbound_id)
    if row is None:
        exists = await scoped_select(OutboundMessage, OutboundMessage.id).where(
            OutboundMessage.id == outbound_id
        )
        return "not_queued" if exists else "not_found"
    conversation = (
        await scoped_select(Conversation).where(Conversation.id == row["conversation"]).first()
    )
    kind = conversation["channel"]
    adapter = get_channels(current_plugin_manager()).get(kind)
    if adapter is None:
        return await _fail(outbound_id, "no_channel", f"the {kind} channel is not installed")
    try:
        config = await runtime_config(kind)
    except Exception as exc:  # the plugin was withdrawn from the shop meanwhile
        return await _fail(outbound_id, "no_channel", f"{kind}: {exc}")
    message = await _message(row, conversation["sender"], adapter)
    await wait_turn(f"{kind}:{require_tenant()}", rate_of(config))
    try:
        result = await adapter.send(message, config)
    except ChannelError as exc:
        if exc.reason == "window_closed":
            return await _send_template(outbound_id, row, message, adapter, config, exc)
        if exc.retryable and row["attempts"] < MAX_SEND_ATTEMPTS:
            delay = int(exc.retry_after * 1000) if exc.retry_after else None
            await _requeue(outbound_id, exc.code, str(exc))
            raise RetryLater(f"send {outbound_id}: {exc}", delay) from exc
        return await _fail(outbound_id, exc.code or exc.reason, str(exc))
    except Exception as exc:  # the network, a bug in a plugin: try again, then give up
        error = f"{type(exc).__name__}: {exc}"
        if row["attempts"] < MAX_SEND_ATTEMPTS:
            await _requeue(outbound_id, "", error)
            raise RetryLater(f"send {outbound_id}: {error}") from exc
        return await _fail(outbound_id, "", error)
    await _mark(outbound_id, OutboundStatus.sent, provider_id=result.provider_id)
    return OutboundStatus.sent.value


async def _claim(outbound_id: int) -> dict[str, Any] | None:
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=get_settings().sweep_after_seconds)
    claimable = (OutboundMessage.status == OutboundStatus.queued.value) | (
        (OutboundMessage.status == OutboundStatus.sending.value)
        & (OutboundMessage.updated_at < stale)
    )
    claimed = (
        await scoped_update(
            OutboundMessage,
            {
                OutboundMessage.status: OutboundStatus.sending.value,
                OutboundMessage.attempts: OutboundMessage.attempts + 1,
                OutboundMessage.updated_at: now,
            },
            use_auto_update=False,
        )
        .where((OutboundMessage.id == outbound_id) & claimable)
        .returning(*OutboundMessage.all_columns())
    )
    return claimed[0] if claimed else None


async def _message(row: dict[str, Any], to: str, adapter: ChannelAdapter) -> Message:
    image = None
    if row["media_key"] and Capability.image in adapter.capabilities:
        image = await store.read(row["media_key"])
    choices = row["choices"]
    if isinstance(choices, str | bytes):
        choices = json.loads(choices or "[]")
    return Message(
        to=to,
        text=row["text"],
        image=image,
        image_type=store.media_type_of(image) if image else "image/png",
        choices=tuple(
            Choice(str(c.get("id", "")), str(c.get("title", "")), str(c.get("description", "")))
            for c in choices or ()
            if isinstance(c, dict)
        ),
        key=row["key"],
    )


async def _send_template(
    outbound_id: int,
    row: dict[str, Any],
    message: Message,
    adapter: ChannelAdapter,
    config: dict[str, str],
    closed: ChannelError,
) -> str:
    """Outside the window: the shop's approved template, once, carrying the text (a wallet
    link, a coupon) as its parameter; no template set -> failed, saying so."""
    template = config.get("template_name", "")
    if not template:
        return await _fail(
            outbound_id,
            closed.code or "window_closed",
            "outside the customer-service window and no approved template is set "
            f"in the channel's settings ({closed})",
        )
    text = " ".join((row["text"] or "").split())[:TEMPLATE_PARAM_MAX]
    fallback = Message(
        to=message.to,
        key=message.key,
        template=template,
        template_language=config.get("template_language", "") or "en",
        template_params=(text,) if text else (),
    )
    try:
        result = await adapter.send(fallback, config)
    except ChannelError as exc:
        return await _fail(outbound_id, exc.code or exc.reason, f"template {template}: {exc}")
    await _mark(
        outbound_id, OutboundStatus.sent, provider_id=result.provider_id, kind=MessageKind.template
    )
    return OutboundStatus.sent.value


async def _requeue(outbound_id: int, code: str, error: str) -> None:
    await _mark(outbound_id, OutboundStatus.queued, code=code, error=error)


async def _fail(outbound_id: int, code: str, error: str) -> str:
    await _mark(outbound_id, OutboundStatus.failed, code=code, error=error)
    log.warning("send %s failed: %s %s", outbound_id, code, error)
    return OutboundStatus.failed.value


async def _mark(
    outbound_id: int,
    status: OutboundStatus,
    *,
    code: str = "",
    error: str = "",
    provider_id: str | None = None,
    kind: MessageKind | None = None,
) -> None:
    """Move the row on, only while this run holds it (``sending``)."""
    now = datetime.now(UTC)
    values: dict[Any, Any] = {
        OutboundMessage.status: status.value,
        OutboundMessage.error_code: (code or "")[:64],
        OutboundMessage.error: (error or "")[:ERROR_MAX_CHARS],
        OutboundMessage.updated_at: now,
    }
    if provider_id is not None:
        values[OutboundMessage.provider_id] = provider_id[:255]
        values[OutboundMessage.sent_at] = now
    if kind is not None:
        values[OutboundMessage.kind] = kind.value
    await scoped_update(OutboundMessage, values, use_auto_update=False).where(
        (OutboundMessage.id == outbound_id)
        & (OutboundMessage.status == OutboundStatus.sending.value)
    )


__all__ = [
    "MAX_SEND_ATTEMPTS",
    "RetryLater",
    "WindowClosed",
    "deliver",
    "enqueue_sends",
    "insert_outbound",
    "queue_reply",
    "retry_send",
]
