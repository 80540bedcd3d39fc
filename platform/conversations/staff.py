"""What staff (and the web chat) put in the outbox: a reply, and a failed send again.

A staff message is an ``outbound_message`` row like the bot's, sent by the same actor
(:mod:`loyalchat.conversations.outbox`), so it is paced, retried and shown the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from loyalchat.conversations.queueing import enqueue_sends, insert_outbound, runtime_config
from loyalchat.conversations.tables import (
    Conversation,
    MessageKind,
    OutboundMessage,
    OutboundStatus,
)
from loyalchat.domain import DomainError, NotFound
from loyalchat.extensions.channels import ChannelAdapter, Choice, get_channels
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import new_row, scoped_select, scoped_update

# The customer-service window per channel (hours since the person last wrote); a channel
# not listed has none. An adapter may say otherwise with a ``window_hours`` attribute.
WINDOW_HOURS = {"whatsapp": 24, "wechat": 48}


class WindowClosed(DomainError):
    """The person last wrote too long ago for this channel to carry a free-form message."""

    code = "window_closed"
    status = 409


def window_hours(kind: str, adapter: ChannelAdapter | None) -> float | None:
    hours = getattr(adapter, "window_hours", None)
    return float(hours) if isinstance(hours, int | float) else WINDOW_HOURS.get(kind)


def offers_templates(adapter: ChannelAdapter | None) -> bool:
    """Whether the channel can carry an approved template outside its window (WhatsApp's
    ``template_name`` setting); WeChat and the web chat have none."""
    fields = getattr(adapter, "config_fields", ()) or ()
    return any(getattr(field, "name", "") == "template_name" for field in fields)


def window_closed_reason(kind: str, adapter: ChannelAdapter | None, hours: float | None) -> str:
    """Why nothing free-form can be sent now, true for the channel."""
    span = f"{hours:g}-hour" if hours is not None else "customer-service"
    if offers_templates(adapter):
        return (
            f"outside {kind}'s {span} window (only an approved template can be sent now) "
            "and no approved template is set in the channel's settings"
        )
    return (
        f"outside {kind}'s {span} window: {kind} has no message templates, so nothing can "
        "be sent until the customer writes first"
    )


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
        has_template = offers_templates(adapter) and bool(
            (await runtime_config(kind)).get("template_name")
        )
        if not has_template:
            raise WindowClosed(
                f"the customer last wrote more than {hours:g} hours ago; "
                + window_closed_reason(kind, adapter, hours),
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
