"""STOP / 退訂 / 退订 and START: broadcasts off and back on for this channel, recorded with
the time on the conversation and on the member's ``marketing_opt_in``; always answered,
whatever the bot was waiting for (which is forgotten)."""

from __future__ import annotations

from loyalchat.bot import texts
from loyalchat.bot.chat import Chat
from loyalchat.bot.replies import Reply
from loyalchat.conversations import state


async def stop(chat: Chat) -> list[Reply]:
    await chat.wait_for_nothing()
    await state.opt_out(chat.conversation.id)
    return [Reply(text=chat.say(texts.STOPPED))]


async def start(chat: Chat) -> list[Reply]:
    await chat.wait_for_nothing()
    await state.opt_in(chat.conversation.id)
    return [Reply(text=chat.say(texts.STARTED))]
