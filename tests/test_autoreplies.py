"""The merchant's auto-replies: saving (checked), matching (priority, kind, language, either
Chinese script), welcome and default, try_text, the bot's order, and two shops."""

from __future__ import annotations

import pytest

from loyalchat.context import tenant_context
from loyalchat.conversations import autoreplies
from loyalchat.conversations.autoreplies import AutoReplyIn
from loyalchat.domain import DomainError, NotFound
from loyalchat.tenants import audit
from tests.bot_helpers import CHAT, joined, open_conversation, say
from tests.fixtures import World


def rule(
    match: str = "exact", pattern: str = "hours", reply: object = "9 to 5", **kw
) -> AutoReplyIn:
    return AutoReplyIn(match=match, pattern=pattern, reply=reply, **kw)


BAD_RULES = [
    (rule(match="sometimes"), "match"),
    (rule(pattern=""), "pattern"),
    (rule(pattern="x" * 201), "pattern"),
    (rule(match="regex", pattern="(unclosed"), "pattern"),
    (rule(match="default", pattern="hours"), "pattern"),
    (rule(reply=""), "reply"),
    (rule(reply={"fr": "bonjour"}), "reply"),
    (rule(reply="x" * 1001), "reply"),
    (rule(language="de"), "language"),
    (rule(priority=5000), "priority"),
]


async def test_bad_rules_are_refused_by_field(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        for data, field in BAD_RULES:
            assert field in autoreplies.auto_reply_problems(data), data
            with pytest.raises(DomainError) as err:
                await autoreplies.create_auto_reply(data)
            assert err.value.code == "invalid_auto_reply" and field in err.value.extra["errors"]
        assert await autoreplies.list_auto_replies() == []
        several = autoreplies.auto_reply_problems(rule(pattern="", reply="", language="xx"))
    assert set(several) == {"pattern", "reply", "language"}  # all at once, for a form


async def test_crud_is_audited_and_fills_the_other_chinese_script(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        made = await autoreplies.create_auto_reply(rule(reply={"zh-Hant": "營業時間：9點至5點"}))
        changed = await autoreplies.update_auto_reply(made.id, rule(pattern="open", priority=3))
        listed = await autoreplies.list_auto_replies()
        await autoreplies.delete_auto_reply(made.id)
        with pytest.raises(NotFound):
            await autoreplies.get_auto_reply(made.id)
        actions = [entry["action"] for entry in await audit.recent()]
    assert made.reply["zh-Hans"] == "营业时间：9点至5点"
    assert changed.pattern == "open" and changed.priority == 3 and listed == [changed]
    assert {"auto_reply.create", "auto_reply.update", "auto_reply.delete"} <= set(actions)


async def test_priority_kind_language_and_script_decide_the_answer(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        low = await autoreplies.create_auto_reply(rule("contains", "hour", "contains low"))
        await autoreplies.create_auto_reply(rule("exact", "opening hours", "exact", priority=0))
        high = await autoreplies.create_auto_reply(rule("regex", r"hours?\b", "regex", priority=5))
        await autoreplies.create_auto_reply(
            rule("exact", "營業時間", {"zh-Hant": "每日八點", "en": "8 daily"}, language="zh-Hant")
        )
        await autoreplies.create_auto_reply(rule("default", "", "default reply"))
        first = await autoreplies.find_reply("Opening hours?", "en")
        await autoreplies.update_auto_reply(
            high.id, rule("regex", r"hours?\b", "regex", active=False)
        )
        second = await autoreplies.find_reply("OPENING HOURS!", "en")
        third = await autoreplies.find_reply("what hour do you close", "en")
        simplified_member = await autoreplies.find_reply("营业时间", "zh-Hans")  # zh-Hant only
        traditional = await autoreplies.find_reply("營業時間", "zh-Hant")
        nothing = await autoreplies.find_reply("bye", "en")
        default = await autoreplies.default_text("en")
    assert first.reply == "regex" and first.rule_id == high.id
    assert second.reply == "exact" and second.match == "exact"  # exact before contains
    assert third.rule_id == low.id
    assert simplified_member is None
    assert traditional.reply == "每日八點"
    assert nothing is None and default == "default reply"


async def test_either_chinese_script_matches(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        await autoreplies.create_auto_reply(rule("contains", "營業時間", {"zh-Hant": "每日八點"}))
        found = await autoreplies.find_reply("请问营业时间？", "zh-Hans")
    assert found is not None and found.reply == "每日八点"


async def test_try_text_with_a_draft_before_saving(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        saved = await autoreplies.create_auto_reply(rule("contains", "menu", "saved"))
        await autoreplies.create_auto_reply(rule("default", "", "fallback"))
        plain = await autoreplies.try_text("show me the menu", "en")
        draft = await autoreplies.try_text(
            "show me the menu", "en", draft=rule("contains", "show", "draft", priority=9)
        )
        edit = await autoreplies.try_text(
            "show me the menu", "en", draft=rule("contains", "nothing", "x"), draft_id=saved.id
        )
        with pytest.raises(DomainError):
            await autoreplies.try_text("x", "en", draft=rule("regex", "("))
        count = len(await autoreplies.list_auto_replies())
    assert (plain.rule_id, plain.reply) == (saved.id, "saved")
    assert (draft.rule_id, draft.reply) == (0, "draft")
    assert (edit.match, edit.reply) == ("default", "fallback")
    assert count == 2  # nothing saved by trying


async def test_the_bot_order_builtins_then_rules_then_default(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        await autoreplies.create_auto_reply(rule("exact", "stop", "shop's stop", priority=99))
        await autoreplies.create_auto_reply(rule("exact", "hours", "9 to 5"))
        await autoreplies.create_auto_reply(rule("default", "", {"en": "Ask us anything"}))
        await autoreplies.create_auto_reply(rule("welcome", "", {"en": "Coffee is on us today"}))
        conversation = await open_conversation()
        welcome = await say(conversation, "hi there")
        hours = joined(await say(conversation, "Hours"))
        stop = joined(await say(conversation, "STOP"))
        other = joined(await say(conversation, "what?"))
    assert len(welcome) == 2 and welcome[1].text == "Coffee is on us today"
    assert "M000001" in welcome[0].text
    assert hours == "9 to 5"
    assert "no longer receive offers" in stop
    assert other == "Ask us anything"


async def test_one_shops_rules_never_answer_or_change_for_another(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        theirs = await autoreplies.create_auto_reply(rule("exact", "hours", "A's hours"))
        await autoreplies.create_auto_reply(rule("default", "", "A's default"))
    with tenant_context(tenant_b.id, CHAT):
        found = await autoreplies.find_reply("hours", "en")
        default = await autoreplies.default_text("en")
        tried = await autoreplies.try_text("hours", "en")
        for call in (
            autoreplies.get_auto_reply(theirs.id),
            autoreplies.update_auto_reply(theirs.id, rule()),
            autoreplies.delete_auto_reply(theirs.id),
        ):
            with pytest.raises(NotFound):
                await call
        conversation = await open_conversation()
        await say(conversation, "hi")
        menu_pick = joined(await say(conversation, kind=_choice(), choice_id=f"rule:{theirs.id}"))
    with tenant_context(tenant_a.id, CHAT):
        still = await autoreplies.get_auto_reply(theirs.id)
    assert found is None and default == "" and tried.match == ""
    assert "A's hours" not in menu_pick
    assert still.pattern == "hours" and still.reply["en"] == "A's hours"


def _choice():
    from loyalchat.extensions.channels import EventKind

    return EventKind.choice
