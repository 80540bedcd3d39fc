"""WhatsApp Cloud API webhook bodies as Meta sends them, signed with a given app secret.

Shapes follow Meta's webhook reference (``../shared/research/channels.md`` A4): one
envelope ``{"object": "whatsapp_business_account", "entry": [...]}``, each entry with
``changes``, each change's ``value`` with ``metadata``, ``contacts`` and ``messages`` or
``statuses``. Bodies are compact JSON with non-ASCII escaped (``\\u00e9``), as on the wire.

    body, headers = signed(webhook(text_message("積分")), app_secret)
    client.post("/hooks/whatsapp/demo", content=body, headers=headers)

A message builder returns a :class:`WaMessage` (the message and its sender's ``contacts``
entry); :func:`change` puts messages and statuses of one number together; :func:`entry`
and :func:`envelope` make batches of several changes and entries.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DISPLAY_PHONE",
    "PHONE_NUMBER_ID",
    "WABA_ID",
    "WA_ID",
    "WaMessage",
    "button_reply",
    "change",
    "encode",
    "entry",
    "envelope",
    "handshake_query",
    "image_message",
    "list_reply",
    "message_of_type",
    "sign",
    "signed",
    "status",
    "template_button",
    "text_message",
    "wamid",
    "webhook",
]

PHONE_NUMBER_ID = "106540352242922"  # Meta's overview example
DISPLAY_PHONE = "15550783881"
WABA_ID = "102290129340398"
WA_ID = "16505551234"
NAME = "Sheena Nelson"
_counter = itertools.count(1)


def wamid() -> str:
    """A fresh WhatsApp message id (``wamid.`` + opaque text, unique per call)."""
    return f"wamid.HBgL{uuid.uuid4().hex.upper()}{next(_counter)}"


@dataclass(frozen=True, slots=True)
class WaMessage:
    """One inbound message and its sender's entry in ``contacts``."""

    message: dict[str, Any]
    contact: dict[str, Any] = field(default_factory=dict)


def _message(
    kind: str,
    payload: dict[str, Any] | None,
    *,
    wa_id: str,
    user_id: str,
    name: str,
    id: str | None,
    timestamp: int | None,
    context: str = "",
) -> WaMessage:
    message: dict[str, Any] = {}
    if context:
        message["context"] = {"from": DISPLAY_PHONE, "id": context}
    if wa_id:
        message["from"] = wa_id
    if user_id:
        message["from_user_id"] = user_id
    message.update(
        {"id": id or wamid(), "timestamp": str(timestamp or int(time.time())), "type": kind}
    )
    if payload is not None:
        message[kind] = payload
    contact: dict[str, Any] = {"profile": {"name": name}} if name else {}
    if wa_id:
        contact["wa_id"] = wa_id
    if user_id:
        contact["user_id"] = user_id
    return WaMessage(message, contact)


def text_message(
    text: str,
    *,
    wa_id: str = WA_ID,
    user_id: str = "",
    name: str = NAME,
    id: str | None = None,
    timestamp: int | None = None,
) -> WaMessage:
    """A text message; ``user_id`` adds the business-scoped user id (BSUID), ``wa_id=""``
    leaves the phone out as Meta does for a member with a username."""
    return _message(
        "text", {"body": text}, wa_id=wa_id, user_id=user_id, name=name, id=id, timestamp=timestamp
    )


def image_message(
    media_id: str,
    *,
    caption: str = "",
    mime_type: str = "image/jpeg",
    sha256: str = "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
    url: str = "",
    wa_id: str = WA_ID,
    user_id: str = "",
    name: str = NAME,
    id: str | None = None,
    timestamp: int | None = None,
) -> WaMessage:
    """A photo (a receipt): download it with ``media_id`` (``url`` is optional, newer)."""
    image: dict[str, Any] = {"mime_type": mime_type, "sha256": sha256, "id": media_id}
    if caption:
        image["caption"] = caption
    if url:
        image["url"] = url
    return _message(
        "image", image, wa_id=wa_id, user_id=user_id, name=name, id=id, timestamp=timestamp
    )


def list_reply(
    row_id: str,
    title: str = "",
    *,
    description: str = "",
    context: str = "",
    wa_id: str = WA_ID,
    user_id: str = "",
    name: str = NAME,
    id: str | None = None,
    timestamp: int | None = None,
) -> WaMessage:
    """The member chose a row of a list we sent (``context`` = that list's wamid)."""
    reply = {"id": row_id, "title": title or row_id, "description": description}
    return _message(
        "interactive",
        {"type": "list_reply", "list_reply": reply},
        wa_id=wa_id,
        user_id=user_id,
        name=name,
        id=id,
        timestamp=timestamp,
        context=context or wamid(),
    )


