"""The chat's menu ("menu" / "選單" / "菜单"): the bot's own entries, then the shop's keyword
auto-replies (exact and contains; a regular expression is no label), as choices: a list
or buttons where the channel has them, numbered lines otherwise. WeChat's custom menu is
pushed to WeChat itself; its clicks arrive as choices with the same ids (``cmd:card``...).
"""

from __future__ import annotations

from loyalchat.bot import texts
from loyalchat.bot.chat import MAX_CHOICES, Chat
from loyalchat.bot.replies import Reply
from loyalchat.conversations import autoreplies
from loyalchat.conversations.tables import ReplyMatch
from loyalchat.domain import NotFound
from loyalchat.extensions.channels import Choice
from loyalchat.texts import in_script, pick

# The bot's entries: choice id -> label.
ENTRIES = (
    ("cmd:card", texts.MENU_CARD),
    ("cmd:rewards", texts.MENU_REWARDS),
    ("cmd:coupons", texts.MENU_COUPONS),
    ("cmd:profile", texts.MENU_PROFILE),
    ("cmd:language", texts.MENU_LANGUAGE),
)
_LISTED = (ReplyMatch.exact.value, ReplyMatch.contains.value)


async def entries(locale: str) -> list[Choice]:
    """The menu's choices for a member reading ``locale``."""
    choices = [Choice(id=entry, title=texts.say(locale, label)) for entry, label in ENTRIES]
    for rule in await autoreplies.list_auto_replies():
        if len(choices) >= MAX_CHOICES:
            break
        if rule.active and rule.match in _LISTED and rule.language in ("", locale):
            choices.append(Choice(id=f"rule:{rule.id}", title=in_script(rule.pattern, locale)))
    return choices


async def show(chat: Chat) -> list[Reply]:
    reply, options = chat.offer(chat.say(texts.MENU_HEADER), await entries(chat.locale))
    await chat.wait_for({"step": "pick", "options": options})
    return [reply]


async def rule_reply(chat: Chat, rule_id: int) -> list[Reply]:
    """A menu entry of the shop's: its auto-reply (another shop's rule is not found)."""
    await chat.wait_for_nothing()
    try:
        rule = await autoreplies.get_auto_reply(rule_id)
    except NotFound:
        rule = None
    if rule is None or not rule.active:
        return [Reply(text=chat.say(texts.DEFAULT))]
    return [Reply(text=pick(rule.reply, chat.locale))]
