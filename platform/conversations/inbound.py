"""The inbound handler of every chat channel: a stored event becomes a thread entry and
the bot's answers become outbox rows.

:func:`handle_event` runs in the inbox actor (``loyalchat.inbox``) for source = the
adapter's kind, in the event's tenant. It may run twice for one event (a retry, the
sweeper): the conversation is found or made through its unique index, the thread entry is
unique per (conversation, provider id), each reply's key is ``reply:<event id>:<n>``, and
everything the bot and the handler write commits in one transaction or not at all.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pluggy

from loyalchat import db
from loyalchat.context import require_tenant
from loyalchat.conversations.events import from_payload, is_unsupported
from loyalchat.conversations.queueing import enqueue_sends, insert_outbound, runtime_config
from loyalchat.conversations.tables import (
    OUTBOUND_ORDER,
    Conversation,
    InboundMessage,
    MessageKind,
    OutboundMessage,
    OutboundStatus,
)
from loyalchat.extensions.channels import (
    ChannelAdapter,
    ChannelError,
    EventKind,
    InboundEvent,
    get_channels,
)
from loyalchat.inbox.service import InboundEventRow, register_inbound_handler
from loyalchat.media import images, store
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.scoping import new_row, scoped_insert, scoped_select, scoped_update

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = images.MAX_UPLOAD_BYTES  # the same cap as a picture uploaded in the console
_KINDS = {
    EventKind.text: MessageKind.text,
    EventKind.image: MessageKind.image,
    EventKind.choice: MessageKind.choice,
    EventKind.follow: MessageKind.event,
    EventKind.unfollow: MessageKind.event,
}


def register_channel_handlers(pm: pluggy.PluginManager) -> list[str]:
    """Route inbox events of every registered channel (third parties' too) to
    :func:`handle_event`; called at app and worker start. Returns the kinds."""
    kinds = list(get_channels(pm))
    for kind in kinds:
        register_inbound_handler(kind, handle_event, replace=True)
    return kinds


async def handle_event(row: InboundEventRow) -> None:
    """Process one stored channel event (the inbox handler for every channel kind)."""
    event = from_payload(row.payload)
    if event.kind == EventKind.delivery:
        await apply_delivery(event)
        return
    if not event.sender:
        log.warning("inbound event %s has no sender; nothing to answer", row.id)
        return
    pm = current_plugin_manager()
    adapter = get_channels(pm).get(row.source)
    conversation_id = await conversation_for(row.source, event.sender, phone=event.phone)
    media_key, problem = "", ""
    if event.kind == EventKind.image and adapter is not None:
        media_key, problem = await _fetch_image(row, event, adapter, conversation_id)
    async with db.write_transaction():
        message_id = await _store_message(conversation_id, event, media_key, problem)
        await _touch(conversation_id, event)
        taken = False
        if media_key:
            member_id = await _join_first(row, event, adapter, conversation_id)
            taken = await _receipt_hook(pm, conversation_id, media_key, message_id, member_id)
        replies = await _respond(row, event, adapter, conversation_id, media_key, taken)
        created = []
        for n, reply in enumerate(replies):
            outbound_id, new = await insert_outbound(_reply_row(row.id, n, conversation_id, reply))
            if new:
                created.append(outbound_id)
    await enqueue_sends(created)


async def conversation_for(channel: str, sender: str, *, phone: str = "") -> int:
    """The id of the current tenant's conversation with ``sender`` on ``channel``, made
    if new; concurrent first messages make one row (the unique index decides).

    A customer whose earlier messages came with only their phone as the sender (WhatsApp's
    wa_id) and who now also carries a business-scoped id keeps their conversation (its
    language, pending question and thread): the row keyed by ``phone`` moves to the new
    sender in one conditional UPDATE instead of a second conversation starting.
    """
    if phone and phone != sender:
        moved = await _move_to_sender(channel[:32], sender[:128], phone[:128])
        if moved is not None:
            return moved
    row = new_row(Conversation, channel=channel[:32], sender=sender[:128])
    inserted = await (
        scoped_insert(Conversation, row).on_conflict(action="DO NOTHING").returning(Conversation.id)
    )
    if inserted:
        return inserted[0]["id"]
    found = (
        await scoped_select(Conversation, Conversation.id)
        .where((Conversation.channel == channel[:32]) & (Conversation.sender == sender[:128]))
        .first()
    )
    if found is None:  # pragma: no cover - the conflict implies the row
        raise RuntimeError("conversation conflicted but is not there")
    return found["id"]


async def _move_to_sender(channel: str, sender: str, phone: str) -> int | None:
    """The id of ``sender``'s conversation: the one already there, else the one keyed by
    ``phone`` moved to ``sender``; None when there is neither (a new one is made)."""
    has_sender = Conversation.channel == channel
    existing = (
        await scoped_select(Conversation, Conversation.id)
        .where(has_sender & (Conversation.sender == sender))
        .first()
    )
    if existing is not None:
        return existing["id"]
    try:
        moved = await (
            scoped_update(Conversation, {Conversation.sender: sender}, use_auto_update=False)
            .where(has_sender & (Conversation.sender == phone))
            .returning(Conversation.id)
        )
    except Exception as exc:
        if not db.is_unique_violation(exc):
            raise
        return None  # a concurrent first message made the sender's row: found below
    return moved[0]["id"] if moved else None


async def apply_delivery(event: InboundEvent) -> int:
    """A provider's status for a message we sent moves it forward only (sent -> delivered
    -> read; failed from any state but failed, with the provider's error). Returns the
    number of rows changed (0 for an unknown message or a status that is not news)."""
    status, ref = event.status, event.ref
    if not ref:
        return 0
    values: dict[Any, Any] = {
        OutboundMessage.status: status,
        OutboundMessage.updated_at: datetime.now(UTC),
    }
    if status == OutboundStatus.failed.value:
        code = event.text.partition(":")[0]
        values[OutboundMessage.error_code] = code.strip()[:64]
        values[OutboundMessage.error] = (event.text or "failed")[:2000]
        allowed = list(OUTBOUND_ORDER)
    elif status in OUTBOUND_ORDER and OUTBOUND_ORDER[status] >= OUTBOUND_ORDER["sent"]:
        allowed = [value for value, rank in OUTBOUND_ORDER.items() if rank < OUTBOUND_ORDER[status]]
    else:
        log.info("ignoring delivery status %r for %s", status[:32], ref[:64])
        return 0
    changed = (
        await scoped_update(OutboundMessage, values, use_auto_update=False)
        .where((OutboundMessage.provider_id == ref) & OutboundMessage.status.is_in(allowed))
        .returning(OutboundMessage.id)
    )
    return len(changed)


async def _fetch_image(
    row: InboundEventRow, event: InboundEvent, adapter: ChannelAdapter, conversation_id: int
) -> tuple[str, str]:
    """The stored picture's key (``""`` and why when it could not be stored). A retry of
    an event whose picture is already on file does not download it again."""
    done = (
        await scoped_select(InboundMessage, InboundMessage.media_key)
        .where(
            (InboundMessage.conversation == conversation_id)
            & (InboundMessage.provider_id == event.provider_id)
        )
        .first()
    )
    if done and done["media_key"]:
        return done["media_key"], ""
    config = await _config(row.source)
    try:
        media = await adapter.fetch_media(event.media_id, config)
    except ChannelError as exc:
        if exc.retryable:
            raise  # the inbox tries the event again later
        log.warning("image %s of event %s unavailable: %s", event.media_id[:64], row.id, exc)
        return "", "unavailable"  # an expired or refused download: answered, not retried
    data = media.data
    if len(data) > MAX_MEDIA_BYTES:
        return "", "too_large"
    try:
        # The console upload's checks (format, pixel count, damage) in a thread; what is
        # stored is the member's own file, whose hash the receipt checks compare.
        await asyncio.to_thread(images.check_image, data, max_bytes=MAX_MEDIA_BYTES)
    except images.InvalidImage as exc:
        return "", str(exc.extra.get("reason", "not_an_image"))
    return await store.save(data, kind="chat_image"), ""


async def _config(kind: str) -> dict[str, str]:
    return await runtime_config(kind)


async def _store_message(
    conversation_id: int, event: InboundEvent, media_key: str, problem: str
) -> int:
    kind = _KINDS.get(event.kind, MessageKind.text)
    if event.kind == EventKind.text and is_unsupported(event):
        kind = MessageKind.unknown
    text = event.text
    if event.kind in (EventKind.follow, EventKind.unfollow):
        text = f"{event.kind.value} {event.scene}".strip()
    elif problem:
        text = f"[image refused: {problem}]"
    row = new_row(
        InboundMessage,
        conversation=conversation_id,
        provider_id=event.provider_id[:255],
        kind=kind.value,
        text=text,
        media_key=media_key,
        choice_id=event.choice_id[:128],
    )
    inserted = await (
        scoped_insert(InboundMessage, row)
        .on_conflict(action="DO NOTHING")
        .returning(InboundMessage.id)
    )
    if inserted:
        return inserted[0]["id"]
    found = (
        await scoped_select(InboundMessage, InboundMessage.id)
        .where(
            (InboundMessage.conversation == conversation_id)
            & (InboundMessage.provider_id == event.provider_id[:255])
        )
        .first()
    )
    return found["id"] if found else 0


async def _touch(conversation_id: int, event: InboundEvent) -> None:
    values: dict[Any, Any] = {Conversation.updated_at: datetime.now(UTC)}
    if event.kind != EventKind.unfollow:
        values[Conversation.last_inbound_at] = event.at or datetime.now(UTC)
    if event.profile_name:
        values[Conversation.profile_name] = event.profile_name[:200]
    await scoped_update(Conversation, values, use_auto_update=False).where(
        Conversation.id == conversation_id
    )


async def _join_first(
    row: InboundEventRow, event: InboundEvent, adapter: ChannelAdapter | None, conversation_id: int
) -> int | None:
    """The member a picture is from, joined first on first contact (the bot's join step,
    so ``receipt_received`` gets them); without a bot, the conversation's linked member."""
    try:
        from loyalchat.bot import engine
    except ModuleNotFoundError as exc:
        if exc.name not in ("loyalchat.bot", "loyalchat.bot.engine"):
            raise
        member = (
            await scoped_select(Conversation, Conversation.member)
            .where(Conversation.id == conversation_id)
            .first()
        )
        return member["member"] if member else None
    return await engine.join_first(_turn(engine, row, event, adapter, conversation_id))


async def _receipt_hook(
    pm: pluggy.PluginManager,
    conversation_id: int,
    media_key: str,
    message_id: int,
    member_id: int | None,
) -> bool:
    result = pm.hook.receipt_received(
        tenant_id=require_tenant(),
        member_id=member_id,
        conversation_id=conversation_id,
        media_key=media_key,
        inbound_message_id=message_id,
    )
    if inspect.isawaitable(result):
        result = await result
    return result is not None


async def _respond(
    row: InboundEventRow,
    event: InboundEvent,
    adapter: ChannelAdapter | None,
    conversation_id: int,
    media_key: str,
    taken: bool,
) -> list[Any]:
    try:
        from loyalchat.bot import engine
    except ModuleNotFoundError as exc:
        if exc.name not in ("loyalchat.bot", "loyalchat.bot.engine"):
            raise
        log.warning("no bot installed: event %s is stored and not answered", row.id)
        return []
    turn = _turn(engine, row, event, adapter, conversation_id, media_key, taken)
    return list(await engine.respond(turn))


def _turn(
    engine: Any,
    row: InboundEventRow,
    event: InboundEvent,
    adapter: ChannelAdapter | None,
    conversation_id: int,
    media_key: str = "",
    taken: bool = False,
) -> Any:
    return engine.Turn(
        conversation_id=conversation_id,
        channel=row.source,
        capabilities=frozenset(adapter.capabilities) if adapter else frozenset(),
        event=event,
        inbound_event_id=row.id,
        media_key=media_key,
        receipt_taken=taken,
    )


def _reply_row(event_id: int, n: int, conversation_id: int, reply: Any) -> OutboundMessage:
    choices = [
        {"id": c.id, "title": c.title, "description": c.description}
        for c in getattr(reply, "choices", ()) or ()
    ]
    image_key = getattr(reply, "image_key", "") or ""
    kind = MessageKind.choices if choices else MessageKind.image if image_key else MessageKind.text
    return new_row(
        OutboundMessage,
        conversation=conversation_id,
        key=f"reply:{event_id}:{n}",
        kind=kind.value,
        text=getattr(reply, "text", "") or "",
        media_key=image_key,
        choices=json.dumps(choices),
        sent_by="bot",
    )
