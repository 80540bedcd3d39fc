"""WhatsApp Cloud API webhooks: the signature, the GET handshake, and the events in a body.

Pure protocol, no web framework and no database: bytes and strings in, plain data out.

* POST bodies are signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
  body)>``. The HMAC is over the bytes exactly as received: Meta escapes non-ASCII text as
  ``\\uXXXX``, so hashing re-serialised JSON would fail on accented or Chinese text.
* A body is a batch: every ``entry``, every ``change``, every message and every status
  becomes an event (Chatwoot, pywa and heyoo all read only the first of each).
* Nothing in a body raises: a malformed body or a shape we do not know gives no event, an
  unknown message type gives a text event with ``raw={"unsupported": type}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from loyalchat.extensions.channels import EventKind, InboundEvent

__all__ = ["accounts_in", "challenge", "handshake_ok", "parse_body", "signature_ok"]

SIGNATURE_HEADER = "x-hub-signature-256"
_PREFIX = "sha256="
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Meta's batches hold up to 1,000 updates within 3 MB; anything larger is not from Meta.
MAX_BODY_BYTES = 3 * 1024 * 1024
MAX_CHALLENGE = 256  # Meta's challenge is a short number; never echo a long string back
DELIVERY_STATUSES = ("sent", "delivered", "read", "failed")


def signature_ok(body: bytes, header: str, app_secret: str) -> bool:
    """Whether ``header`` is ``sha256=`` + the HMAC-SHA256 of ``body`` under ``app_secret``.

    Constant-time compare; lowercase hex as Meta sends it (uppercase is accepted too).
    An empty secret never verifies anything.
    """
    if not app_secret or not header.startswith(_PREFIX):
        return False
    given = header[len(_PREFIX) :].strip().lower()
    if not _HEX64.fullmatch(given):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.encode(errors="replace"))


def handshake_ok(query: Mapping[str, str], verify_token: str) -> bool:
    """The GET verification: ``hub.mode=subscribe`` and our verify token (constant time)."""
    given = str(query.get("hub.verify_token", ""))
    if not verify_token or query.get("hub.mode") != "subscribe" or not challenge(query):
        return False
    return hmac.compare_digest(verify_token.encode(), given.encode(errors="replace"))


def challenge(query: Mapping[str, str]) -> str:
    """``hub.challenge``, echoed as is when short and printable ("" otherwise)."""
    value = str(query.get("hub.challenge", ""))
    if not value or len(value) > MAX_CHALLENGE or not value.isprintable():
        return ""
    return value


def accounts_in(body: bytes) -> list[str]:
    """The ``phone_number_id`` of every change in a webhook body, each once, in order.

    For routing the platform app's webhooks to shops; a malformed body names none.
    """
    found: list[str] = []
    for value in _values(_load(body)):
        account = _account(value)
        if account and account not in found:
            found.append(account)
    return found


def parse_body(body: bytes, *, only_account: str = "") -> list[InboundEvent]:
    """Every message and status of a webhook body, as events.

    ``only_account``: a shop's own webhook URL keeps only changes for its own number, so a
    body naming another ``phone_number_id`` cannot reach this shop's members.
    """
    events: list[InboundEvent] = []
    for value in _values(_load(body)):
        account = _account(value)
        if only_account and account != only_account:
            continue
        contacts = [c for c in _list(value.get("contacts")) if isinstance(c, dict)]
        for message in _list(value.get("messages")):
            if isinstance(message, dict) and (event := _message(message, contacts, account)):
                events.append(event)
        for status in _list(value.get("statuses")):
            if isinstance(status, dict) and (event := _status(status, account)):
                events.append(event)
    return events


def _load(body: bytes) -> Any:
    if not body or len(body) > MAX_BODY_BYTES:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        return None


def _values(payload: Any) -> Iterator[dict[str, Any]]:
    """The ``value`` of every ``messages`` change of every entry."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return
    for entry in _list(payload.get("entry")):
        if not isinstance(entry, dict):
            continue
        for change in _list(entry.get("changes")):
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = change.get("value")
            if isinstance(value, dict):
                yield value


