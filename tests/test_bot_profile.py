"""Profile, STOP/START and the menu in the chat, on real members (PostgreSQL)."""

from __future__ import annotations

from loyalchat.bot.engine import respond
from loyalchat.context import tenant_context
from loyalchat.conversations import autoreplies, state
from loyalchat.conversations.autoreplies import AutoReplyIn
from loyalchat.extensions.channels import EventKind
from loyalchat.members import service as members
from tests.bot_helpers import (
    CHAT,
    TEXT_ONLY,
    conversation_row,
    joined,
    make_turn,
    open_conversation,
    say,
)
from tests.fixtures import World


async def _member(conversation: int):
    return await members.get_member_by_id((await conversation_row(conversation))["member"])


async def test_name_then_phone_make_the_member_verified(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hello")
        asked = joined(await say(conversation, "name"))
        phone_asked = joined(await say(conversation, "Chan Tai Man"))
        bad = joined(await say(conversation, "12"))
        done = await say(conversation, "9123 4567")
        member = await _member(conversation)
        locked = joined(await say(conversation, "profile"))
    assert "your name" in asked
    assert "Chan Tai Man" in phone_asked and "phone number" in phone_asked
    assert "does not look like a phone number" in bad and "e.g. 5123 4567" in bad
    assert "confirmed" in joined(done)
    assert member.name == "Chan Tai Man" and member.phone == "+85291234567"
    assert member.verified is True
    assert "ask the shop" in locked


async def test_an_answer_processed_twice_takes_one_step(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hello")
        await say(conversation, "姓名")
        name = make_turn(conversation, "陳大文")
        first = await respond(name)
        again = await respond(name)  # answered from the step it saw: the name, not a phone
        member = await _member(conversation)
        step = (await state.get_conversation(conversation)).record["now"]
    assert first == again
    assert member.name == "陳大文" and step == {"step": "phone"}


async def test_a_command_cancels_the_pending_question(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hello")
        await say(conversation, "name")
        card = joined(await say(conversation, "points"))
        after = joined(await say(conversation, "Amy"))
        member = await _member(conversation)
    assert "Points:" in card
    assert member.name == "" and "did not understand" in after


async def test_stop_and_start_are_recorded_with_time_on_conversation_and_member(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hello")
        await members.update_member((await _member(conversation)).member_no, _opt_in())
        await say(conversation, "name")  # pending: STOP still works
        stopped = joined(await say(conversation, "STOP"))
        row = await conversation_row(conversation)
        member = await _member(conversation)
        again = await state.opt_out(conversation)  # a repeat changes nothing
        started = joined(await say(conversation, "退訂"))  # Chinese STOP: still out
        back = joined(await say(conversation, "start"))
        row_back = await conversation_row(conversation)
        member_back = await _member(conversation)
    assert "no longer receive offers" in stopped
    assert row["opted_out"] is True and row["opted_out_at"] is not None
    assert row["channel"] == "whatsapp" and member.marketing_opt_in is False
    assert again is False and "no longer receive" in started
    assert "receive our offers again" in back
    assert row_back["opted_out"] is False and row_back["opted_out_at"] >= row["opted_out_at"]
    assert member_back.marketing_opt_in is True


def _opt_in():
    from loyalchat.members.schemas import MemberUpdate

    return MemberUpdate(marketing_opt_in=True)


async def test_menu_lists_the_bots_entries_and_the_shops_keywords(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        rule = await autoreplies.create_auto_reply(
            AutoReplyIn(match="exact", pattern="營業時間", reply={"zh-Hant": "每日 8am-8pm"})
        )
        await autoreplies.create_auto_reply(
            AutoReplyIn(match="regex", pattern=r"^\d+$", reply="number")
        )
        conversation = await open_conversation()
        await say(conversation, "你好")
        shown = await say(conversation, "選單")
        picked = joined(await say(conversation, kind=EventKind.choice, choice_id=f"rule:{rule.id}"))
        card = joined(await say(conversation, kind=EventKind.choice, choice_id="cmd:card"))
        click = joined(await say(conversation, kind=EventKind.choice, choice_id="MY_COUPONS"))
        sms = {"channel": "sms", "sender": "oX", "capabilities": TEXT_ONLY}
        wechat = await open_conversation(channel="sms", sender="oX")
        await say(wechat, "你好", **sms)
        numbered = joined(await say(wechat, "menu", **sms))
        second = joined(await say(wechat, "2", **sms))
    ids = [choice.id for choice in shown[0].choices]
    assert ids == [
        "cmd:card",
        "cmd:rewards",
        "cmd:coupons",
        "cmd:profile",
        "cmd:language",
        f"rule:{rule.id}",
    ]
    assert shown[0].choices[0].title == "我的會員卡"
    assert picked == "每日 8am-8pm"
    assert "積分" in card
    assert "優惠券" in click
    assert "1. 我的會員卡" in numbered and "6. 營業時間" in numbered
    assert "獎賞" in second or "積分" in second  # 2 = rewards
