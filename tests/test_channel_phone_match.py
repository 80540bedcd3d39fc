"""A shop's existing member writes on WhatsApp for the first time: found by the phone
WhatsApp attests, not duplicated; and a phone someone TYPED never finds anyone.

Through the real path of ``tests/test_channel_journeys.py`` (whose fixtures these tests
use): signed webhooks to the shop's route, the real inbox and outbox actors, the fake
Graph API, PostgreSQL. The web chat side speaks to the bot as its adapter does (the
adapter's own capabilities: no attested phone).
"""

from __future__ import annotations

import asyncio
from typing import Any

from loyalchat.bot import texts
from loyalchat.context import Actor, tenant_context
from loyalchat.extensions.channels import Capability
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.members.tables import Member, MemberIdentity
from loyalchat.plugins.webchat.adapter import WebChatAdapter
from loyalchat.tenants.tables import AuditLog
from tests import test_channel_journeys as journeys
from tests.api_support import bearer
from tests.bot_helpers import CHAT, TEXT_ONLY, joined, open_conversation, say
from tests.fakes.whatsapp_webhooks import text_message
from tests.fixtures import World
from tests.test_channel_journeys import CUSTOMER, HANT, WhatsApp, all_text, member_of

# Fixtures, from the WhatsApp journey and the fakes.
stub_broker = journeys.stub_broker
shared_redis = journeys.shared_redis
running = journeys.running
graph_api = journeys.graph_api
whatsapp = journeys.whatsapp

PHONE = f"+{CUSTOMER}"  # the customer's wa_id in E.164
WEBCHAT = WebChatAdapter.capabilities
TEXT = TEXT_ONLY


def staff(world: World) -> Any:
    return tenant_context(world.id, Actor("staff", world.owner.id, "Owner"))


async def at_the_counter(world: World, name: str, phone: str = "9123 4567") -> Any:
    """A member the shop enrolled by hand (console, API): phone typed by staff."""
    with staff(world):
        return await members.create_member(MemberCreate(name=name, phone=phone))


async def members_of(world: World) -> list[dict[str, Any]]:
    return await Member.select().where(Member.tenant == world.id).order_by(Member.id)


async def ids_of(member_id: int) -> list[tuple[str, str]]:
    rows = (
        await MemberIdentity.select()
        .where(MemberIdentity.member == member_id)
        .order_by(MemberIdentity.id)
    )
    return [(row["channel"], row["external_id"]) for row in rows]


async def test_an_existing_member_is_welcomed_back_with_their_number(
    whatsapp: WhatsApp,
) -> None:
    shop = whatsapp.a
    known = await at_the_counter(shop.world, "Chan Tai Man")
    await journeys.give_points(shop.world, known.id, 250)

    answer = all_text(await whatsapp.say("JOIN ALPHA"))

    back = texts.say(HANT, texts.WELCOME_BACK, member_no=known.member_no, shop="Alpha-Tea")
    assert back in answer
    assert [row["member_no"] for row in await members_of(shop.world)] == [known.member_no]
    assert (await member_of(shop.world, CUSTOMER))["id"] == known.id
    assert await ids_of(known.id) == [("whatsapp", CUSTOMER)]
    card = all_text(await whatsapp.say("積分"))
    assert known.member_no in card and "積分：250" in card
    # Audited as the link it is, with why.
    audits = await AuditLog.select().where(
        (AuditLog.tenant == shop.world.id) & (AuditLog.action == "member.identity_add")
    )
    assert [(row["target"], row["after"]) for row in audits] == [
        (
            f"member:{known.id}",
            '{"channel": "whatsapp", "external_id": "85291234567", "reason": "channel phone"}',
        )
    ]
    # Still verified as before (a name and a contact on file); the API finds ONE member.
    row = (await members_of(shop.world))[0]
    assert row["verified"] is True and row["name"] == "Chan Tai Man"
    found = await whatsapp.client.get(
        "/api/v1/members", params={"q": PHONE}, headers=bearer(shop.world.api_key)
    )
    assert found.status_code == 200, found.text
    assert [m["member_no"] for m in found.json()["items"]] == [known.member_no]