def _account(value: Mapping[str, Any]) -> str:
    metadata = value.get("metadata")
    return _str(metadata.get("phone_number_id")) if isinstance(metadata, dict) else ""


def _message(
    message: Mapping[str, Any], contacts: list[dict[str, Any]], account: str
) -> InboundEvent | None:
    provider_id = _str(message.get("id"))
    phone = _str(message.get("from"))
    user_id = _str(message.get("from_user_id"))
    contact = _contact(contacts, phone, user_id)
    phone = phone or _str(contact.get("wa_id"))
    user_id = user_id or _str(contact.get("user_id"))
    sender = user_id or phone  # the BSUID when Meta sends one: a phone may be hidden later
    if not provider_id or not sender:
        return None
    profile = contact.get("profile")
    common: dict[str, Any] = {
        "provider_id": provider_id,
        "sender": sender,
        "phone": phone,
        "account": account,
        "profile_name": _str(profile.get("name")) if isinstance(profile, dict) else "",
        "at": _time(message.get("timestamp")),
    }
    kind = _str(message.get("type"))
    body = message.get(kind) if kind else None
    body = body if isinstance(body, dict) else {}
    if kind == "text":
        return InboundEvent(EventKind.text, text=_str(body.get("body")), **common)
    if kind == "image" and _str(body.get("id")):
        return InboundEvent(
            EventKind.image,
            media_id=_str(body.get("id")),
            text=_str(body.get("caption")),
            raw={"mime_type": _str(body.get("mime_type"))},
            **common,
        )
    if kind == "interactive":
        reply_type = _str(body.get("type"))
        reply = body.get(reply_type) if reply_type in ("list_reply", "button_reply") else None
        if isinstance(reply, dict) and _str(reply.get("id")):
            return _choice(_str(reply.get("id")), _str(reply.get("title")), message, common)
        kind = f"interactive.{reply_type or '?'}"
    if kind == "button" and _str(body.get("payload")):  # a template's quick-reply button
        return _choice(_str(body.get("payload")), _str(body.get("text")), message, common)
    return InboundEvent(EventKind.text, text="", raw={"unsupported": kind or "?"}, **common)


def _choice(
    choice_id: str, title: str, message: Mapping[str, Any], common: dict[str, Any]
) -> InboundEvent:
    context = message.get("context")
    replied_to = _str(context.get("id")) if isinstance(context, dict) else ""
    raw = {"context": replied_to} if replied_to else {}
    return InboundEvent(EventKind.choice, choice_id=choice_id, text=title, raw=raw, **common)


def _status(status: Mapping[str, Any], account: str) -> InboundEvent | None:
    ref = _str(status.get("id"))
    state = _str(status.get("status"))
    phone = _str(status.get("recipient_id"))
    sender = _str(status.get("recipient_user_id")) or phone
    if not ref or not state:
        return None
    text = ""
    errors = [e for e in _list(status.get("errors")) if isinstance(e, dict)]
    if state == "failed" and errors:
        error = errors[0]
        title = _str(error.get("title")) or _str(error.get("message"))
        text = f"{_str(error.get('code'))}: {title}"
    return InboundEvent(
        EventKind.delivery,
        provider_id=f"{ref}:{state}",  # one event per message and state: replays are no-ops
        sender=sender,
        phone=phone,
        account=account,
        ref=ref,
        status=state,
        text=text,
        at=_time(status.get("timestamp")),
    )


def _contact(contacts: list[dict[str, Any]], phone: str, user_id: str) -> dict[str, Any]:
    """The ``contacts`` entry of a message's sender (the only one, when it cannot be told)."""
    for contact in contacts:
        if (phone and _str(contact.get("wa_id")) == phone) or (
            user_id and _str(contact.get("user_id")) == user_id
        ):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    """A string field (Meta sends ids and codes as strings, sometimes as numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""
