"""Rewards in the chat on real members and rewards: list, choose, confirm, one grant and one
debit however often "yes" arrives, the coupon's QR image, my coupons, refusals, expiry,
and two shops that never cross."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from loyalchat import db
from loyalchat.bot.engine import respond
from loyalchat.context import tenant_context
from loyalchat.conversations.tables import Conversation
from loyalchat.extensions.channels import EventKind
from loyalchat.ledger import service as ledger
from loyalchat.ledger.tables import EntryKind, LedgerEntry
from loyalchat.media import store
from loyalchat.rewards.tables import Grant
from loyalchat.scoping import scoped_count, scoped_select, scoped_update
from tests.bot_helpers import (
    CHAT,
    TEXT_ONLY,
    WECHAT,
    conversation_row,
    joined,
    make_turn,
    open_conversation,
    say,
)
from tests.fixtures import World
from tests.reward_helpers import balance, make_reward, pooled


async def _member_with_points(points: int, first: str = "hi", **kwargs) -> tuple[int, int]:
    """A conversation whose member (joined by a ``first`` message) holds ``points``."""
    where = {name: kwargs[name] for name in ("channel", "sender") if name in kwargs}
    conversation = await open_conversation(**where)
    await say(conversation, first, **kwargs)
    member_id = (await conversation_row(conversation))["member"]
    if points:
        await ledger.earn(member_id, points, key=f"seed:{member_id}")
    return conversation, member_id


def _without_link(text: str) -> str:
    return text.rsplit("\n", 1)[0]


async def _debits(member_id: int) -> int:
    return await scoped_count(LedgerEntry).where(
        (LedgerEntry.member == member_id) & (LedgerEntry.points < 0)
    )


async def test_list_choose_confirm_redeem_gives_code_qr_and_wallet_link(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        coffee = await make_reward()
        cake = await make_reward(name={"en": "Cake", "zh-Hant": "蛋糕"}, points_cost=900)
        conversation, member = await _member_with_points(250)
        listed = await say(conversation, "rewards")
        confirm = await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        done = await say(conversation, kind=EventKind.choice, choice_id="confirm:yes")
        grant = await scoped_select(Grant).first()
        png = await store.read(done[1].image_key)
        left = await balance(member)
        coupons = joined(await say(conversation, "my coupons"))
    assert [c.id for c in listed[0].choices] == [f"reward:{coffee.id}"]  # cake costs 900
    assert cake.id not in [c.id for c in listed[0].choices]
    assert "250" in listed[0].text
    assert [c.id for c in confirm[0].choices] == ["confirm:yes", "confirm:no"]
    assert "Free coffee" in confirm[0].text and "150" in confirm[0].text
    code = f"{grant['code'][:4]}-{grant['code'][4:]}"
    assert code in done[0].text and "/w/" in done[0].text and "150" in done[0].text
    assert png.startswith(b"\x89PNG") and done[1].text == code
    assert left == 150
    assert code in coupons


async def test_a_double_tap_and_a_replayed_yes_redeem_once(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        coffee = await make_reward()
        conversation, member = await _member_with_points(500)
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        yes = make_turn(conversation, kind=EventKind.choice, choice_id="confirm:yes")
        first = await respond(yes)
        replayed = await respond(yes)  # the same webhook again
        second_tap = await say(conversation, kind=EventKind.choice, choice_id="confirm:yes")
        typed = await say(conversation, "yes")
        grants = await scoped_count(Grant)
        debits = await _debits(member)
        left = await balance(member)
    assert grants == 1 and debits == 1 and left == 400
    # The same grant each time (the wallet link is signed afresh: its last line differs).
    texts = {_without_link(result[0].text) for result in (first, replayed, second_tap, typed)}
    assert len(texts) == 1 and "Free coffee" in texts.pop()


async def test_two_workers_taking_yes_at_once_make_one_grant(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        coffee = await make_reward()
        conversation, member = await _member_with_points(500)
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        taps = [make_turn(conversation, kind=EventKind.choice, choice_id="confirm:yes")] * 2
        taps.append(make_turn(conversation, "yes"))

    async def run(turn) -> list:
        with tenant_context(tenant_a.id, CHAT):
            return await respond(turn)

    async with pooled():
        results = await asyncio.gather(*(run(turn) for turn in taps))
    with tenant_context(tenant_a.id, CHAT):
        assert await scoped_count(Grant) == 1
        assert await _debits(member) == 1
        assert await balance(member) == 400
    assert len({_without_link(result[0].text) for result in results}) == 1


async def test_numbered_choices_on_a_channel_without_buttons(tenant_a: World) -> None:
    sms = {"channel": "sms", "sender": "85290000000", "capabilities": TEXT_ONLY}
    with tenant_context(tenant_a.id, CHAT):
        await make_reward()
        conversation, _ = await _member_with_points(300, "你好", **sms)
        listed = await say(conversation, "禮品", **sms)
        confirm = await say(conversation, "1", **sms)
        done = await say(conversation, "1", **sms)  # 1. Yes
        grants = await scoped_count(Grant)
    assert listed[0].choices == () and "1. 免費咖啡 (100 積分)" in listed[0].text
    assert "請回覆號碼選擇" in listed[0].text
    assert "1. 是" in confirm[0].text and "2. 否" in confirm[0].text
    assert grants == 1 and "完成" in done[0].text


async def test_wechat_numbers_its_choices_and_the_number_typed_back_picks(
    tenant_a: World,
) -> None:
    """WeChat's adapter shows choices as numbered text: the member types the number."""
    wechat = {"channel": "wechat", "sender": "oOPENID", "capabilities": WECHAT}
    with tenant_context(tenant_a.id, CHAT):
        coffee = await make_reward()
        conversation, _ = await _member_with_points(300, "你好", **wechat)
        listed = await say(conversation, "禮品", **wechat)
        confirm = await say(conversation, "1", **wechat)
        languages = await say(conversation, "語言", **wechat)
        english = await say(conversation, "3", **wechat)
        grants = await scoped_count(Grant)
    assert [c.id for c in listed[0].choices] == [f"reward:{coffee.id}"]
    assert [c.id for c in confirm[0].choices] == ["confirm:yes", "confirm:no"]
    assert grants == 0  # the language question replaced the pending confirm
    assert [c.title for c in languages[0].choices] == ["繁體中文", "简体中文", "English"]
    assert "English" in english[0].text