async def test_a_phone_in_another_shop_is_never_linked(whatsapp: WhatsApp) -> None:
    """B's member with this phone: A's WhatsApp makes a new member of A, and B's member
    stays unlinked until the customer writes to B's own number."""
    b_member = await at_the_counter(whatsapp.b.world, "Chan Tai Man")

    answer = all_text(await whatsapp.say("JOIN ALPHA"))
    a_members = await members_of(whatsapp.a.world)
    assert len(a_members) == 1 and a_members[0]["phone"] == PHONE
    welcome = texts.say(HANT, texts.WELCOME, member_no=a_members[0]["member_no"], shop="Alpha-Tea")
    assert welcome in answer
    assert await ids_of(b_member.id) == []

    await whatsapp.say("JOIN", shop=whatsapp.b)
    assert [row["id"] for row in await members_of(whatsapp.b.world)] == [b_member.id]
    assert await ids_of(b_member.id) == [("whatsapp", CUSTOMER)]
    assert await ids_of(a_members[0]["id"]) == [("whatsapp", CUSTOMER)]


async def test_two_first_messages_in_one_batch_link_one_member(whatsapp: WhatsApp) -> None:
    known = await at_the_counter(whatsapp.a.world, "Chan Tai Man")
    bsuid = "US.13491208655302741918"
    first = text_message("JOIN ALPHA", wa_id=CUSTOMER, user_id=bsuid)
    second = text_message("points", wa_id=CUSTOMER, user_id=bsuid)
    assert await whatsapp.post(first, second) == 200
    assert [row["id"] for row in await members_of(whatsapp.a.world)] == [known.id]
    assert sorted(await ids_of(known.id)) == [("whatsapp", CUSTOMER), ("whatsapp", bsuid)]


async def test_two_members_with_the_phone_link_neither(whatsapp: WhatsApp) -> None:
    """The phone cannot tell them apart: a new member (staff can merge), never a guess."""
    one = await at_the_counter(whatsapp.a.world, "Chan Tai Man")
    two = await at_the_counter(whatsapp.a.world, "Chan Siu Ming")
    answer = all_text(await whatsapp.say("JOIN ALPHA"))
    new = await member_of(whatsapp.a.world, CUSTOMER)
    assert new["id"] not in (one.id, two.id)
    assert texts.say(HANT, texts.WELCOME, member_no=new["member_no"], shop="Alpha-Tea") in answer
    assert await ids_of(one.id) == [] and await ids_of(two.id) == []


async def test_a_phone_typed_on_the_web_chat_takes_over_nobody(whatsapp: WhatsApp) -> None:
    """An attacker types a member's phone on the web chat: they stay their own member,
    with their own (zero) points; the owner of the number, writing on WhatsApp, still
    reaches the shop's record of them, not the attacker's."""
    shop = whatsapp.a
    victim = await at_the_counter(shop.world, "Chan Tai Man")
    await journeys.give_points(shop.world, victim.id, 500)
    with tenant_context(shop.world.id, CHAT):
        chat = await open_conversation("webchat", "device-attacker")

        async def typed(text: str) -> str:
            sent = await say(
                chat, text, channel="webchat", sender="device-attacker", capabilities=WEBCHAT
            )
            return joined(sent)

        await typed("JOIN")
        await typed("profile")
        await typed("Chan Tai Man")
        await typed("9123 4567")
        card = await typed("points")
    attacker = [row for row in await members_of(shop.world) if row["id"] != victim.id]
    assert len(attacker) == 1 and attacker[0]["phone"] == PHONE  # their own claim, unproven
    assert victim.member_no not in card and attacker[0]["member_no"] in card
    assert await ids_of(victim.id) == []

    answer = all_text(await whatsapp.say("points"))
    assert victim.member_no in answer and "500" in answer
    assert await ids_of(victim.id) == [("whatsapp", CUSTOMER)]
    assert await ids_of(attacker[0]["id"]) == [("webchat", "device-attacker")]


