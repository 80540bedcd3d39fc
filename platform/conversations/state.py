"""A conversation as the bot sees it, and the bot's writes to it: what it waits for (with
an expiry), the language, the member it belongs to, broadcast opt-out.

State lives in the database, never in memory: ``conversation.state`` is
``{"now": {...}, "by": <inbound event id>, "before": {...}}``. ``now`` is what the bot
waits for ("confirm reward 12", "your name") until ``state_expires_at``; ``by`` and
``before`` record which event wrote it and what that event saw, so an event processed a
second time (a replayed webhook, the sweeper after a killed worker) is answered from the
state it first saw (:func:`seen_state`) and takes the same path: one answer, no second
step. ``joined`` names the event whose first contact linked the member (its welcome is
given again on a replay).

Every function works on the current tenant (``loyalchat.context``); another tenant's
conversation is ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalchat import db
from loyalchat.conversations.tables import Conversation
from loyalchat.domain import NotFound
from loyalchat.languages import LOCALES
from loyalchat.scoping import scoped_select, scoped_update

__all__ = [
    "STATE_TTL",
    "ConversationOut",
    "clear_state",
    "get_conversation",
    "link_member",
    "opt_in",
    "opt_out",
    "seen_state",
    "set_locale",
    "set_state",
]

# How long the bot waits for an answer ("yes" to a reward, a name) before forgetting it.
STATE_TTL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ConversationOut:
    """One person on one channel of the current tenant, as the bot reads it."""

    id: int
    channel: str
    sender: str
    member_id: int | None
    profile_name: str
    locale: str  # "" until known
    record: dict[str, Any] = field(default_factory=dict)  # the raw ``state`` column
    state_expires_at: datetime | None = None
    opted_out: bool = False
    opted_out_at: datetime | None = None
    last_inbound_at: datetime | None = None

    @property
    def joined(self) -> dict[str, Any]:
        """``{"by": <inbound event id>, "new": bool}``: the first contact that linked the
        member (and whether it made a new member), when the bot did; else {}."""
        value = self.record.get("joined")
        return dict(value) if isinstance(value, dict) else {}

    def expired_state(self, now: datetime | None = None) -> dict[str, Any]:
        """The step the bot waited for when it has expired (to say so), else {}."""
        current = self.record.get("now") or {}
        now = now or datetime.now(UTC)
        if current and self.state_expires_at is not None and self.state_expires_at <= now:
            return dict(current)
        return {}


def _out(row: Mapping[str, Any]) -> ConversationOut:
    record = row["state"] if isinstance(row["state"], dict) else {}
    return ConversationOut(
        id=row["id"],
        channel=row["channel"],
        sender=row["sender"],
        member_id=row["member"],
        profile_name=row["profile_name"],
        locale=row["locale"],
        record=record,
        state_expires_at=row["state_expires_at"],
        opted_out=row["opted_out"],
        opted_out_at=row["opted_out_at"],
        last_inbound_at=row["last_inbound_at"],
    )


async def get_conversation(conversation_id: int) -> ConversationOut:
    """The current tenant's conversation; ``NotFound`` otherwise."""
    row = (
        await scoped_select(Conversation)
        .where(Conversation.id == conversation_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("no such conversation", code="not_found")
    return _out(row)


def seen_state(
    conversation: ConversationOut, event_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """What the bot waits for, as the event ``event_id`` sees it.

    The live step ({} once expired); for an event processed again, the step it saw the
    first time (recorded by :func:`set_state`), expired or not, so it takes the same path.
    """
    record = conversation.record
    if event_id and record.get("by") == event_id:
        return dict(record.get("before") or {})
    current = record.get("now") or {}
    now = now or datetime.now(UTC)
    if not current or conversation.state_expires_at is None:
        return {}
    return dict(current) if conversation.state_expires_at > now else {}


async def _write(conversation_id: int, values: dict[Any, Any]) -> None:
    values[Conversation.updated_at] = datetime.now(UTC)
    async with db.write_transaction():
        done = (
            await scoped_update(Conversation, values)
            .where(Conversation.id == conversation_id)
            .returning(Conversation.id)
        )
    if not done:
        raise NotFound("no such conversation", code="not_found")


async def set_state(
    conversation: ConversationOut,
    step: Mapping[str, Any],
    *,
    event_id: int,
    seen: Mapping[str, Any] | None = None,
    ttl: timedelta = STATE_TTL,
) -> None:
    """Wait for ``step`` (a small JSON dict, {} for nothing) until ``ttl`` from now.

    ``event_id`` is the inbound event doing it and ``seen`` the step it saw
    (:func:`seen_state`): kept so that the same event processed again sees it again.
    """
    record = {
        "now": dict(step),
        "by": event_id,
        "before": dict(seen or {}),
    }
    if conversation.joined:
        record["joined"] = conversation.joined
    expires = datetime.now(UTC) + ttl
    await _write(
        conversation.id,
        {Conversation.state: record, Conversation.state_expires_at: expires},
    )


async def clear_state(
    conversation: ConversationOut, *, event_id: int, seen: Mapping[str, Any] | None = None
) -> None:
    """Wait for nothing any more (what ``event_id`` saw is kept, as in :func:`set_state`)."""
    await set_state(conversation, {}, event_id=event_id, seen=seen)


async def set_locale(conversation_id: int, locale: str) -> None:
    """The language the bot answers this conversation in (one of zh-Hant, zh-Hans, en)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown language {locale!r}")
    await _write(conversation_id, {Conversation.locale: locale})


async def link_member(
    conversation: ConversationOut, member_id: int, *, event_id: int = 0, created: bool = False
) -> None:
    """The conversation belongs to ``member_id``. ``event_id`` is the first contact that
    made it so and ``created`` whether it made a new member: kept, so that the event
    processed again gives the same welcome."""
    values: dict[Any, Any] = {Conversation.member: member_id}
    if event_id and conversation.member_id is None:
        joined = {"by": event_id, "new": created}
        values[Conversation.state] = {**conversation.record, "joined": joined}
    await _write(conversation.id, values)


async def _opt(conversation_id: int, opted_out: bool, at: datetime | None) -> bool:
    """One conditional UPDATE: True when the flag changed (a repeat changes nothing)."""
    now = at or datetime.now(UTC)
    async with db.write_transaction():
        changed = (
            await scoped_update(
                Conversation,
                {
                    Conversation.opted_out: opted_out,
                    Conversation.opted_out_at: now,
                    Conversation.updated_at: now,
                },
            )
            .where((Conversation.id == conversation_id) & (Conversation.opted_out != opted_out))
            .returning(Conversation.id)
        )
    if changed:
        return True
    await get_conversation(conversation_id)  # NotFound for another tenant's conversation
    return False


async def _member_marketing(member_id: int | None, opt_in_value: bool) -> None:
    """The member's own broadcast consent follows what they said in the chat."""
    if member_id is None:
        return
    from loyalchat.members import service as members
    from loyalchat.members.schemas import MemberUpdate

    member = await members.get_member_by_id(member_id)
    if member.status != "active" or member.marketing_opt_in == opt_in_value:
        return
    await members.update_member(member.member_no, MemberUpdate(marketing_opt_in=opt_in_value))


async def opt_out(conversation_id: int, *, at: datetime | None = None) -> bool:
    """STOP: no broadcasts on this conversation's channel, from now (``opted_out_at``), and
    the linked member's ``marketing_opt_in`` off. True when it changed."""
    changed = await _opt(conversation_id, True, at)
    await _member_marketing((await get_conversation(conversation_id)).member_id, False)
    return changed


async def opt_in(conversation_id: int, *, at: datetime | None = None) -> bool:
    """START: broadcasts again on this channel (time kept in ``opted_out_at``) and the
    linked member's ``marketing_opt_in`` on. True when it changed."""
    changed = await _opt(conversation_id, False, at)
    await _member_marketing((await get_conversation(conversation_id)).member_id, True)
    return changed
