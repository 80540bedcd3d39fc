"""Hooks for chat channels (WhatsApp, WeChat, LINE, Telegram...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from loyalchat.hookimpl import hookspec

if TYPE_CHECKING:
    from loyalchat.extensions.channels import ChannelAdapter


@hookspec
def register_channels(register: Callable[[ChannelAdapter], None]) -> None:
    """Called when the host collects channels (app start, webhook routing, the console).

    Call ``register(adapter)`` once per channel. ``adapter`` implements
    :class:`loyalchat.extensions.channels.ChannelAdapter`: a unique ``kind``, its
    ``config_fields`` and ``capabilities``, and async ``verify``, ``parse``, ``send``,
    ``fetch_media`` and ``join_link``. Return nothing.
    """


@hookspec(firstresult=True)
def receipt_received(
    tenant_id: int,
    member_id: int | None,
    conversation_id: int,
    media_key: str,
    inbound_message_id: int,
) -> object | None:
    """Called when a member sends a picture on a chat channel, after its bytes are stored
    (``media_key`` in the tenant's media store) and before the bot answers; runs in the
    tenant's context inside the worker that processes the message, and may run again for
    the same ``inbound_message_id`` (a retried webhook): make it idempotent on that id.

    Return ``None`` to leave the picture to others (the bot then sends its holding reply),
    or anything else (a receipt id, ``True``) to take it: the first plugin that returns a
    value wins and the bot says nothing about the picture. An awaitable is awaited.
    """
