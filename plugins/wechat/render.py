"""What WeChat shows: choices as numbered text, and the custom menu's JSON.

A WeChat chat has no buttons, so a list of choices becomes lines ``1. title`` and a hint
to reply with the number (the bot maps the number back). The message carries no
language, so the hint follows the script of the message's own text: Traditional,
Simplified or English (:mod:`loyalchat.languages` tells the two scripts apart).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from loyalchat.extensions.channels import OutboundMessage
from loyalchat.i18n import N_, translations
from loyalchat.languages import to_simplified, to_traditional

__all__ = ["RECEIPT", "MenuEntry", "choices_text", "guess_locale", "menu_json", "message_text"]

CHOICE_HINT = N_("Reply with the number of your choice.")
RECEIPT, CARD, REWARDS = "RECEIPT", "CARD", "REWARDS"
MAX_BUTTONS = 3  # WeChat: 1-3 top-level buttons
MAX_NAME_BYTES = 16  # a top-level button's name
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def guess_locale(text: str) -> str:
    """zh-Hant, zh-Hans or en from a text's script (Traditional when it cannot tell)."""
    if not _HAN.search(text):
        return "en"
    if to_simplified(text) != text:
        return "zh-Hant"
    return "zh-Hans" if to_traditional(text) != text else "zh-Hant"


def choices_text(message: OutboundMessage) -> str:
    """The message's text, then its choices numbered from 1, then how to answer."""
    locale = guess_locale(message.text + "".join(c.title for c in message.choices))
    lines = []
    for number, choice in enumerate(message.choices, start=1):
        line = f"{number}. {choice.title}"
        if choice.description:
            line += f" ({choice.description})"
        lines.append(line)
    hint = translations(locale).gettext(CHOICE_HINT)
    parts = [message.text.strip(), "\n".join(lines), hint]
    return "\n\n".join(part for part in parts if part)


def message_text(message: OutboundMessage) -> str:
    """The text WeChat gets for ``message`` (its choices rendered, if any)."""
    return choices_text(message) if message.choices else message.text


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A menu button: ``RECEIPT`` opens the camera or album, a ``url`` opens a page,
    any other key is a click the bot receives as a choice with that id."""

    key: str
    title: str
    url: str = ""


def _name(title: str) -> str:
    """``title`` cut to WeChat's 16 bytes at a character boundary (it refuses longer)."""
    data = title.strip().encode()[:MAX_NAME_BYTES]
    return data.decode("utf-8", "ignore")


def _entries(entries: Mapping[str, str] | Iterable[MenuEntry]) -> Sequence[MenuEntry]:
    if isinstance(entries, Mapping):
        return [MenuEntry(str(key), str(title)) for key, title in entries.items()]
    return list(entries)


def menu_json(entries: Mapping[str, str] | Iterable[MenuEntry]) -> dict:
    """The body of ``/cgi-bin/menu/create``: one top-level button per entry (at most 3).

    ``entries`` is a list of :class:`MenuEntry` or a mapping key -> title, e.g.
    ``{"RECEIPT": "上載收據", "CARD": "我的會員卡", "REWARDS": "獎賞"}`` in the shop's
    language; the caller chooses the titles.
    """
    items = _entries(entries)
    if not 1 <= len(items) <= MAX_BUTTONS:
        raise ValueError(f"a WeChat menu has 1 to {MAX_BUTTONS} buttons, not {len(items)}")
    buttons = []
    for entry in items:
        name = _name(entry.title)
        if not name or not entry.key:
            raise ValueError("every menu button needs a key and a title")
        if entry.url:
            buttons.append({"type": "view", "name": name, "url": entry.url})
        elif entry.key == RECEIPT:
            buttons.append({"type": "pic_photo_or_album", "name": name, "key": RECEIPT})
        else:
            buttons.append({"type": "click", "name": name, "key": entry.key})
    return {"button": buttons}
