"""The demo shop's last month in its chats: customers joining on WhatsApp, WeChat and the
web chat, sending receipt photos, redeeming rewards.

Everything goes through the product's own paths, the clock set back to each day
(time_machine, as :mod:`loyalchat.commands.demo_loyalty` does): each chat message is an
inbox event handled by the channels' inbound handler (the bot joins the customer and
answers), each photo a receipt taken by :func:`loyalchat.receipts.service.receive` and
read, checked and decided by :func:`loyalchat.receipts.pipeline.process` with the real
OCR engine. So the dashboard, the review queue and the conversations show what a shop
sees after a month: receipts credited, refused (another shop's, a copy of one already
used, an old one) and waiting for the staff or for the member.

The work a worker would do later is done here, in order, under the day's clock: the
queues are muted while it runs (nothing would consume them in this process). A web chat
photo comes in as the web chat's own upload does (stored, then an image event); the
WhatsApp and WeChat accounts are made up, so their photos cannot be downloaded from Meta
or Tencent: they are stored and handed to ``receive`` as the inbound handler would, and
the replies to them are marked sent (a web chat reply is really sent: it stays here).

Seeded once: a second ``loyalchat demo`` finds the first customer's conversation and adds
nothing. Sixteen receipts, fifteen photos read by the OCR engine (a second or two each on
2 cores): the copy reuses the reading of the photo it copies.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from loyalchat import db
from loyalchat.conversations import queueing
from loyalchat.conversations.events import to_payload
from loyalchat.conversations.inbound import register_channel_handlers
from loyalchat.conversations.outbox import deliver
from loyalchat.conversations.tables import Conversation, OutboundMessage, OutboundStatus
from loyalchat.domain import DomainError
from loyalchat.extensions.channels import EventKind, InboundEvent
from loyalchat.inbox import service as inbox
from loyalchat.media import store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.receipts import pipeline
from loyalchat.receipts import service as receipts
from loyalchat.receipts.reading.reader import ReceiptReading
from loyalchat.receipts.readout import read_photo
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.receipts.tables import Receipt
from loyalchat.rewards import service as rewards
from loyalchat.scoping import scoped_select, scoped_update
from loyalchat.tenants.service import current_tenant
from loyalchat.tools.demo_receipt import HISTORY_LOOKS, draw_demo_receipt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Customer:
    channel: str  # "whatsapp", "wechat", "webchat"
    sender: str  # wa_id, openid, web chat device id
    name: str = ""  # the chat profile's name


CUSTOMERS = {
    "kayan": Customer("whatsapp", "85291110001", "Chan Ka Yan"),
    "lee": Customer("whatsapp", "85291110002", "Lee Chi Keung"),
    "wing": Customer("whatsapp", "85291110003", "何詠詩"),
    "ming": Customer("wechat", "o6_demo_history_ming0001", "小明"),
    "amy": Customer("wechat", "o6_demo_history_amy00002", "Amy"),
    "web1": Customer("webchat", "demo-history-device-0001"),
    "web2": Customer("webchat", "demo-history-device-0002"),
}
FIRST = "kayan"  # their conversation marks the history as seeded


@dataclass(frozen=True)
class Photo:
    """A receipt photo: its total, printed ``printed_before`` days before it is sent."""

    total: str
    printed_before: int = 0
    shop: str = "demo"
    paid: bool = True  # no payment line: the total is read less surely (the bot asks)
    seed: int = 0  # the photo, and its look: chosen so no two look alike (distance >= 40)


# (days ago, hour, minute, customer, what, detail); oldest first. What the month shows:
# receipts credited on each channel, another shop's and an old one refused, a copy of a
# used receipt refused, a big bill for the staff, a total the member is asked to confirm,
# and rewards redeemed with the points.
STEPS: tuple[tuple[int, int, int, str, str, Any], ...] = (
    (29, 10, 5, "kayan", "join", "JOIN demo-cafe"),
    (29, 12, 41, "kayan", "photo", Photo("86.50", seed=1)),
    (27, 11, 0, "ming", "join", ""),
    (27, 13, 12, "ming", "photo", Photo("123.40", seed=2)),
    (25, 9, 30, "web1", "join", "JOIN demo-cafe"),
    (25, 9, 36, "web1", "photo", Photo("58.00", seed=3)),
    (22, 15, 0, "lee", "join", "JOIN demo-cafe"),
    (22, 15, 4, "lee", "photo", Photo("342.80", seed=4)),
    (20, 12, 2, "amy", "join", ""),
    (20, 12, 15, "amy", "photo", Photo("88.50", shop="other", seed=5)),
    (18, 10, 20, "kayan", "photo", Photo("164.00", seed=6)),
    (15, 16, 0, "wing", "join", "JOIN demo-cafe"),
    (15, 16, 3, "wing", "photo", Photo("72.00", printed_before=12, seed=7)),
    (14, 11, 30, "lee", "redeem", "coffee"),
    (12, 14, 10, "web2", "join", "JOIN demo-cafe"),
    (12, 14, 12, "web2", "photo", Photo("97.00", seed=8)),
    (10, 19, 5, "wing", "photo", Photo("1280.00", seed=9)),
    (8, 15, 45, "kayan", "redeem", "coffee"),
    (7, 13, 30, "ming", "photo", Photo("212.60", seed=10)),
    (6, 13, 50, "web2", "copy", (7, "ming")),  # the photo ming sent a day before
    (5, 12, 25, "amy", "photo", Photo("76.00", seed=11)),
    (3, 17, 40, "lee", "photo", Photo("145.20", seed=12)),
    (2, 10, 15, "web1", "photo", Photo("66.00", seed=14)),
    (2, 10, 16, "web1", "text", "積分"),
    (1, 16, 20, "ming", "redeem", "discount"),
    (0, 0, 0, "kayan", "photo", Photo("96.50", paid=False, seed=14)),
    (0, 0, 0, "wing", "photo", Photo("118.00", seed=21)),
)
REWARDS = {"coffee": "Free coffee", "discount": "HK$20 off"}  # English names (demo_loyalty)


async def ensure_demo_history() -> bool:
    """Seed the current (demo) tenant's month of chats once; True when it seeded."""
    first = CUSTOMERS[FIRST]
    seeded = (
        await scoped_select(Conversation, Conversation.id)
        .where((Conversation.channel == first.channel) & (Conversation.sender == first.sender))
        .first()
    )
    if seeded is not None:
        return False
    tz = ZoneInfo((await current_tenant()).timezone)
    register_channel_handlers(current_plugin_manager())  # as the app and the worker do
    month = _Month(tz)
    with _queues_muted(), warnings.catch_warnings():
        # Piccolo's note that SQLite has no ILIKE (a LIKE does the same for ASCII) would
        # land among the credentials the demo prints.
        warnings.filterwarnings("ignore", message=".*SQLite doesn't support ILIKE")
        for days, hour, minute, who, what, detail in STEPS:
            with _at(days, hour, minute, tz):
                await month.step(days, who, what, detail)
    return True


