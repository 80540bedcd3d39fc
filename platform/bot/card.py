"""The member's card in the chat: points, stored value and a fresh wallet link
(``members.card_reply``), in the member's language."""

from __future__ import annotations

from loyalchat.bot.chat import Chat
from loyalchat.bot.replies import Reply
from loyalchat.members.card_reply import card_reply


async def show(chat: Chat) -> list[Reply]:
    await chat.wait_for_nothing()
    return [Reply(text=await card_reply(chat.member.id, chat.locale))]