async def test_no_cancels_and_an_expired_question_redeems_nothing(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        coffee = await make_reward()
        conversation, _member = await _member_with_points(500)
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        cancelled = await say(conversation, "no")
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        await scoped_update(
            Conversation, {Conversation.state_expires_at: datetime.now(UTC) - timedelta(seconds=1)}
        ).where(Conversation.id == conversation)
        late = await say(conversation, "yes")
        late_tap = await say(conversation, kind=EventKind.choice, choice_id="confirm:yes")
        grants = await scoped_count(Grant)
    assert "nothing was redeemed" in cancelled[0].text
    assert "expired" in late[0].text and "expired" in late_tap[0].text
    assert grants == 0


async def test_refusals_are_answered_in_plain_words(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, CHAT):
        dear = await make_reward(points_cost=1000)
        gone = await make_reward(stock=0)
        conversation, member = await _member_with_points(100)
        short = await say(conversation, kind=EventKind.choice, choice_id=f"reward:{dear.id}")
        sold_out = await say(conversation, kind=EventKind.choice, choice_id=f"reward:{gone.id}")
        none_yet = await say(conversation, "rewards")
        # Enough points when asked, spent elsewhere before "yes": the service refuses.
        cheap = await make_reward(points_cost=100)
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{cheap.id}")
        await ledger.debit(member, 50, kind=EntryKind.adjust, key="spent-elsewhere", reason="test")
        refused = await say(conversation, "yes")
        grants = await scoped_count(Grant)
    assert "not have enough points" in short[0].text
    assert "run out" in sold_out[0].text
    assert "100" in none_yet[0].text
    assert "not have enough points" in refused[0].text
    assert grants == 0


async def test_a_conversation_of_one_shop_cannot_redeem_anothers_reward(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_b.id, CHAT):
        theirs = await make_reward(points_cost=10)
    with tenant_context(tenant_a.id, CHAT):
        conversation, member = await _member_with_points(500)
        answer = await say(conversation, kind=EventKind.choice, choice_id=f"reward:{theirs.id}")
        after = await say(conversation, "yes")
        grants_a = await scoped_count(Grant)
        left = await balance(member)
    with tenant_context(tenant_b.id, CHAT):
        grants_b = await scoped_count(Grant)
    assert "no longer in the catalogue" in answer[0].text
    assert "expired" not in after[0].text and grants_a == grants_b == 0 and left == 500


async def test_inside_the_cores_transaction_a_refusal_leaves_no_grant_and_taps_redeem_once(
    tenant_a: World,
) -> None:
    """The core answers an event in one write transaction: the redemption joins it."""
    with tenant_context(tenant_a.id, CHAT):
        coffee = await make_reward()
        conversation, member = await _member_with_points(150)
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        await ledger.debit(member, 100, kind=EntryKind.adjust, key="spent", reason="test")
        async with db.write_transaction():
            refused = await say(conversation, "yes")
        assert "not have enough points" in refused[0].text
        assert await scoped_count(Grant) == 0 and await balance(member) == 50
        await ledger.earn(member, 450, key="more")
        await say(conversation, kind=EventKind.choice, choice_id=f"reward:{coffee.id}")
        taps = [make_turn(conversation, kind=EventKind.choice, choice_id="confirm:yes")] * 2

    async def run(turn) -> list:
        with tenant_context(tenant_a.id, CHAT):
            async with db.write_transaction():
                return await respond(turn)

    async with pooled():
        results = await asyncio.gather(*(run(turn) for turn in taps))
    with tenant_context(tenant_a.id, CHAT):
        assert await scoped_count(Grant) == 1 and await balance(member) == 400
    assert len({_without_link(result[0].text) for result in results}) == 1
