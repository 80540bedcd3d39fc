"""The chat's card reply: asking for the card gives balances and a fresh, working wallet link."""

from __future__ import annotations

import re

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.ledger import service as ledger
from loyalchat.ledger import stored_value
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.card_reply import asks_for_card, card_reply
from loyalchat.members.schemas import MemberCreate
from tests.fixtures import World

SYSTEM = Actor("system", label="chat")


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("會員", True),
        (" 会员！", True),
        ("CARD", True),
        ("ｃａｒｄ", True),  # full-width, as some phone keyboards type it
        ("My  Points?", True),
        ("積分", True),
        ("會員卡金額幾多", False),
        ("hello", False),
        ("", False),
    ],
)
def test_card_words_in_three_languages(text: str, asks: bool) -> None:
    assert asks_for_card(text) is asks


async def test_reply_has_balances_and_a_link_to_this_members_wallet(
    tenant_a: World, tenant_b: World
) -> None:
    with tenant_context(tenant_a.id, SYSTEM):
        member = await members.create_member(MemberCreate(name="Amy", locale="zh-Hant"))
        await ledger.earn(member.id, 1234, key="seed")
        await stored_value.top_up(member.id, "50", key="topup:1")
        reply = await card_reply(member.id)
        english = await card_reply(member.id, locale="en")
    assert member.member_no in reply and "積分：1,234" in reply and "HKD 50.00" in reply
    assert "Points: 1,234" in english
    token = re.search(r"/w/(\S+)", reply).group(1)
    assert links.verify(token)[:2] == (tenant_a.id, member.id)
    with tenant_context(tenant_b.id, SYSTEM):
        with pytest.raises(Exception, match="not found"):
            await card_reply(member.id)
