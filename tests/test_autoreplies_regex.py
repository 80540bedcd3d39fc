"""A merchant's catastrophic regular expression cannot hang the worker: it runs in a child
process with a time limit, counts as no match, and is skipped for a while after."""

from __future__ import annotations

import time

import pytest

from loyalchat.context import tenant_context
from loyalchat.conversations import autoreplies, autoreply_regex
from loyalchat.conversations.autoreplies import AutoReplyIn
from tests.bot_helpers import CHAT, joined, open_conversation, say
from tests.fixtures import World

EVIL = r"^(a+)+$"  # exponential backtracking on "aaaa…!"
VICTIM = "a" * 40 + "!"


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    autoreply_regex.forget_slow()


async def test_search_matches_and_times_out() -> None:
    assert await autoreply_regex.search(r"\bhours?\b", "opening hours") is True
    assert await autoreply_regex.search(r"^\d+$", "12a") is False
    started = time.monotonic()
    assert await autoreply_regex.search(EVIL, VICTIM, limit=0.2) is None
    assert time.monotonic() - started < 5
    # The child was replaced: the next search works.
    assert await autoreply_regex.search(r"a+!", VICTIM) is True
    # Skipped from now on in this process: no second wait.
    started = time.monotonic()
    assert await autoreply_regex.search(EVIL, VICTIM) is None
    assert time.monotonic() - started < 0.1


async def test_a_catastrophic_rule_is_passed_over_and_the_bot_still_answers(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        evil = await autoreplies.create_auto_reply(
            AutoReplyIn(match="regex", pattern=EVIL, reply="evil", priority=10)
        )
        await autoreplies.create_auto_reply(
            AutoReplyIn(match="contains", pattern="aaa", reply="plain contains")
        )
        tried = await autoreplies.try_text(VICTIM, "en")
        conversation = await open_conversation()
        await say(conversation, "hello")
        started = time.monotonic()
        answer = joined(await say(conversation, VICTIM))
        took = time.monotonic() - started
    assert tried.timed_out == (evil.id,) and tried.reply == "plain contains"
    assert answer == "plain contains" and took < 5
