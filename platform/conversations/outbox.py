"""The outbox: every reply is an ``outbound_message`` row first, then sent by an actor.

:func:`deliver` is the body of the ``send_outbound`` actor. It claims a queued row with one
conditional UPDATE (two runs never both send it), waits its turn at the account's rate
(:mod:`loyalchat.conversations.ratelimit`), and the recipient's too when the channel paces
sends to one person (``recipient_pace``: WhatsApp's pair rate limit), hands the message
to the channel's adapter and stores what the provider said. A refusal the provider calls temporary puts the row back in
``queued`` and asks dramatiq to try later (after ``retry_after`` when the provider gave
one); anything else, or too many attempts, is ``failed`` with the provider's code and
message, shown in the console, where staff can :func:`retry_send` it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalchat.context import require_tenant
from loyalchat.conversations.queueing import (
    enqueue_later,
    enqueue_sends,
    insert_outbound,
    runtime_config,
    set_enqueue,
)
from loyalchat.conversations.ratelimit import paced, rate_of, take_turn

# Staff sending (the console, the web chat) lives in staff.py; also reachable from here.
from loyalchat.conversations.staff import (
    WINDOW_HOURS,
    WindowClosed,
    offers_templates,
    queue_reply,
    retry_send,
    window_closed_reason,
    window_hours,
)
from loyalchat.conversations.tables import (
    Conversation,
    MessageKind,
    OutboundMessage,
    OutboundStatus,
)
from loyalchat.extensions.channels import (
    Capability,
    ChannelAdapter,
    ChannelError,
    Choice,
    RecipientPace,
    get_channels,
)
from loyalchat.extensions.channels import OutboundMessage as Message
from loyalchat.media import store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import scoped_raw, scoped_select
from loyalchat.settings import get_settings
from loyalchat.tasks import claims

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8
ERROR_MAX_CHARS = 2000
TEMPLATE_PARAM_MAX = 1000

# Later rows of a conversation wait for earlier ones (a text, then its coupon's QR code):
# they look again after ORDER_WAIT_MS per message ahead of them, at most MAX_ORDER_WAIT_MS.
# A flat 250 ms had every waiting row of a paced chat (48 replies to one person, WhatsApp:
# one every 6 s past the burst) look four times a second: thousands of runs a second
# crowded out the inbox (bench/channels.py's drain fell from 186 to 16 events/s).
ORDER_WAIT_MS = 250
MAX_ORDER_WAIT_MS = 10_000
# The longest a send sleeps in its worker for the recipient's turn; a longer wait goes
# back on the queue for then. One person's messages leave one at a time, so a paced chat
# (WhatsApp: one every 6 s past a burst) would otherwise hold a worker thread per chat.
RECIPIENT_SLEEP_MAX = 2.0

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
    ahead = await _ahead(outbound_id)
    if ahead and await enqueue_later(outbound_id, min(ORDER_WAIT_MS * ahead, MAX_ORDER_WAIT_MS)):
        return "waiting"
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
    account = f"{kind}:{require_tenant()}"
    if not await _recipient_turn(outbound_id, account, message.to, adapter):
        return "waiting"
    try:
        async with paced(account, rate_of(config)):
            result = await adapter.send(message, config)
    except ChannelError as exc:
        if exc.reason == "window_closed":
            return await _send_template(outbound_id, row, message, adapter, config, exc, account)
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


async def _ahead(outbound_id: int) -> int:
    """How many earlier messages of the same conversation are still on their way (queued or
    sending, and not left behind by a dead worker), counted up to 40: sends of one
    conversation keep their order even with many worker threads."""
    stale = datetime.now(UTC) - timedelta(seconds=get_settings().sweep_after_seconds)
    rows = await scoped_raw(
        OutboundMessage,
        "SELECT count(*) AS n FROM (SELECT 1 FROM outbound_message o JOIN outbound_message e"
        " ON e.tenant = o.tenant AND e.conversation = o.conversation AND e.id < o.id"
        " WHERE o.tenant = {tenant} AND o.id = {} AND o.status = 'queued'"
        " AND e.status IN ('queued', 'sending') AND e.updated_at > {} LIMIT 40) AS ahead",
        outbound_id,
        stale,
    )
    return int(rows[0]["n"]) if rows else 0


def recipient_pace(adapter: ChannelAdapter) -> RecipientPace | None:
    """The adapter's ``recipient_pace`` (optional, see ``ChannelAdapter``) when usable."""
    pace = getattr(adapter, "recipient_pace", None)
    if isinstance(pace, RecipientPace) and pace.per_second > 0 and pace.burst >= 1:
        return pace
    return None


