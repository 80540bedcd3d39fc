"""Join codes with a branch: ``<slug>#<branch>``.

The store QR prefills ``JOIN <code>`` (WhatsApp, web chat) or carries ``<code>`` as the
WeChat scene. The bot's join word (:func:`loyalchat.bot.words.join_code`) takes the first
word after ``JOIN`` as the code, case-folded, so a ``#`` inside it changes nothing for the
bot and old QR codes (``JOIN alpha-tea``) keep working. Branch codes are lower-case for
that reason. ``#`` because no slug holds one and wa.me and the web chat link percent-encode
it (a join link with a branch starts with the link without one, which the receipt
merchant check's prefix match relies on).
"""

from __future__ import annotations

import re

BRANCH_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")
BRANCH_MAX = 16
SEPARATOR = "#"
WECHAT_SCENE_MAX = 64  # WeChat's scene_str: 1-64 characters


def valid_branch(code: str) -> bool:
    """A branch code: 1-16 lower-case letters, digits or inner dashes."""
    return bool(BRANCH_RE.match(code))


def join_code(slug: str, branch: str = "", limit: int | None = None) -> str:
    """The code a QR carries: the slug, ``slug#branch`` with a branch; ``#branch`` alone
    when ``limit`` (a WeChat scene's 64) leaves no room for both (the account already names
    the shop there)."""
    if not branch:
        return slug
    code = f"{slug}{SEPARATOR}{branch}"
    if limit is not None and len(code) > limit:
        return f"{SEPARATOR}{branch}"
    return code


def split_code(code: str) -> tuple[str, str]:
    """``(slug, branch)`` of a join code as the bot or a scene gives it (case-folded);
    the branch is "" when there is none or it is not a valid branch code."""
    slug, _, branch = code.strip().casefold().partition(SEPARATOR)
    return slug, branch if valid_branch(branch) else ""
