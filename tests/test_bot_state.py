"""Conversation state (loyalchat.conversations.state): expiry, an event processed again
sees what it saw first, and one tenant never reads or writes another's conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalchat.bot.engine import respond
from loyalchat.context import tenant_context
from loyalchat.conversations import state
from loyalchat.domain import NotFound
from tests.bot_helpers import CHAT, make_turn, open_conversation
from tests.fixtures import World


async def test_a_step_lives_until_it_expires_and_a_replay_sees_what_it_saw(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation_id = await open_conversation()
        fresh = await state.get_conversation(conversation_id)
        assert state.seen_state(fresh, 1) == {}
        await state.set_state(fresh, {"step": "name"}, event_id=1, seen={})
        waiting = await state.get_conversation(conversation_id)
        await state.set_state(waiting, {"step": "phone"}, event_id=2, seen={"step": "name"})
        now = await state.get_conversation(conversation_id)
        later = datetime.now(UTC) + state.STATE_TTL + timedelta(seconds=1)
        await state.clear_state(now, event_id=3, seen={"step": "phone"})
        cleared = await state.get_conversation(conversation_id)
    assert state.seen_state(waiting, 2) == {"step": "name"}
    assert state.seen_state(now, 9) == {"step": "phone"}  # a new event: the live step
    assert state.seen_state(now, 2) == {"step": "name"}  # event 2 again: what it saw
    assert state.seen_state(now, 9, now=later) == {}  # expired
    assert now.expired_state(later) == {"step": "phone"}
    assert state.seen_state(now, 2, now=later) == {"step": "name"}  # a replay, expired or not
    assert state.seen_state(cleared, 9) == {} and cleared.record["now"] == {}


async def test_one_tenant_never_reads_or_writes_anothers_conversation(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        theirs = await open_conversation()
        row = await state.get_conversation(theirs)
    with tenant_context(tenant_b.id, CHAT):
        for call in (
            state.get_conversation(theirs),
            state.set_state(row, {"step": "name"}, event_id=1),
            state.set_locale(theirs, "en"),
            state.link_member(row, 1, event_id=1),
            state.opt_out(theirs),
            state.opt_in(theirs),
            respond(make_turn(theirs, "積分")),
        ):
            with pytest.raises(NotFound):
                await call
    with tenant_context(tenant_a.id, CHAT):
        after = await state.get_conversation(theirs)
    assert after == row  # untouched: no member, no locale, no state, not opted out
