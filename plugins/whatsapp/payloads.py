"""The JSON bodies the WhatsApp Cloud API's ``/messages`` endpoint takes, within its limits.

Pure functions: an :class:`OutboundMessage` in, dicts out. Meta refuses a message whose
fields are too long instead of shortening them, so every field is cut here to the
documented limit (text body 4096 characters, list rows 10 with titles of 24 and
descriptions of 72, reply buttons 3 with titles of 20, captions 1024).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from loyalchat.extensions.channels import Choice, OutboundMessage
from loyalchat.i18n import N_, translations
from loyalchat.texts import language_of

__all__ = [
    "MAX_BUTTONS",
    "MAX_ROWS",
    "choices_body",
    "cut",
    "envelope",
    "image_body",
    "template_body",
    "text_body",
]

TEXT_MAX = 4096
CAPTION_MAX = 1024
BUTTON_BODY_MAX = 1024
MAX_BUTTONS = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
MAX_ROWS = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
ELLIPSIS = "…"
# Interactive messages need a body; a choice sent with no text gets this (language-free).
EMPTY_BODY = "👇"
LIST_BUTTON = N_("Choose")  # the button that opens a list of choices
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole words and an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:  # a word boundary not too far back; CJK text has none
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def envelope(to: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The common fields of a send: the recipient and ``type`` with its object.

    A business-scoped user id (``US.1349...``) goes in ``recipient``; a phone number in
    ``to`` with its ``+`` (without it, Meta would prepend the business's country code).
    """
    message: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if _BSUID.fullmatch(to):
        message["recipient"] = to
    else:
        message["to"] = "+" + "".join(ch for ch in to if ch.isdigit())
    message["type"] = kind
    message[kind] = body
    return message


def text_body(message: OutboundMessage) -> dict[str, Any]:
    return envelope(message.to, "text", {"body": cut(message.text, TEXT_MAX)})


def image_body(message: OutboundMessage, media_id: str) -> dict[str, Any]:
    image: dict[str, Any] = {"id": media_id}
    if message.text.strip():
        image["caption"] = cut(message.text, CAPTION_MAX)
    return envelope(message.to, "image", image)


def template_body(message: OutboundMessage, default_language: str) -> dict[str, Any]:
    """An approved template with its body parameters (outside the 24-hour window)."""
    template: dict[str, Any] = {
        "name": message.template,
        "language": {
            "policy": "deterministic",
            "code": message.template_language or default_language,
        },
    }
    if message.template_params:
        template["components"] = [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": p} for p in message.template_params],
            }
        ]
    return envelope(message.to, "template", template)


def choices_body(message: OutboundMessage, image_id: str = "") -> dict[str, Any]:
    """Reply buttons for up to three choices (an image above them when given), a list
    of up to ten rows for more; choices past the tenth are left out."""
    choices = message.choices
    if len(choices) <= MAX_BUTTONS:
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": cut(message.text, BUTTON_BODY_MAX) or EMPTY_BODY},
            "action": {"buttons": _buttons(choices)},
        }
        if image_id:
            interactive["header"] = {"type": "image", "image": {"id": image_id}}
        return envelope(message.to, "interactive", interactive)
    body = cut(message.text, TEXT_MAX) or EMPTY_BODY
    label = translations(language_of(message.text)).gettext(LIST_BUTTON)
    interactive = {
        "type": "list",
        "body": {"text": body},
        "action": {
            "button": cut(label, LIST_BUTTON_MAX),
            "sections": [{"rows": _rows(choices[:MAX_ROWS])}],
        },
    }
    return envelope(message.to, "interactive", interactive)


def _buttons(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    titles = _unique([c.title or c.id for c in choices], BUTTON_TITLE_MAX)
    return [
        {"type": "reply", "reply": {"id": choice.id[:BUTTON_ID_MAX], "title": title}}
        for choice, title in zip(choices, titles, strict=True)
    ]


def _rows(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    titles = _unique([c.title or c.id for c in choices], ROW_TITLE_MAX)
    rows = []
    for choice, title in zip(choices, titles, strict=True):
        row = {"id": choice.id[:ROW_ID_MAX], "title": title}
        if choice.description.strip():
            row["description"] = cut(choice.description, ROW_DESCRIPTION_MAX)
        rows.append(row)
    return rows


def _unique(titles: list[str], limit: int) -> list[str]:
    """Titles cut to ``limit``; two that became the same get " 2", " 3"... (Meta refuses
    duplicate button titles, and a member could not tell two equal rows apart)."""
    result: list[str] = []
    for title in titles:
        candidate = cut(title, limit) or "?"
        number = 2
        while candidate in result:
            suffix = f" {number}"
            candidate = cut(title, limit - len(suffix)).removesuffix(ELLIPSIS) + suffix
            number += 1
        result.append(candidate)
    return result
