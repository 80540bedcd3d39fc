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
