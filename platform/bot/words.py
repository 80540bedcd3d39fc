"""What members type, reduced to a command: the words of each built-in command in the three
languages, compared after NFKC (full-width letters from a Chinese keyboard), case folding
and without surrounding punctuation.

:func:`command` is the bot's one reading of a text: ``"card"``, ``"rewards"``, ``"stop"``...
or "" when it is not a built-in command (then a pending question or the merchant's
auto-replies may take it).
"""

from __future__ import annotations

import string
import unicodedata

from loyalchat.members.card_reply import asks_for_card

_STRIP = string.punctuation + "。！？，、：；「」『』（）　 "

COMMANDS: dict[str, frozenset[str]] = {
    "card": frozenset({"balance", "my balance", "餘額", "余额", "會員號碼", "会员号码"}),
    "rewards": frozenset(
        {
            "rewards", "reward", "redeem", "gifts",
            "禮品", "礼品", "兌換", "兑换", "獎賞", "奖赏", "奖励", "換禮品", "换礼品",
        }
    ),
    "coupons": frozenset(
        {
            "my coupons", "coupons", "coupon", "my rewards",
            "我的優惠券", "我的优惠券", "優惠券", "优惠券", "我的獎賞", "我的奖赏", "我的奖励",
        }
    ),
    "profile": frozenset(
        {"name", "profile", "my details", "姓名", "資料", "资料", "我的資料", "我的资料", "登記", "登记"}
    ),
    "stop": frozenset({"stop", "unsubscribe", "退訂", "退订", "取消訂閱", "取消订阅"}),
    "start": frozenset({"start", "subscribe", "訂閱", "订阅", "恢復訂閱", "恢复订阅"}),
    "menu": frozenset({"menu", "help", "選單", "菜单", "目錄", "目录", "幫助", "帮助", "功能"}),
    "language": frozenset({"language", "語言", "语言", "languages"}),
}  # fmt: skip

# Saying a language switches to it ("中文" keeps the Chinese script already in use).
LANGUAGE_WORDS = {
    "english": "en",
    "英文": "en",
    "英語": "en",
    "英语": "en",
    "繁體": "zh-Hant",
    "繁体": "zh-Hant",
    "繁體中文": "zh-Hant",
    "繁体中文": "zh-Hant",
    "廣東話": "zh-Hant",
    "广东话": "zh-Hant",
    "简体": "zh-Hans",
    "簡體": "zh-Hans",
    "简体中文": "zh-Hans",
    "簡體中文": "zh-Hans",
    "中文": "zh",
    "chinese": "zh",
    "普通話": "zh",
    "普通话": "zh",
}

YES_WORDS = frozenset({"yes", "y", "ok", "okay", "confirm", "是", "好", "確認", "确认", "確定", "确定", "要"})  # fmt: skip
NO_WORDS = frozenset({"no", "n", "cancel", "否", "不", "不要", "取消", "唔要"})


def clean(text: str) -> str:
    """A message as compared with command words: NFKC, case-folded, single spaces, no
    surrounding punctuation."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip(_STRIP).casefold()
    return " ".join(cleaned.split())


def command(text: str) -> str:
    """The built-in command a text asks for, or ""."""
    if asks_for_card(text):
        return "card"
    word = clean(text)
    for name, words in COMMANDS.items():
        if word in words:
            return name
    return ""


def language_asked(text: str) -> str:
    """The language a text switches to: zh-Hant, zh-Hans, en, "zh" (Chinese, either
    script) or ""."""
    return LANGUAGE_WORDS.get(clean(text), "")


def join_code(text: str) -> str | None:
    """The code of a "JOIN <code>" message (the click-to-chat link prefills it), "" for a
    bare "JOIN", None when the text is not a join."""
    parts = clean(text).split()
    if parts and parts[0] in ("join", "加入"):
        return parts[1] if len(parts) > 1 else ""
    return None


def yes_or_no(text: str) -> bool | None:
    """True for yes, False for no, None for neither."""
    word = clean(text)
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None