async def _recipient_turn(outbound_id: int, account: str, to: str, adapter: ChannelAdapter) -> bool:
    """Wait for the recipient's token when the channel paces sends to one person (a burst
    of ``burst`` goes at once); False when the wait is long: the row went back to
    ``queued``, its claim not counted as an attempt, and its send is queued for then."""
    pace = recipient_pace(adapter)
    if pace is None:
        return True
    key = f"{account}:to:{to}"
    wait = await take_turn(key, pace.per_second, pace.burst, max_wait=RECIPIENT_SLEEP_MAX)
    if wait > RECIPIENT_SLEEP_MAX:
        await _unclaim(outbound_id)
        log.info("send %s: %.1f s to its recipient's turn, queued for then", outbound_id, wait)
        if await enqueue_later(outbound_id, int(wait * 1000) + 1):
            return False
        # No queue to come back through (a process without the actor): wait here.
        wait = await take_turn(key, pace.per_second, pace.burst, max_wait=-1)
        if await _claim(outbound_id) is None:
            return False
    if wait > 0:
        await asyncio.sleep(wait)
    return True


async def _unclaim(outbound_id: int) -> None:
    """Back to ``queued`` as it was before :func:`_claim` (the attempt not spent)."""
    values = {
        OutboundMessage.status: OutboundStatus.queued.value,
        OutboundMessage.attempts: OutboundMessage.attempts - 1,
    }
    await claims.update_held(OutboundMessage, outbound_id, OutboundStatus.sending.value, values)


async def _claim(outbound_id: int) -> dict[str, Any] | None:
    return await claims.claim(
        OutboundMessage,
        outbound_id,
        ready=OutboundStatus.queued.value,
        working=OutboundStatus.sending.value,
        returning=OutboundMessage.all_columns(),
    )


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
    account: str,
) -> str:
    """Outside the window: the shop's approved template, once, carrying the text (a wallet
    link, a coupon) as its parameter; no template set, or a channel with no templates
    (WeChat: the customer must write first) -> failed, saying so."""
    template = config.get("template_name", "") if offers_templates(adapter) else ""
    if not template:
        kind = adapter.kind
        reason = window_closed_reason(kind, adapter, window_hours(kind, adapter))
        return await _fail(outbound_id, closed.code or "window_closed", f"{reason} ({closed})")
    text = " ".join((row["text"] or "").split())[:TEMPLATE_PARAM_MAX]
    fallback = Message(
        to=message.to,
        key=message.key,
        template=template,
        template_language=config.get("template_language", "") or "en",
        template_params=(text,) if text else (),
    )
    try:
        async with paced(account, rate_of(config)):
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
    values: dict[Any, Any] = {
        OutboundMessage.status: status.value,
        OutboundMessage.error_code: (code or "")[:64],
        OutboundMessage.error: (error or "")[:ERROR_MAX_CHARS],
    }
    if provider_id is not None:
        values[OutboundMessage.provider_id] = provider_id[:255]
        values[OutboundMessage.sent_at] = datetime.now(UTC)
    if kind is not None:
        values[OutboundMessage.kind] = kind.value
    await claims.update_held(OutboundMessage, outbound_id, OutboundStatus.sending.value, values)


__all__ = [
    "MAX_SEND_ATTEMPTS",
    "WINDOW_HOURS",
    "RetryLater",
    "WindowClosed",
    "deliver",
    "enqueue_sends",
    "insert_outbound",
    "queue_reply",
    "retry_send",
    "runtime_config",
    "set_enqueue",
    "window_hours",
]