def button_reply(
    button_id: str,
    title: str = "",
    *,
    context: str = "",
    wa_id: str = WA_ID,
    user_id: str = "",
    name: str = NAME,
    id: str | None = None,
    timestamp: int | None = None,
) -> WaMessage:
    """The member tapped one of the reply buttons we sent."""
    return _message(
        "interactive",
        {"type": "button_reply", "button_reply": {"id": button_id, "title": title or button_id}},
        wa_id=wa_id,
        user_id=user_id,
        name=name,
        id=id,
        timestamp=timestamp,
        context=context or wamid(),
    )


def template_button(
    payload: str, text: str = "", *, wa_id: str = WA_ID, id: str | None = None
) -> WaMessage:
    """A template's quick-reply button (``type: button``, the older shape)."""
    return _message(
        "button",
        {"payload": payload, "text": text or payload},
        wa_id=wa_id,
        user_id="",
        name=NAME,
        id=id,
        timestamp=None,
        context=wamid(),
    )


def message_of_type(
    kind: str, payload: dict[str, Any] | None = None, *, wa_id: str = WA_ID, id: str | None = None
) -> WaMessage:
    """Any other type (sticker, location, reaction, system...): the bot cannot read these."""
    return _message(
        kind,
        payload if payload is not None else {},
        wa_id=wa_id,
        user_id="",
        name=NAME,
        id=id,
        timestamp=None,
    )


def status(
    message_id: str,
    state: str,
    *,
    recipient: str = WA_ID,
    recipient_user_id: str = "",
    error_code: int | None = None,
    error_title: str = "",
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A status of a message we sent: sent, delivered, read or failed (with its error)."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(timestamp or int(time.time())),
    }
    if recipient:
        item["recipient_id"] = recipient
    if recipient_user_id:
        item["recipient_user_id"] = recipient_user_id
    if state in ("sent", "delivered", "read"):
        item["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service"}
    if error_code is not None:
        title = error_title or "Message undeliverable"
        item["errors"] = [
            {
                "code": error_code,
                "title": title,
                "message": title,
                "error_data": {"details": title},
            }
        ]
    return item


def change(
    *items: WaMessage | dict[str, Any],
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone: str = DISPLAY_PHONE,
) -> dict[str, Any]:
    """One ``messages`` change of one number: messages (:class:`WaMessage`) and statuses."""
    messages = [item for item in items if isinstance(item, WaMessage)]
    statuses = [item for item in items if not isinstance(item, WaMessage)]
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone, "phone_number_id": phone_number_id},
    }
    contacts: list[dict[str, Any]] = []
    for item in messages:
        if item.contact and item.contact not in contacts:
            contacts.append(item.contact)
    if contacts:
        value["contacts"] = contacts
    if messages:
        value["messages"] = [item.message for item in messages]
    if statuses:
        value["statuses"] = statuses
    return {"value": value, "field": "messages"}


def entry(*changes: dict[str, Any], waba_id: str = WABA_ID) -> dict[str, Any]:
    return {"id": waba_id, "changes": list(changes)}


def envelope(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": list(entries)}


def webhook(
    *items: WaMessage | dict[str, Any],
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone: str = DISPLAY_PHONE,
) -> dict[str, Any]:
    """The usual body: one entry, one change, these messages and statuses."""
    return envelope(
        entry(change(*items, phone_number_id=phone_number_id, display_phone=display_phone))
    )


def encode(payload: dict[str, Any] | bytes) -> bytes:
    """Wire bytes: compact JSON with non-ASCII as ``\\uXXXX`` escapes, as Meta sends."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value of ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed(payload: dict[str, Any] | bytes, app_secret: str) -> tuple[bytes, dict[str, str]]:
    """The body's bytes and the headers Meta sends with it (signature included)."""
    body = encode(payload)
    return body, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(body, app_secret),
    }


def handshake_query(verify_token: str, challenge: str = "1158201444") -> dict[str, str]:
    """The query of Meta's GET verification request."""
    return {
        "hub.mode": "subscribe",
        "hub.challenge": challenge,
        "hub.verify_token": verify_token,
    }
