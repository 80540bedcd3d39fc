"""Conversations on chat channels: who talks to the shop on which channel, the thread of
what they sent and what was answered, the outbox, the merchant's auto-replies.

The database is the source of truth: an inbound message is an ``inbound_event`` row first
(:mod:`loyalchat.inbox`), then an :class:`InboundMessage` of its conversation; every reply
is an :class:`OutboundMessage` row before any send. :class:`ChannelAccount` is a platform
table: which tenant a provider account (a WhatsApp phone number id, a WeChat original id)
belongs to, for webhooks to the platform's own app.
"""

from __future__ import annotations

import enum

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from loyalchat.members.tables import Member
from loyalchat.tenants.tables import Tenant


class Conversation(Table, tablename="conversation"):
    """One person on one channel of a tenant; unique (tenant, channel, sender)."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=32)  # the adapter's kind: "whatsapp", "wechat", "webchat"...
    sender = Varchar(length=128)  # the channel's user id (BSUID / wa_id, openid, device id)
    member = ForeignKey(references=Member, null=True, default=None, on_delete=OnDelete.set_null)
    profile_name = Varchar(length=200, default="")  # as the channel gave it
    locale = Varchar(length=10, default="")  # the language the bot answers in; "" = not known
    # What the bot waits for ("confirm reward 12", "your name"), until state_expires_at.
    state = JSON(default="{}")
    state_expires_at = Timestamptz(null=True, default=None)
    last_inbound_at = Timestamptz(null=True, default=None)  # the customer-service window
    opted_out = Boolean(default=False)  # STOP: no broadcasts on this channel
    opted_out_at = Timestamptz(null=True, default=None)  # when STOP (or START) was said
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class MessageKind(enum.StrEnum):
    text = "text"
    image = "image"
    choice = "choice"  # inbound: a tap on a list row or button
    choices = "choices"  # outbound: text with a list or buttons
    template = "template"  # outbound: an approved template (outside the window)
    event = "event"  # inbound: follow, unfollow, a menu click
    unknown = "unknown"  # inbound: a type the adapter does not read (answered politely)


class InboundMessage(Table, tablename="inbound_message"):
    """What a person sent, as the thread shows it (the inbox event may be purged later).
    Unique (tenant, conversation, provider_id): processing an event twice adds one row."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    conversation = ForeignKey(references=Conversation, null=False, on_delete=OnDelete.cascade)
    provider_id = Varchar(length=255)  # the provider's message id
    kind = Varchar(length=16, default=MessageKind.text.value)
    text = Text(default="")
    media_key = Varchar(length=80, default="")  # media store key of an image
    choice_id = Varchar(length=128, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class OutboundStatus(enum.StrEnum):
    queued = "queued"  # stored, a send is (or will be) queued
    sending = "sending"
    sent = "sent"  # the provider accepted it
    delivered = "delivered"
    read = "read"
    failed = "failed"  # final: the provider refused it or attempts ran out


# A status webhook moves a message forward only; failed is final from any state.
OUTBOUND_ORDER = {
    OutboundStatus.queued.value: 0,
    OutboundStatus.sending.value: 1,
    OutboundStatus.sent.value: 2,
    OutboundStatus.delivered.value: 3,
    OutboundStatus.read.value: 4,
}


class OutboundMessage(Table, tablename="outbound_message"):
    """A reply (bot or staff), stored before it is sent: the outbox and the thread's answers.
    Unique (tenant, key): the bot's replies to one inbound event are stored once."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    conversation = ForeignKey(references=Conversation, null=False, on_delete=OnDelete.cascade)
    key = Varchar(length=200)  # "reply:<inbound event id>:<n>", "staff:<form token>"...
    kind = Varchar(length=16, default=MessageKind.text.value)
    text = Text(default="")
    media_key = Varchar(length=80, default="")  # an image to send (a coupon's QR code)
    choices = JSON(default="[]")  # [{"id", "title", "description"}]
    sent_by = Varchar(length=80, default="bot")  # "bot" or the staff actor's ref
    status = Varchar(length=16, default=OutboundStatus.queued.value, index=True)
    provider_id = Varchar(length=255, default="", index=True)  # for delivery webhooks
    error_code = Varchar(length=64, default="")
    error = Text(default="")
    attempts = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)
    sent_at = Timestamptz(null=True, default=None)


class ReplyMatch(enum.StrEnum):
    exact = "exact"
    contains = "contains"
    regex = "regex"  # run with a time limit
    welcome = "welcome"  # the greeting after a member joins (no pattern)
    default = "default"  # when nothing else answered (no pattern)


class AutoReply(Table, tablename="auto_reply"):
    """A merchant's keyword rule, welcome or default reply; highest priority first."""

    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    match = Varchar(length=16, default=ReplyMatch.exact.value)
    pattern = Varchar(length=200, default="")
    reply = JSON(default="{}")  # {zh-Hant, zh-Hans, en}
    language = Varchar(length=10, default="")  # only for members in this language; "" any
    priority = Integer(default=0)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ChannelAccount(Table, tablename="channel_account"):
    """PLATFORM TABLE: the tenant behind a provider account, unique (channel, account_id),
    so a webhook to the platform's own app (many numbers) reaches the right tenant.
    Written only when a tenant saves its channel settings."""

    channel = Varchar(length=32)
    account_id = Varchar(length=128)  # WhatsApp phone_number_id, WeChat original id (gh_...)
    tenant = ForeignKey(references=Tenant, null=False, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