async def test_a_phone_claimed_first_on_the_web_chat_is_no_match_later(
    whatsapp: WhatsApp,
) -> None:
    """Someone types a stranger's number on the web chat before the stranger is a member:
    when the real owner writes on WhatsApp they become a NEW member; the number's later
    messages and points never reach the one who typed it."""
    shop = whatsapp.a
    with tenant_context(shop.world.id, CHAT):
        chat = await open_conversation("webchat", "device-squatter")
        for text in ("JOIN", "profile", "Chan Tai Man", "9123 4567"):
            await say(chat, text, channel="webchat", sender="device-squatter", capabilities=WEBCHAT)
    [squatter] = await members_of(shop.world)
    assert squatter["phone"] == PHONE and squatter["verified"] is True

    answer = all_text(await whatsapp.say("JOIN ALPHA"))
    owner = await member_of(shop.world, CUSTOMER)
    assert owner["id"] != squatter["id"]
    assert texts.say(HANT, texts.WELCOME, member_no=owner["member_no"], shop="Alpha-Tea") in answer
    assert await ids_of(squatter["id"]) == [("webchat", "device-squatter")]


async def test_concurrent_first_contacts_make_no_member_and_link_every_id(
    tenant_a: World,
) -> None:
    """Two workers with the same first message (the same number, one with its BSUID) at
    once: both find the shop's member, each id linked once, no member created."""
    known = await at_the_counter(tenant_a, "Chan Tai Man")
    bsuid = "US.13491208655302741918"
    with tenant_context(tenant_a.id, CHAT):
        results = await asyncio.gather(
            *(
                members.join_by_identity("whatsapp", ids, attested_phone=PHONE, locale="en")
                for ids in ([bsuid, CUSTOMER], [CUSTOMER]) * 4
            )
        )
    assert {(member.id, created) for member, created in results} == {(known.id, False)}
    assert sorted(await ids_of(known.id)) == [("whatsapp", CUSTOMER), ("whatsapp", bsuid)]
    assert [row["id"] for row in await members_of(tenant_a)] == [known.id]


async def test_only_a_member_unknown_on_any_channel_and_an_attested_phone_match(
    tenant_a: World,
) -> None:
    """A member already on a channel (their phone came from there, or they typed it) is
    no match: the sender becomes a new member. A phone the channel does not attest finds
    nobody, even the shop's own record with it."""
    recorded = await at_the_counter(tenant_a, "Wong Siu Ming", "6123 4567")
    with tenant_context(tenant_a.id, CHAT):
        on_wechat, _ = await members.join_by_identity("wechat", ["oXyz"], phone=PHONE)
        new, created = await members.join_by_identity("whatsapp", [CUSTOMER], attested_phone=PHONE)
        assert created and new.id != on_wechat.id
        unattested, created = await members.join_by_identity(
            "whatsapp", ["85261234567"], phone="+85261234567"
        )
        assert created and unattested.id != recorded.id
    assert await ids_of(on_wechat.id) == [("wechat", "oXyz")]
    assert await ids_of(recorded.id) == []


async def test_only_a_channel_that_declares_verified_phones_is_trusted(tenant_a: World) -> None:
    """The same event with the sender's phone, from an adapter that does not declare
    ``Capability.verified_phone`` (a third party's channel where the person typed or
    shared a number), makes a new member; from one that does, finds the shop's."""
    known = await at_the_counter(tenant_a, "Chan Tai Man")
    with tenant_context(tenant_a.id, CHAT):
        unverified = await open_conversation("line", "sender-1")
        said = await say(
            unverified, "hi", channel="line", sender="sender-1", phone=CUSTOMER, capabilities=TEXT
        )
        attested = await open_conversation("sms", "sender-2")
        back = await say(
            attested,
            "hi",
            channel="sms",
            sender="sender-2",
            phone=CUSTOMER,
            capabilities=TEXT | {Capability.verified_phone},
        )
    assert known.member_no not in joined(said)
    assert f"Welcome back! You are member {known.member_no}" in joined(back)
    assert await ids_of(known.id) == [("sms", "sender-2"), ("sms", CUSTOMER)]
