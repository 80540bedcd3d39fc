"""An :class:`InboundEvent` as the JSON stored in the inbox, and back.

The webhook route stores each parsed event as an ``inbound_event`` payload before anything
else happens; the inbound handler reads it back in a worker. Text is made storable on the
way in (PostgreSQL refuses NUL in text and JSON) and cut to the columns' sizes, so no event
a provider sends can make the insert fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from loyalchat.extensions.channels import EventKind, InboundEvent

# Longest text kept from one message: far above any chat limit (WhatsApp 4,096 characters).
MAX_TEXT = 8000
MAX_ID = 255  # provider ids, senders, media ids: the varchar columns that hold them
MAX_RAW_BYTES = 16_000  # the adapter's ``raw`` extras, as JSON

_SHORT_FIELDS = ("provider_id", "sender", "media_id", "choice_id", "scene", "status", "ref")
_SHORT_FIELDS += ("profile_name", "phone", "account")


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as a string PostgreSQL can store: no NUL, no lone surrogates, cut to size."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = text.replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    return text[:limit]


def _clean_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    try:
        encoded = json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return {}
    encoded = clean_text(encoded.replace("\\u0000", ""), limit=10**9)
    if len(encoded) > MAX_RAW_BYTES:
        return {"truncated": True}
    value = json.loads(encoded)
    return value if isinstance(value, dict) else {}


def to_payload(event: InboundEvent) -> dict[str, Any]:
    """The event as a JSON-ready dict (the inbox payload)."""
    payload: dict[str, Any] = {"kind": EventKind(event.kind).value}
    for name in _SHORT_FIELDS:
        payload[name] = clean_text(getattr(event, name), MAX_ID)
    payload["text"] = clean_text(event.text)
    payload["at"] = event.at.isoformat() if isinstance(event.at, datetime) else None
    payload["raw"] = _clean_raw(event.raw or {})
    return payload


def from_payload(payload: Mapping[str, Any]) -> InboundEvent:
    """The event a payload of :func:`to_payload` describes (unknown keys ignored)."""
    at = payload.get("at")
    fields = {name: str(payload.get(name) or "") for name in _SHORT_FIELDS}
    return InboundEvent(
        kind=EventKind(payload.get("kind", EventKind.text.value)),
        text=str(payload.get("text") or ""),
        at=datetime.fromisoformat(at) if isinstance(at, str) and at else None,
        raw=dict(payload.get("raw") or {}),
        **fields,
    )


def is_unsupported(event: InboundEvent) -> bool:
    """A message type the adapter does not read (stored and answered politely)."""
    return bool(event.raw.get("unsupported")) if isinstance(event.raw, Mapping) else False
