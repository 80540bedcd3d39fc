"""The conversation engine: one inbound event in, the replies out (:func:`respond`).

Runs in the tenant's context, for any channel. It may run twice for the same event (a
replayed webhook, the sweeper after a killed worker) and then does nothing twice: the
member is found by their channel ids, the redemption key comes from the provider message
id, and the event is answered from the step it saw the first time
(:func:`loyalchat.conversations.state.seen_state`).

The order a message is read in:

1. A shop that is not active answers that its programme is paused, and nothing else.
2. First contact (a follow, "JOIN <code>" or any message) makes the member and welcomes
   them with their number (then the shop's welcome auto-reply).
3. Photos get the holding reply unless the receipt pipeline took them (a photo that
   could not be fetched: "please send it again"); unknown message types a polite "text
   and photos only".
4. STOP / START and language switches ("English", "繁體", "简体", "中文") always work.
5. A tap on a choice, or the number of one in the pending question.
6. The built-in commands (card, rewards, my coupons, profile, menu, language): they
   cancel whatever question was pending.
7. The answer to the pending question (yes/no to a reward, a name, a phone); an answer to
   a question that expired is told so.
8. The shop's keyword auto-replies (exact, contains, regex by priority and language).
9. The shop's default reply, else the bot's ("send menu"); nothing after a welcome.

Built-ins come before the shop's keywords so that a rule can never take STOP or the card
away from members; a shop's exact keyword still wins over its default reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from loyalchat.bot import card, join, language, menu, optout, profile, rewards, texts, words
from loyalchat.bot.chat import Chat
from loyalchat.bot.replies import Reply, Turn
from loyalchat.conversations import autoreplies, state
from loyalchat.extensions.channels import EventKind
from loyalchat.languages import LOCALES
from loyalchat.tenants.service import current_tenant
from loyalchat.texts import in_script

__all__ = ["Reply", "Turn", "join_first", "respond"]

Handler = Callable[[Chat], Awaitable[list[Reply]]]
MAX_TEXT = 4096  # characters of a message the bot reads (WhatsApp's own limit)


async def _ask_language(chat: Chat) -> list[Reply]:
    reply, options = language.ask(chat)
    await chat.wait_for({"step": "pick", "options": options})
    return [reply]


COMMANDS: dict[str, Handler] = {
    "card": card.show,
    "rewards": rewards.show,
    "coupons": rewards.coupons,
    "profile": profile.start,
    "menu": menu.show,
    "language": _ask_language,
    "stop": optout.stop,
    "start": optout.start,
}


async def join_first(turn: Turn) -> int | None:
    """The conversation's member, joined now on first contact (step 2's join without its
    welcome): the core calls it before ``receipt_received`` so a first contact's picture
    reaches the receipt pipeline with its member. The join is recorded with this event,
    so :func:`respond` still welcomes them. None while the shop is not active."""
    shop = await current_tenant()
    if not shop.is_active:
        return None
    conversation = await state.get_conversation(turn.conversation_id)
    guessed = None
    if conversation.member_id is None:
        guessed = language.first_guess(turn.event, None, shop.locale)
    member, _ = await join.member_of(turn, conversation, guessed)
    return member.id


async def respond(turn: Turn) -> list[Reply]:
    """The bot's replies to one inbound event of the current tenant's conversation."""
    if len(turn.event.text) > MAX_TEXT:  # no command or answer is longer; spare the work
        turn = replace(turn, event=replace(turn.event, text=turn.event.text[:MAX_TEXT]))
    event = turn.event
    if event.kind in (EventKind.unfollow, EventKind.delivery):
        return []
    shop = await current_tenant()
    conversation = await state.get_conversation(turn.conversation_id)
    text = event.text or ""
    if not shop.is_active:
        locale = conversation.locale or language.guess(text, shop.locale) or ""
        locale = language.current(conversation, locale, shop.locale)
        name = in_script(shop.display_name, locale)
        return [Reply(text=texts.say(locale, texts.PAUSED, shop=name))]
    guessed = None
    if conversation.member_id is None:
        says = event.kind == EventKind.text and words.join_code(text) is None
        guessed = language.first_guess(event, text if says else None, shop.locale)
    member, joined = await join.member_of(turn, conversation, guessed)
    if joined is not None:  # the conversation changed: read it again
        if guessed and not member.locale and not conversation.locale:
            # An existing member without a language (found by their phone): the guess
            # holds for this conversation.
            await state.set_locale(conversation.id, guessed)
        conversation = await state.get_conversation(turn.conversation_id)
    locale = language.current(conversation, member.locale or guessed or "", shop.locale)
    seen = state.seen_state(conversation, turn.inbound_event_id)
    chat = Chat(turn, shop, conversation, member, locale, seen)
    replies = []
    if joined is not None:
        replies += await join.welcome(member, shop, locale, created=joined)
    return replies + await _answer(chat, welcomed=joined is not None)


async def _answer(chat: Chat, *, welcomed: bool) -> list[Reply]:
    event = chat.turn.event
    if event.raw.get("unsupported"):
        return [Reply(text=chat.say(texts.UNSUPPORTED))]
    if event.kind == EventKind.image:
        if chat.turn.receipt_taken:
            return []
        if not chat.turn.media_key:  # the download failed or was refused (too large)
            return [Reply(text=chat.say(texts.PHOTO_LOST))]
        return [Reply(text=chat.say(texts.RECEIPT_HOLD))]
    if event.kind == EventKind.follow:
        return [] if welcomed else await join.welcome(chat.member, chat.shop, chat.locale, False)
    if event.kind == EventKind.choice and event.choice_id:
        return await _choose(chat, event.choice_id, event.text)
    text = event.text or ""
    if words.join_code(text) is not None:
        return [] if welcomed else await join.welcome(chat.member, chat.shop, chat.locale, False)
    return await _read(chat, text, welcomed=welcomed)


async def _read(chat: Chat, text: str, *, welcomed: bool, numbers: bool = True) -> list[Reply]:
    """A typed message, in the order the module's docstring gives (``numbers``: a number
    may pick a choice of the pending question)."""
    command = words.command(text)
    if command in ("stop", "start"):
        return await COMMANDS[command](chat)
    asked = words.language_asked(text)
    if asked:
        locale = language.resolve_chinese(asked, chat.locale, chat.shop.locale)
        await chat.wait_for_nothing()
        return [await language.switch(chat.conversation, chat.member.id, locale)]
    options = chat.seen.get("options") or {}
    picked = options.get(words.clean(text)) if numbers and isinstance(options, dict) else None
    if picked:
        return await _choose(chat, picked, text)
    if command:
        return await COMMANDS[command](chat)
    pending = await _pending(chat, text)
    if pending is not None:
        return pending
    expired = chat.conversation.expired_state().get("step")
    if expired in ("confirm", "redeemed") and words.yes_or_no(text) is not None:
        await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.EXPIRED))]
    matched = await autoreplies.find_reply(text, chat.locale)
    if matched is not None:
        await chat.wait_for_nothing()
        return [Reply(text=matched.reply)]
    if welcomed:
        return []
    default = await autoreplies.default_text(chat.locale)
    return [Reply(text=default or chat.say(texts.DEFAULT))]


async def _pending(chat: Chat, text: str) -> list[Reply] | None:
    """The answer to the question the bot asked, or None when it is not one."""
    step = chat.seen.get("step")
    if step in ("confirm", "redeemed"):
        yes = words.yes_or_no(text)
        return None if yes is None else await rewards.answer(chat, yes)
    if step in ("name", "phone"):
        return await profile.answer(chat, text)
    if step == "receipt_amount" and isinstance(chat.seen.get("receipt"), int):
        return await _receipt_amount(chat, chat.seen["receipt"], text)
    return None


async def _receipt_amount(chat: Chat, receipt_id: int, text: str) -> list[Reply] | None:
    """The member's answer to "Reply 1 to confirm or type the right amount" (the receipt
    pipeline asked). Once that receipt no longer waits for an answer (decided, or expired
    to review) the step is forgotten and the message is read as any other."""
    from loyalchat.receipts import review  # the receipts domain sits above the bot

    answered = await review.member_answer(receipt_id, text)
    if answered is None:
        await chat.wait_for_nothing()
        return None
    return [Reply(text=line) for line in answered]


async def _choose(chat: Chat, choice_id: str, text: str) -> list[Reply]:
    """A choice by id: ``reward:<id>``, ``confirm:yes|no``, ``lang:<code>``,
    ``cmd:<command>``, ``rule:<auto-reply id>``; any other id (a menu click's key) is read
    as if typed."""
    kind, _, value = choice_id.partition(":")
    kind = kind.lower()
    if kind == "reward" and value.isdigit():
        return await rewards.confirm(chat, int(value))
    if kind == "confirm" and value in ("yes", "no"):
        answered = await rewards.answer(chat, value == "yes")
        if answered is not None:
            return answered
        if chat.conversation.expired_state():
            await chat.wait_for_nothing()
        return [Reply(text=chat.say(texts.EXPIRED))]
    if kind == "lang" and value in LOCALES:
        await chat.wait_for_nothing()
        return [await language.switch(chat.conversation, chat.member.id, value)]
    if kind == "cmd" and value.lower() in COMMANDS:
        return await COMMANDS[value.lower()](chat)
    if kind == "rule" and value.isdigit():
        return await menu.rule_reply(chat, int(value))
    key = choice_id.replace("_", " ")  # a WeChat menu click's key: "CARD", "MY_COUPONS"
    typed = key if words.command(key) or not text else text
    return await _read(chat, typed, welcomed=False, numbers=False)
