"""The chat's answer to "會員" / "会员" / "card": the member's points and a fresh wallet link.

Channels (WhatsApp, WeChat, plugins) call :func:`asks_for_card` on an incoming text and,
when it is true, send :func:`card_reply`. A wallet link expires
(``Settings.wallet_link_max_age``), so asking again is how a member refreshes it.
"""

from __future__ import annotations

import string
import unicodedata

from loyalchat.members import links
from loyalchat.settings import get_settings
from loyalchat.tenants.service import current_tenant

# What members type to see their card, in the three languages (compared case-folded).
CARD_WORDS = frozenset(
    {
        "會員", "會員卡", "積分", "我的積分",
        "会员", "会员卡", "积分", "我的积分",
        "card", "my card", "member", "points", "my points",
    }
)  # fmt: skip
_STRIP = string.punctuation + "。！？，、：；「」『』（）　 "

REPLIES = {
    "zh-Hant": "{shop} 會員 {no}\n積分：{points:,}\n會員卡金額：{value}\n"
    "查看會員卡、紀錄及兌換獎賞：{url}\n（連結 {lifetime}內有效，再傳「會員」可取得新連結）",
    "zh-Hans": "{shop} 会员 {no}\n积分：{points:,}\n会员卡余额：{value}\n"
    "查看会员卡、记录及兑换奖励：{url}\n（链接 {lifetime}内有效，再发“会员”可获取新链接）",
    "en": "{shop} member {no}\nPoints: {points:,}\nStored value: {value}\n"
    "Your card, history and rewards: {url}\n(The link works for {lifetime}; send "
    '"card" for a new one.)',
}
# How long a link works, in whole days when it is days, else in hours (a day by default).
LIFETIMES = {
    "zh-Hant": ("{n} 日", "{n} 小時"),
    "zh-Hans": ("{n} 天", "{n} 小时"),
    "en": ("{n} days", "{n} hours"),
}


def lifetime(language: str, seconds: int) -> str:
    """``24 hours``, ``7 days``... in ``language`` (zh-Hant, zh-Hans, en)."""
    days, hours = LIFETIMES.get(language, LIFETIMES["en"])
    hours_total = max(1, seconds // 3600)
    if hours_total >= 48 and hours_total % 24 == 0:
        return days.format(n=hours_total // 24)
    return hours.format(n=hours_total)


def asks_for_card(text: str) -> bool:
    """Whether a chat message asks for the member card (會員, 会员, card, points...)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip(_STRIP).casefold()
    return " ".join(cleaned.split()) in CARD_WORDS


async def card_reply(member_id: int, locale: str | None = None) -> str:
    """The reply text for the current tenant's member: balances and a fresh wallet link.

    The language is ``locale``, else the member's, else the shop's.
    """
    shop = await current_tenant()
    member = await links.wallet_member(member_id)
    language = locale or member.locale or shop.locale
    language = language if language in REPLIES else "en"
    template = REPLIES[language]
    url = await links.wallet_url(member.id, shop)
    return template.format(
        shop=shop.display_name,
        no=member.member_no,
        points=member.points,
        value=f"{shop.currency} {member.stored_value:,.2f}",
        url=url,
        lifetime=lifetime(language, get_settings().wallet_link_max_age),
    )


__all__ = ["CARD_WORDS", "asks_for_card", "card_reply"]
