"""Chat channels (WhatsApp, WeChat, LINE...): what a ``register_channels`` plugin hands over.

An adapter is stateless across tenants: every call gets the tenant's ``config`` (the
plugin's runtime settings, secrets decrypted) and nothing else about the tenant.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import pluggy

from loyalchat.extensions.base import InboundRequest, Registry, collect
from loyalchat.extensions.settings_fields import SettingField

__all__ = [
    "Capability",
    "ChannelAdapter",
    "ChannelError",
    "Choice",
    "EventKind",
    "InboundEvent",
    "InboundRequest",
    "Media",
    "OutboundMessage",
    "ParsedRequest",
    "RecipientPace",
    "SendResult",
    "get_channels",
]


class Capability(enum.StrEnum):
    """What a channel can do; the host never asks for what an adapter does not declare."""

    text = "text"
    image = "image"  # send images (coupon QR)
    choices = "choices"  # send a list or buttons and receive the choice
    receive_images = "receive_images"  # members can send receipt photos
    broadcast = "broadcast"  # message members outside a conversation window
    parametric_qr = "parametric_qr"  # join_link() needs an API call (WeChat follow QR)
    # A text message shows ``<a href="https://...">title</a>`` as a link the member taps
    # (WeChat). The bot then sends a list of rewards as numbered text, each line a link to
    # that reward in the member's wallet, instead of ``choices`` (which carry no links).
    text_links = "text_links"
    # ``InboundEvent.phone`` is the sender's number as the PROVIDER verified it (WhatsApp:
    # the wa_id, checked by SMS when the account was made). A first contact is then linked
    # to the shop's member recorded with that phone instead of becoming a new member
    # (``members.service.join_by_identity``). Never declare it for a phone a person typed.
    verified_phone = "verified_phone"


class EventKind(enum.StrEnum):
    text = "text"
    image = "image"
    choice = "choice"  # reply to a choice list or button
    follow = "follow"  # with ``scene`` = the join code from the QR, when there is one
    unfollow = "unfollow"
    delivery = "delivery"  # status of a message we sent (``status``, ``ref``)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One thing that happened on the channel, as parsed from a webhook."""

    kind: EventKind
    provider_id: str  # unique per provider message/event: the idempotency key
    sender: str  # the channel's user id (wa_id, openid...)
    text: str = ""
    media_id: str = ""  # pass to fetch_media()
    choice_id: str = ""
    scene: str = ""
    status: str = ""  # delivery: sent / delivered / read / failed
    ref: str = ""  # delivery: provider id of the message it is about
    profile_name: str = ""
    # The sender's phone (E.164 digits) when the channel gives it; trusted to find an
    # existing member only when the adapter declares ``Capability.verified_phone``.
    phone: str = ""
    account: str = ""  # the provider account it was sent to (phone_number_id, gh_ id)
    at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """Events in a webhook, and what to answer it with (a handshake echo, "success")."""

    events: list[InboundEvent]
    reply: bytes = b""
    content_type: str = "text/plain"
    status_code: int = 200


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    to: str  # the channel's user id
    text: str = ""
    image: bytes | None = None
    image_type: str = "image/png"
    choices: tuple[Choice, ...] = ()
    key: str = ""  # our outbox id, for providers that deduplicate sends
    # An approved template (WhatsApp, outside the 24-hour window): name, language, params.
    template: str = ""
    template_language: str = ""
    template_params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_id: str  # the provider's message id; delivery events refer to it


@dataclass(frozen=True, slots=True)
class RecipientPace:
    """How fast the provider lets one account send to one person: ``per_second`` on
    average, up to ``burst`` at once (WhatsApp's pair rate limit). The outbox spends a
    token of a bucket per (account, recipient) before each send, refilled at
    ``per_second`` up to ``burst``."""

    per_second: float
    burst: int


@dataclass(frozen=True, slots=True)
class Media:
    data: bytes
    content_type: str


class ChannelError(Exception):
    """A provider call failed; ``retryable`` says whether trying again may help.

    ``code`` is the provider's error code as a string ("131047", "45015"...) and
    ``reason`` what the host acts on: ``"rate"`` (slow down, ``retry_after`` seconds),
    ``"window_closed"`` (outside the customer-service window: a template or nothing),
    ``"auth"`` (bad token or secret), ``"recipient"`` (cannot reach this person), or "".
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        code: str = "",
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.reason = reason
        self.retry_after = retry_after


@runtime_checkable
class ChannelAdapter(Protocol):
    """A channel's adapter. Optional attributes the host reads when present (an adapter
    without them works): ``window_hours`` (float, the customer-service window; the host
    knows WhatsApp's and WeChat's) and ``recipient_pace`` (a :class:`RecipientPace`: the
    outbox paces sends to one person at it; none: only the account's rate applies)."""

    kind: str  # "whatsapp", "wechat"... unique across plugins; stored on conversations
    label: str  # shown to merchants
    config_fields: Sequence[SettingField]  # per-tenant settings it reads from ``config``
    capabilities: frozenset[Capability]

    async def verify(self, request: InboundRequest, config: Mapping[str, Any]) -> bool:
        """True when the request really comes from the provider for this tenant."""
        ...

    async def parse(self, request: InboundRequest, config: Mapping[str, Any]) -> ParsedRequest:
        """Events in a verified request, never raised for what the channel sends: a message
        type the adapter does not know becomes a text event with ``text=""`` and
        ``raw={"unsupported": "<type>"}`` (stored, and answered politely by the bot)."""
        ...

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
        """Send one message; raise :class:`ChannelError` on failure."""
        ...

    async def fetch_media(self, media_id: str, config: Mapping[str, Any]) -> Media:
        """The bytes of an inbound image."""
        ...

    async def join_link(self, join_code: str, config: Mapping[str, Any]) -> str:
        """What the store QR encodes: opens the chat with ``join_code`` (prefilled or scene)."""
        ...


def get_channels(pm: pluggy.PluginManager) -> Registry[ChannelAdapter]:
    """Every registered channel adapter, by ``kind``."""
    return collect(pm, "register_channels", ChannelAdapter, what="channel", key="kind")
