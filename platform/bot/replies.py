"""What the bot is given and what it answers: :class:`Turn` and :class:`Reply`.

The core (``loyalchat.conversations``) builds a ``Turn`` per inbound event and stores each
``Reply`` as an outbound message (key ``reply:<inbound event id>:<n>``). Defined here so
the bot's modules share them; :mod:`loyalchat.bot.engine` is where callers import them.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalchat.extensions.channels import Capability, Choice, InboundEvent


@dataclass(frozen=True, slots=True)
class Turn:
    """One inbound event of a conversation, as the core hands it to the bot."""

    conversation_id: int
    channel: str  # adapter kind
    capabilities: frozenset[Capability]
    event: InboundEvent  # text / image / choice / follow / unfollow (never delivery)
    inbound_event_id: int  # the inbox row: idempotency keys derive from it / event.provider_id
    media_key: str = ""  # an image already stored
    receipt_taken: bool = False  # a receipt_received hook took the image (the bot says nothing)


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back: text, optionally with choices or an image."""

    text: str = ""
    choices: tuple[Choice, ...] = ()
    image_key: str = ""  # media store key of a PNG (a coupon's QR code)
