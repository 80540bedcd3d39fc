"""First contact: the person writing (or following, or scanning the join QR) becomes a member.

``members.service.join_by_identity`` finds the member by any id the channel gives (the
sender id; on WhatsApp the phone too) or makes one with the tenant's next number, once even
when two workers take the same first message. When the adapter declares
``Capability.verified_phone`` (WhatsApp: the wa_id is a number WhatsApp checked by SMS) and
no id is linked yet, the shop's member recorded with that phone (the one active member
with it who is known on no channel) gets the sender's ids and is welcomed back with their
own number: a shop's existing members are not duplicated when they first write. A phone
typed in a chat (the web chat, the profile step) never finds a member: it proves nothing,
and is only stored on the member who typed it. A phone the channel gives becomes the
member's phone (E.164) when they have none, so staff and ``GET /api/v1/members?q=`` find
them by it; a phone someone typed is never replaced, and one ``phonenumbers`` calls invalid
is left out. The channel's profile name is not stored: a person who never gave a name
stays unverified. A member merged into another is
followed to the one that absorbed it, and the conversation relinked.
"""

from __future__ import annotations

from loyalchat.bot import texts
from loyalchat.bot.replies import Reply, Turn
from loyalchat.conversations import autoreplies, state
from loyalchat.conversations.state import ConversationOut
from loyalchat.domain import DomainError
from loyalchat.extensions.channels import Capability
from loyalchat.members import links, profile
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberOut
from loyalchat.tenants.service import TenantInfo
from loyalchat.texts import in_script


async def member_of(
    turn: Turn, conversation: ConversationOut, locale: str | None
) -> tuple[MemberOut, bool | None]:
    """The conversation's member, joining them on first contact.

    Returns ``(member, joined)``: ``joined`` is True when this event made a new member,
    False when it found an existing one (known by the phone on another conversation), None
    when the conversation already had its member before this event. ``locale`` (a guess
    from the first message) becomes a new member's language.
    """
    joined = conversation.joined
    if conversation.member_id is not None:
        member = await links.wallet_member(conversation.member_id)  # follows merged_into
        if member.id != conversation.member_id:
            await state.link_member(conversation, member.id)
        await _keep_phone(member, turn)
        if joined.get("by") == turn.inbound_event_id:  # this event joined them: again
            return member, bool(joined.get("new"))
        return member, None
    ids = [turn.event.sender]
    if turn.event.phone and turn.event.phone != turn.event.sender:
        ids.append(turn.event.phone)
    fields = {"locale": locale or ""}
    phone = channel_phone(turn)
    if phone:
        fields["phone"] = phone
    # Only a phone the provider verified may find the shop's member recorded with it.
    attested = phone if Capability.verified_phone in turn.capabilities else ""
    try:
        member, created = await members.join_by_identity(
            turn.channel, ids, attested_phone=attested, **fields
        )
    except DomainError as exc:
        if exc.code != "invalid_external_id" or len(ids) == 1:
            raise
        # A phone the channel gave that is no id: the sender alone identifies them.
        member, created = await members.join_by_identity(
            turn.channel, ids[:1], attested_phone=attested, **fields
        )
    if not created:
        await _keep_phone(member, turn)
    await state.link_member(
        conversation, member.id, event_id=turn.inbound_event_id, created=created
    )
    return member, created


def channel_phone(turn: Turn) -> str:
    """The phone the channel gave (WhatsApp's wa_id, digits) in E.164, "" when none or
    when ``phonenumbers`` calls it invalid (the member joins without it)."""
    raw = (turn.event.phone or "").strip()
    if not raw:
        return ""
    try:
        return profile.clean_phone(raw if raw.startswith("+") else f"+{raw}", None)
    except DomainError:
        return ""


async def _keep_phone(member: MemberOut, turn: Turn) -> None:
    if not member.phone:
        phone = channel_phone(turn)
        if phone:
            await members.fill_phone(member.id, phone)


async def welcome(member: MemberOut, shop: TenantInfo, locale: str, created: bool) -> list[Reply]:
    """The member's number, then the shop's own welcome auto-reply when it has one."""
    message = texts.WELCOME if created else texts.WELCOME_BACK
    shop_name = in_script(shop.display_name, locale)
    lines = [texts.say(locale, message, member_no=member.member_no, shop=shop_name)]
    lines.append(texts.say(locale, texts.HELP_HINT))
    replies = [Reply(text="\n".join(lines))]
    extra = await autoreplies.welcome_text(locale)
    if extra:
        replies.append(Reply(text=extra))
    return replies
