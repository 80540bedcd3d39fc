"""The language the bot answers in: the conversation's, else the member's, else a guess from
the first message (Traditional or Simplified characters by OpenCC, Latin letters: English)
and the channel's locale (the web chat page's language, ``event.raw["locale"]``), else the
shop's. Saying a language ("English", "繁體", "简体", "中文") changes it for the
conversation and the member (``members.service.choose_language``: the wallet's too).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from loyalchat.bot import texts
from loyalchat.bot.chat import Chat
from loyalchat.bot.replies import Reply
from loyalchat.conversations import state
from loyalchat.conversations.state import ConversationOut
from loyalchat.extensions.channels import Choice, InboundEvent
from loyalchat.i18n import LANGUAGE_NAMES
from loyalchat.languages import LOCALES, to_simplified, to_traditional
from loyalchat.members import service as members
from loyalchat.texts import normalize_locale


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


def guess(text: str, shop_locale: str) -> str | None:
    """The language a message is written in, or None when it does not say (digits, emoji).

    Chinese with Traditional characters is zh-Hant, with Simplified ones zh-Hans; Chinese
    whose characters are the same in both ("你好") is the shop's Chinese, else Traditional.
    """
    text = unicodedata.normalize("NFKC", text or "")
    if _has_cjk(text):
        # Characters that change to Simplified are Traditional ones (checked first: the
        # Hong Kong table also "changes" some Traditional characters, 兌 -> 兑).
        if to_simplified(text) != text:
            return "zh-Hant"
        if to_traditional(text) != text:
            return "zh-Hans"
        shop = normalize_locale(shop_locale)
        return shop if shop.startswith("zh") else "zh-Hant"
    if any(char.isascii() and char.isalpha() for char in text):
        return "en"
    return None


def channel_locale(event: InboundEvent) -> str | None:
    """The language the channel says the person reads (the web chat page's), or None."""
    raw = event.raw.get("locale") if isinstance(event.raw, Mapping) else None
    locale = normalize_locale(raw) if isinstance(raw, str) and raw else ""
    return locale if locale in LOCALES else None


def first_guess(event: InboundEvent, text: str | None, shop_locale: str) -> str | None:
    """A new conversation's language before anyone chose one: Chinese written in the
    message (its script tells), else the channel's locale, else the message's letters.
    ``text`` None: the message says nothing (a join code, a photo)."""
    written = guess(text, shop_locale) if text is not None else None
    if written and written.startswith("zh"):
        return written
    return channel_locale(event) or written


def current(conversation: ConversationOut, member_locale: str, shop_locale: str) -> str:
    """The language to answer in now, without a guess."""
    for locale in (conversation.locale, member_locale):
        if locale in LOCALES:
            return locale
    return normalize_locale(shop_locale)


def resolve_chinese(asked: str, now: str, shop_locale: str) -> str:
    """``asked`` from :func:`loyalchat.bot.words.language_asked`, with "zh" made a script:
    the Chinese already in use, else the shop's, else Traditional."""
    if asked != "zh":
        return asked
    if now.startswith("zh"):
        return now
    shop = normalize_locale(shop_locale)
    return shop if shop.startswith("zh") else "zh-Hant"


async def switch(conversation: ConversationOut, member_id: int | None, locale: str) -> Reply:
    """Answer in ``locale`` from now on, in this conversation and for the member."""
    await state.set_locale(conversation.id, locale)
    if member_id is not None:
        await members.choose_language(member_id, locale)
    return Reply(text=texts.say(locale, texts.LANGUAGE_SET))


def ask(chat: Chat) -> tuple[Reply, dict[str, str]]:
    """Which language: one choice per language, each named in its own script."""
    choices = [Choice(id=f"lang:{code}", title=LANGUAGE_NAMES[code]) for code in LOCALES]
    return chat.offer(texts.say(chat.locale, texts.LANGUAGE_ASK), choices)


__all__ = [
    "ask",
    "channel_locale",
    "current",
    "first_guess",
    "guess",
    "resolve_chinese",
    "switch",
]
