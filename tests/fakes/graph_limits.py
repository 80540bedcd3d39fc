"""What Meta's Graph API refuses in a WhatsApp send: the documented limits the fake
(:mod:`tests.fakes.graph_api`) checks before it accepts a message.

Pure: a send's JSON body in, the name of the first part at fault out ("" when Meta would
take it), so the limits read as one list and the server code stays about HTTP.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

_LIMITS = {"text": 4096, "caption": 1024, "button_body": 1024, "list_body": 4096}


def send_problem(body: dict[str, Any], media: Container[str]) -> str:
    """Why Meta would refuse this send (its documented limits), or "".

    ``media``: the ids of the media the fake holds (an image sent by id must be one).
    """
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product"
    if not (body.get("to") or body.get("recipient")):
        return "to"
    kind = body.get("type")
    payload = body.get(kind) if isinstance(kind, str) else None
    if not isinstance(payload, dict):
        return "type"
    if kind == "text":
        text = payload.get("body")
        return "" if isinstance(text, str) and 0 < len(text) <= _LIMITS["text"] else "text.body"
    if kind == "image":
        if payload.get("id") not in media and not payload.get("link"):
            return "image.id"
        return "image.caption" if len(payload.get("caption", "")) > _LIMITS["caption"] else ""
    if kind == "template":
        language = payload.get("language")
        ok = payload.get("name") and isinstance(language, dict) and language.get("code")
        return "" if ok else "template"
    if kind == "interactive":
        return _interactive_problem(payload, media)
    return f"type {kind}"


def _interactive_problem(payload: dict[str, Any], media: Container[str]) -> str:
    body = (payload.get("body") or {}).get("text")
    action = payload.get("action") or {}
    if payload.get("type") == "button":
        buttons = action.get("buttons") or []
        replies = [b.get("reply", {}) for b in buttons]
        titles = [r.get("title", "") for r in replies]
        ids = [r.get("id", "") for r in replies]
        header = payload.get("header")
        if header and (header.get("image") or {}).get("id") not in media:
            return "header.image.id"
        if not body or len(body) > _LIMITS["button_body"]:
            return "body.text"
        if not 1 <= len(buttons) <= 3 or len(set(ids)) != len(ids) or len(set(titles)) != len(ids):
            return "buttons"
        if any(not 0 < len(t) <= 20 for t in titles) or any(not 0 < len(i) <= 256 for i in ids):
            return "button title or id"
        return ""
    if payload.get("type") == "list":
        sections = action.get("sections") or []
        rows = [row for section in sections for row in section.get("rows", [])]
        if not body or len(body) > _LIMITS["list_body"]:
            return "body.text"
        if not 0 < len(action.get("button", "")) <= 20:
            return "action.button"
        if not 1 <= len(sections) <= 10 or not 1 <= len(rows) <= 10:
            return "rows"
        if len({row.get("id") for row in rows}) != len(rows):
            return "row ids"
        for row in rows:
            if not 0 < len(row.get("title", "")) <= 24 or len(row.get("description", "")) > 72:
                return "row title or description"
            if not 0 < len(row.get("id", "")) <= 200:
                return "row id"
        return ""
    return "interactive.type"
