"""The bot's first contact, card and language, on real members (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from loyalchat.bot import language
from loyalchat.bot.engine import respond
from loyalchat.context import tenant_context
from loyalchat.conversations import state
from loyalchat.extensions.channels import EventKind
from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.members.tables import Member, MemberIdentity
from loyalchat.scoping import scoped_count, scoped_select
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus
from tests.bot_helpers import (
    CHAT,
    conversation_row,
    joined,
    make_turn,
    open_conversation,
    say,
)
from tests.fixtures import World


async def test_first_message_makes_one_member_even_processed_twice(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation(sender="bsuid.ABC")
        first = make_turn(conversation, "hello", sender="bsuid.ABC", phone="85291234567")
        replies = await respond(first)
        again = await respond(first)  # the same event, processed a second time
        count = await scoped_count(Member)
        member = await scoped_select(Member).first()
        ids = await scoped_select(MemberIdentity, MemberIdentity.external_id).order_by(
            MemberIdentity.id
        )
        row = await conversation_row(conversation)
    assert count == 1
    assert member["member_no"] in joined(replies)
    assert "Alpha-Tea" in joined(replies) or "Alpha-tea" in joined(replies)
    assert [reply.text for reply in again] == [reply.text for reply in replies]
    assert [r["external_id"] for r in ids] == ["bsuid.ABC", "85291234567"]
    assert row["member"] == member["id"]
    # The channel's phone is kept (E.164, for search); no name: still unverified.
    assert member["verified"] is False and member["name"] == ""
    assert member["phone"] == "+85291234567"


async def test_two_workers_on_the_same_first_message_make_one_member(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        turn = make_turn(conversation, "hi")
    from tests.reward_helpers import pooled

    async def run() -> list:
        with tenant_context(tenant_a.id, CHAT):
            return await respond(turn)

    async with pooled():
        results = await asyncio.gather(run(), run())
    with tenant_context(tenant_a.id, CHAT):
        assert await scoped_count(Member) == 1
    assert all(results)


async def test_follow_with_a_scene_and_join_code_welcome_in_the_shops_language(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation(channel="wechat", sender="oOPENID1")
        replies = await say(
            conversation, kind=EventKind.follow, scene="STORE1", channel="wechat", sender="oOPENID1"
        )
        member = await scoped_select(Member).first()
        # JOIN again later: the same member, welcomed back, nothing new.
        again = await say(conversation, "JOIN STORE1", channel="wechat", sender="oOPENID1")
        count = await scoped_count(Member)
    assert count == 1
    assert member["member_no"] in joined(replies) and member["member_no"] in joined(again)
    assert member["locale"] == ""  # the shop's (zh-Hant): nothing said yet


async def test_card_in_traditional_simplified_and_english(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        hant = await open_conversation(sender="111")
        await say(hant, "積分", sender="111")
        member = await scoped_select(Member).first()
        await ledger.earn(member["id"], 1234, key="seed")
        card = joined(await say(hant, "積分", sender="111"))
        hans = await open_conversation(sender="222")
        first = joined(await say(hans, "积分", sender="222"))
        card_hans = joined(await say(hans, "我的积分", sender="222"))
        en = await open_conversation(sender="333")
        first_en = joined(await say(en, "points", sender="333"))
        card_en = joined(await say(en, "Balance", sender="333"))
        locales = [
            row["locale"] for row in await scoped_select(Member, Member.locale).order_by(Member.id)
        ]
    assert "積分：1,234" in card and "/w/" in card
    assert "积分：0" in first and "积分：0" in card_hans  # welcome + card on first contact
    assert "Points: 0" in first_en and "Points: 0" in card_en
    assert locales == ["zh-Hant", "zh-Hans", "en"]


async def test_saying_a_language_changes_it_for_the_conversation_and_member(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "會員")
        switched = joined(await say(conversation, "English"))
        card = joined(await say(conversation, "會員"))
        row = await conversation_row(conversation)
        member = await members.get_member_by_id(row["member"])
        await say(conversation, "简体")
        simplified = joined(await say(conversation, "card"))
        await say(conversation, "中文")  # Chinese: the script already in use stays
        still = await state.get_conversation(conversation)
        await say(conversation, "lang:en", kind=EventKind.choice, choice_id="lang:en")
        chosen = await state.get_conversation(conversation)
    assert "English" in switched
    assert "Points:" in card
    assert row["locale"] == "en" and member.locale == "en"
    assert "积分：" in simplified
    assert still.locale == "zh-Hans" and chosen.locale == "en"


async def test_a_suspended_shop_answers_that_it_is_paused_and_nothing_else(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        await tenant_service.set_status(tenant_a.id, TenantStatus.suspended, reason="unpaid")
        conversation = await open_conversation()
        replies = await say(conversation, "積分")
        english = await say(conversation, "points")
        count = await scoped_count(Member)
    assert len(replies) == 1 and "Alpha-Tea 的會員計劃暫停中" in replies[0].text
    assert "Alpha-Tea's membership programme is paused" in english[0].text
    assert count == 0


async def test_photos_and_unknown_types_are_answered_politely(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hi")
        photo = await say(conversation, kind=EventKind.image, media_key="a" * 64)
        lost = await say(conversation, kind=EventKind.image)  # not fetched (too large...)
        taken = await say(
            conversation, kind=EventKind.image, media_key="b" * 64, receipt_taken=True
        )
        sticker = await say(conversation, raw={"unsupported": "sticker"})
        unfollow = await say(conversation, kind=EventKind.unfollow)
    assert "receipt photo" in joined(photo)
    assert "send it again" in joined(lost)
    assert taken == []
    assert "text messages and photos" in joined(sticker)
    assert unfollow == []


async def test_a_merged_member_is_followed(tenant_a: World) -> None:
    from loyalchat.purchases import service as purchases

    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hi")
        absorbed = await members.get_member_by_id((await conversation_row(conversation))["member"])
        kept, _ = await members.join_by_identity("webchat", ["device-1"])
        await purchases.merge_members(kept.member_no, absorbed.member_no, "same person")
        card = joined(await say(conversation, "card"))
        row = await conversation_row(conversation)
    assert kept.member_no in card
    assert row["member"] == kept.id


@pytest.mark.parametrize(
    ("text", "shop", "expected"),
    [
        ("積分", "en", "zh-Hant"),
        ("我想兌換禮品", "zh-Hans", "zh-Hant"),
        ("积分", "zh-Hant", "zh-Hans"),
        ("你好", "zh-Hans", "zh-Hans"),  # the same in both scripts: the shop's Chinese
        ("你好", "en", "zh-Hant"),
        ("Ｈｉ", "zh-Hant", "en"),  # full-width Latin letters
        ("hello 你好", "zh-Hans", "zh-Hans"),  # any Chinese decides
        ("123 👍", "zh-Hant", None),
        ("", "zh-Hant", None),
    ],
)
def test_language_is_guessed_from_the_first_message(text: str, shop: str, expected) -> None:
    assert language.guess(text, shop) == expected


async def test_the_welcome_is_in_the_language_of_the_first_message(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        hant = joined(await say(await open_conversation(sender="1"), "你好嗎", sender="1"))
        hans = joined(await say(await open_conversation(sender="2"), "你们好", sender="2"))
        en = joined(await say(await open_conversation(sender="3"), "Hi!", sender="3"))
        plain = joined(await say(await open_conversation(sender="4"), "👍", sender="4"))
    assert "歡迎！你是 Alpha-Tea 的會員 M000001。" in hant and "「積分」" in hant
    assert "欢迎！你是 Alpha-Tea 的会员 M000002。" in hans and "“积分”" in hans
    assert "Welcome! You are member M000003 of Alpha-Tea." in en
    assert "會員 M000004" in plain  # nothing to guess from: the shop's language


async def test_a_huge_message_is_read_in_its_first_characters(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        conversation = await open_conversation()
        await say(conversation, "hi")
        replies = await say(conversation, "x" * 200_000)
    assert "did not understand" in joined(replies)


async def test_a_member_found_by_phone_keeps_the_guessed_language_in_this_conversation(
    tenant_a: World,
) -> None:
    with tenant_context(tenant_a.id, CHAT):
        known, _ = await members.join_by_identity("whatsapp", ["85291234567"])
        conversation = await open_conversation(sender="bsuid.NEW")
        first = joined(await say(conversation, "hello", sender="bsuid.NEW", phone="85291234567"))
        later = joined(await say(conversation, "card", sender="bsuid.NEW"))
        row = await conversation_row(conversation)
    assert "Welcome back! You are member M000001" in first
    assert row["member"] == known.id and row["locale"] == "en"
    assert "Points: 0" in later