def _at(days: int, hour: int, minute: int, tz: ZoneInfo) -> contextlib.AbstractContextManager[Any]:
    """The clock at ``hour:minute`` (shop time) ``days`` ago; today: the real time."""
    if days <= 0:
        return contextlib.nullcontext()
    day = datetime.now(tz).date() - timedelta(days=days)
    return time_machine.travel(datetime.combine(day, time(hour, minute), tzinfo=tz), tick=True)


class _Month:
    """The history's state as it runs: customers' conversations and members, photos."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.events = 0
        self.photos: dict[tuple[int, str], bytes] = {}
        self.readings: dict[str, ReceiptReading] = {}  # by media key
        self.rewards: dict[str, int] = {}

    async def step(self, days: int, who: str, what: str, detail: Any) -> None:
        customer = CUSTOMERS[who]
        if what == "join":
            if customer.channel == "wechat":
                await self._event(customer, EventKind.follow)
            else:
                await self._event(customer, EventKind.text, text=detail)
        elif what == "text":
            await self._event(customer, EventKind.text, text=detail)
        elif what == "photo":
            now = datetime.now(self.tz)
            paid_at = max(now - timedelta(minutes=7), now.replace(hour=0, minute=0))
            data = draw_demo_receipt(
                detail.total,
                now.date() - timedelta(days=detail.printed_before),
                at=paid_at.time().replace(second=0, microsecond=0),
                shop=detail.shop,
                paid=detail.paid,
                look=HISTORY_LOOKS[detail.seed % len(HISTORY_LOOKS)],
                photo_seed=detail.seed,
            )
            await self._photo(customer, data)
            self.photos[(days, who)] = data
        elif what == "copy":
            await self._photo(customer, self.photos[detail])
        elif what == "redeem":
            member_id = await self._member(customer)
            reward_id = await self._reward(REWARDS[detail])
            try:
                await rewards.redeem(
                    member_id, reward_id, key=f"demo:history:{who}:{detail}:{days}"
                )
            except DomainError as exc:  # fewer points than planned (a receipt in review)
                log.warning("demo redemption of %s by %s skipped: %s", detail, who, exc)
        await self._send_replies(customer)

    async def _event(self, customer: Customer, kind: EventKind, **fields: Any) -> None:
        """One message from the customer, stored in the inbox and handled now."""
        self.events += 1
        provider_id = f"demo-history-{customer.channel}-{self.events}"
        event = InboundEvent(
            kind=kind,
            provider_id=provider_id,
            sender=customer.sender,
            profile_name=customer.name,
            phone=customer.sender if customer.channel == "whatsapp" else "",
            at=datetime.now(UTC),
            **fields,
        )
        async with db.write_transaction():  # one statement of its own (no batching)
            event_id, _ = await inbox.record_inbound(
                customer.channel, provider_id, to_payload(event)
            )
        outcome = await inbox.process_event(event_id)
        if outcome != "done":
            failed = await inbox.get_event(event_id)
            raise RuntimeError(f"demo message {provider_id}: {outcome} {failed}")

    async def _photo(self, customer: Customer, data: bytes) -> int:
        """The photo as a receipt, taken through the pipeline; its id."""
        key = await store.save(data, kind="chat_image")
        if customer.channel == "webchat":
            # As the web chat's upload: the photo stored, then an image event.
            await self._event(customer, EventKind.image, media_id=key)
            conversation_id = await self._conversation(customer)
            found = (
                await scoped_select(Receipt, Receipt.id)
                .where((Receipt.conversation == conversation_id) & (Receipt.media_key == key))
                .order_by(Receipt.id, ascending=False)
                .first()
            )
            if found is None:  # the receipts plugin is off: the bot answered the photo
                return 0
            receipt_id = found["id"]
        else:
            # A caption first: the chat's reply window opens as the photo's message would.
            await self._event(customer, EventKind.text, text="收據 receipt")
            receipt_id = await receipts.receive(
                media_key=key,
                member_id=await self._member(customer),
                conversation_id=await self._conversation(customer),
                channel=customer.channel,
            )
        # Read once per photo (the pipeline would read it the same way): the copy reuses
        # the reading of the photo it copies.
        if key not in self.readings:
            rules = await get_receipt_settings()
            self.readings[key] = await read_photo(data, rules.profile, current_plugin_manager())
        await pipeline.process(receipt_id, reading=self.readings[key])
        return receipt_id

    async def _conversation(self, customer: Customer) -> int:
        row = (
            await scoped_select(Conversation, Conversation.id)
            .where(
                (Conversation.channel == customer.channel)
                & (Conversation.sender == customer.sender)
            )
            .first()
        )
        if row is None:
            raise RuntimeError(f"no {customer.channel} conversation with {customer.sender}")
        return row["id"]

    async def _member(self, customer: Customer) -> int:
        row = (
            await scoped_select(Conversation, Conversation.member)
            .where(
                (Conversation.channel == customer.channel)
                & (Conversation.sender == customer.sender)
            )
            .first()
        )
        if row is None or row["member"] is None:
            raise RuntimeError(f"{customer.sender} on {customer.channel} has not joined")
        return row["member"]

    async def _reward(self, english_name: str) -> int:
        if english_name not in self.rewards:
            for reward in (await rewards.list_rewards(limit=200)).items:
                self.rewards.setdefault(reward.name.get("en", ""), reward.id)
        return self.rewards[english_name]

    async def _send_replies(self, customer: Customer) -> None:
        """What the bot and the pipeline queued for this customer, sent now: the web chat
        really (nothing leaves the server); the made-up WhatsApp and WeChat accounts cannot
        send, so their replies are marked sent as they would have been."""
        conversation_id = await self._conversation(customer)
        queued = (
            await scoped_select(OutboundMessage, OutboundMessage.id, OutboundMessage.key)
            .where(
                (OutboundMessage.conversation == conversation_id)
                & (OutboundMessage.status == OutboundStatus.queued.value)
            )
            .order_by(OutboundMessage.id)
        )
        for row in queued:
            if customer.channel == "webchat":
                await deliver(row["id"])
                continue
            now = datetime.now(UTC)
            await scoped_update(
                OutboundMessage,
                {
                    OutboundMessage.status: OutboundStatus.sent.value,
                    OutboundMessage.provider_id: f"demo:{_short(row['key'])}",
                    OutboundMessage.sent_at: now,
                    OutboundMessage.updated_at: now,
                },
                use_auto_update=False,
            ).where(
                (OutboundMessage.id == row["id"])
                & (OutboundMessage.status == OutboundStatus.queued.value)
            )


def _short(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _nothing(*_: Any) -> None:
    """A queue that keeps nothing: the history does the work itself, in order."""


@contextlib.contextmanager
def _queues_muted() -> Iterator[None]:
    """No queue messages while the history runs (no worker here would take them, and the
    sweeper would send them again later): the inbox, the outbox and the receipts."""
    saved_inbox = (inbox._enqueue, inbox._enqueue_many)
    saved_outbox = (queueing._enqueue, queueing._enqueue_later)
    saved_receipts = receipts._enqueue
    inbox.set_enqueue(_nothing, _nothing)
    queueing.set_enqueue(_nothing, None)
    receipts.set_enqueue(_nothing)
    try:
        yield
    finally:
        inbox.set_enqueue(*saved_inbox)  # type: ignore[arg-type]
        queueing.set_enqueue(*saved_outbox)  # type: ignore[arg-type]
        receipts.set_enqueue(saved_receipts)


__all__ = ["CUSTOMERS", "STEPS", "ensure_demo_history"]
