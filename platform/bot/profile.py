"""The member's name and phone asked for in the chat, so they become verified without the
wallet (``verified`` = a name and a contact on file: ``members.profile``).

"name" / "姓名" / "profile" asks for the name, then the phone (read with the shop's
region: "9123 4567" in a Hong Kong shop). Both go through ``members.service.update_member``
with ``unverified_only``, as the wallet's profile form: a verified member's details are
changed by the shop. A phone typed here is the member's own claim, stored on this member
only: it never joins the chat to another member recorded with that number (typing a
number proves nothing; only a phone the channel attests finds a member, see
``members.identities.phone_owner``), and it never makes this member a match later.
"""

from __future__ import annotations

import phonenumbers

from loyalchat.bot import texts
from loyalchat.bot.chat import Chat
from loyalchat.bot.replies import Reply
from loyalchat.domain import DomainError
from loyalchat.members import profile
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberUpdate


def example_phone(currency: str, timezone: str) -> str:
    """A phone number as a member of this shop would type it ("9123 4567" in Hong Kong)."""
    region = profile.default_region(currency, timezone)
    if region is None:
        return "+852 9123 4567"
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return "+852 9123 4567"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


async def start(chat: Chat) -> list[Reply]:
    if chat.member.verified:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.PROFILE_LOCKED))]
    await chat.wait_for({"step": "name"})
    return [Reply(text=chat.say(texts.ASK_NAME))]


async def answer(chat: Chat, text: str) -> list[Reply] | None:
    """The member's answer to "your name?" or "your phone?"; None when neither was asked."""
    step = chat.seen.get("step")
    if step == "name":
        return await _name(chat, text)
    if step == "phone":
        return await _phone(chat, text)
    return None


async def _name(chat: Chat, text: str) -> list[Reply]:
    try:
        name = profile.clean_name(text)
    except DomainError:
        name = ""
    if not name or "\n" in text.strip():
        await chat.wait_for({"step": "name"})
        return [Reply(text=chat.say(texts.BAD_NAME))]
    try:
        await members.update_member(
            chat.member.member_no, MemberUpdate(name=name), unverified_only=True
        )
    except DomainError as exc:
        await chat.wait_for_nothing()
        if exc.code == "profile_locked":
            return [Reply(text=chat.say(texts.PROFILE_LOCKED))]
        return [Reply(text=chat.say(texts.BAD_NAME))]
    await chat.wait_for({"step": "phone"})
    return [Reply(text=chat.say(texts.ASK_PHONE, name=name))]


async def _phone(chat: Chat, text: str) -> list[Reply]:
    try:
        updated = await members.update_member(
            chat.member.member_no, MemberUpdate(phone=text.strip()[:40]), unverified_only=True
        )
    except DomainError as exc:
        if exc.code == "profile_locked":
            await chat.wait_for_nothing()
            return [Reply(text=chat.say(texts.PROFILE_LOCKED))]
        await chat.wait_for({"step": "phone"})
        example = example_phone(chat.shop.currency, chat.shop.timezone)
        return [Reply(text=chat.say(texts.BAD_PHONE, example=example))]
    await chat.wait_for_nothing()
    if updated.verified:
        return [Reply(text=chat.say(texts.PROFILE_DONE))]
    await chat.wait_for({"step": "name"})
    return [Reply(text=chat.say(texts.ASK_NAME))]
