"""Shared by the bot's tests: a conversation row, a Turn as the core builds one, and a
way to say something to the bot (a fresh inbound event each time, or the same one again)."""

from __future__ import annotations

import itertools
from typing import Any

from loyalchat.bot.engine import Reply, Turn, respond
from loyalchat.context import Actor
from loyalchat.conversations.tables import Conversation
from loyalchat.extensions.channels import Capability, EventKind, InboundEvent
from loyalchat.scoping import new_row, save_row, scoped_select

CHAT = Actor("system", label="chat")
# WhatsApp: lists and buttons; WeChat: choices too (its adapter numbers them in the text);
# a channel without choices (a third party's SMS, say): the bot numbers them itself.
WHATSAPP = frozenset(
    {Capability.text, Capability.image, Capability.choices, Capability.receive_images}
)
WECHAT = WHATSAPP | {Capability.parametric_qr}
TEXT_ONLY = frozenset({Capability.text})
_ids = itertools.count(1000)


async def open_conversation(channel: str = "whatsapp", sender: str = "85291234567") -> int:
    """A conversation of the current tenant, as the core opens one on first contact."""
    row = new_row(Conversation, channel=channel, sender=sender)
    await save_row(row)
    return row.id


async def conversation_row(conversation_id: int) -> dict[str, Any]:
    return (
        await scoped_select(Conversation)
        .where(Conversation.id == conversation_id)
        .output(load_json=True)
        .first()
    )


def make_turn(
    conversation_id: int,
    text: str = "",
    *,
    kind: EventKind = EventKind.text,
    channel: str = "whatsapp",
    sender: str = "85291234567",
    phone: str = "",
    choice_id: str = "",
    scene: str = "",
    raw: dict[str, Any] | None = None,
    capabilities: frozenset[Capability] = WHATSAPP,
    receipt_taken: bool = False,
    media_key: str = "",
    event_id: int | None = None,
) -> Turn:
    """A Turn for a new inbound event (``event_id`` and the provider id are fresh)."""
    number = event_id if event_id is not None else next(_ids)
    event = InboundEvent(
        kind=kind,
        provider_id=f"wamid.{number}",
        sender=sender,
        text=text,
        choice_id=choice_id,
        scene=scene,
        phone=phone,
        raw=raw or {},
    )
    return Turn(
        conversation_id=conversation_id,
        channel=channel,
        capabilities=capabilities,
        event=event,
        inbound_event_id=number,
        media_key=media_key,
        receipt_taken=receipt_taken,
    )


async def say(conversation_id: int, text: str = "", **kwargs: Any) -> list[Reply]:
    """Send ``text`` (or a choice, a follow...) as a new event; the bot's replies."""
    return await respond(make_turn(conversation_id, text, **kwargs))


def joined(replies: list[Reply]) -> str:
    """All reply texts, one after another."""
    return "\n".join(reply.text for reply in replies)
