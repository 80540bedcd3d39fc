"""WeChat webhooks in: check a request (signature, freshness, safe mode) and read its events.

WeChat pushes XML (or JSON, when the account chose that format) to the server URL with
``signature``, ``timestamp`` and ``nonce`` in the query; safe mode adds
``encrypt_type=aes`` and ``msg_signature`` and the body carries only ``Encrypt``. In
plain mode the body is not signed at all, so a timestamp more than five minutes away from
ours is refused to bound replays of a captured URL. Bodies are capped before parsing and
parsed with defusedxml, which refuses DTDs, entities and external references.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import EventKind, InboundEvent
from loyalchat.plugins.wechat.crypto import CryptoError, decrypt, signature_matches

__all__ = ["MAX_BODY_BYTES", "MAX_SKEW_SECONDS", "event_of", "open_request", "read_fields"]

MAX_BODY_BYTES = 64 * 1024  # WeChat's pushes are a few hundred bytes; text is <= 2,048 chars
MAX_SKEW_SECONDS = 300
_MAX_PROVIDER_ID = 200  # inbound_event.provider_key is 255 characters


def _fresh(timestamp: str, now: float | None) -> bool:
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs((time.time() if now is None else now) - int(timestamp)) <= MAX_SKEW_SECONDS


def read_fields(body: bytes) -> dict[str, str] | None:
    """The top-level fields of a WeChat XML (or JSON) body, or None when it is not one.

    Only direct children with text count (nested ones such as ``SendPicsInfo`` are
    skipped): every field the adapter reads is at the top level.
    """
    if len(body) > MAX_BODY_BYTES:
        return None
    if body.lstrip()[:1] == b"{":
        return _json_fields(body)
    try:
        root = DET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError, UnicodeError):
        return None
    if root.tag != "xml":
        return None
    return {child.tag: child.text or "" for child in root if isinstance(child.tag, str)}


def _json_fields(body: bytes) -> dict[str, str] | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return {
        str(key): str(value)
        for key, value in data.items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    }


def open_request(
    request: InboundRequest, config: Mapping[str, Any], *, now: float | None = None
) -> tuple[bool, dict[str, str] | None, str]:
    """Check ``request`` against the tenant's ``config``; return (ok, fields, echo).

    ``fields`` are the message's fields (decrypted in safe mode) for a POST, ``echo`` what
    a GET URL verification answers. A request is refused when its timestamp is stale, its
    signature wrong, its body too large, or (safe mode) its ``msg_signature``, decryption
    or appid suffix fails; a plain request to an account in safe mode is refused too.
    """
    token = str(config.get("token") or "")
    query = request.query
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not token or not _fresh(timestamp, now) or len(request.body) > MAX_BODY_BYTES:
        return False, None, ""
    safe = str(config.get("mode") or "plain") == "safe"
    key, appid = str(config.get("encoding_aes_key") or ""), str(config.get("appid") or "")
    msg_signature = query.get("msg_signature", "")

    if request.method.upper() == "GET":
        echostr = query.get("echostr", "")
        if not echostr:
            return False, None, ""
        if msg_signature:  # an encrypted echostr (signed with it, like a message)
            if not signature_matches(msg_signature, token, timestamp, nonce, echostr):
                return False, None, ""
            try:
                return True, None, decrypt(echostr, key, appid).decode()
            except (CryptoError, UnicodeError):
                return False, None, ""
        ok = signature_matches(query.get("signature", ""), token, timestamp, nonce)
        return ok, None, echostr if ok else ""

    envelope = read_fields(request.body)
    if envelope is None:
        # Plain mode does not sign the body: the signature decides, parse() says it is bad.
        ok = not safe and signature_matches(query.get("signature", ""), token, timestamp, nonce)
        return ok, None, ""
    # Compatible mode sends plain fields beside Encrypt: without a key they are what we read.
    encrypted = "Encrypt" in envelope and (safe or bool(key))
    if not encrypted:
        if safe or not signature_matches(query.get("signature", ""), token, timestamp, nonce):
            return False, None, ""
        return _for_account(envelope, config)
    encrypt = envelope.get("Encrypt", "")
    if not encrypt or not signature_matches(msg_signature, token, timestamp, nonce, encrypt):
        return False, None, ""
    try:
        inner = read_fields(decrypt(encrypt, key, appid))
    except CryptoError:
        return False, None, ""
    return _for_account(inner, config) if inner is not None else (True, None, "")


def _for_account(
    fields: dict[str, str], config: Mapping[str, Any]
) -> tuple[bool, dict[str, str] | None, str]:
    """Refuse a push addressed to another account than the tenant's ``original_id`` (when
    set): plain mode signs no body, so this is what keeps one shop's pushes out of another's."""
    original_id = str(config.get("original_id") or "").strip()
    to = fields.get("ToUserName", "").strip()
    if original_id and to and to != original_id:
        return False, None, ""
    return True, fields, ""


def _provider_id(*parts: str) -> str:
    text = ":".join(parts)
    if len(text) <= _MAX_PROVIDER_ID:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _created(fields: Mapping[str, str]) -> datetime | None:
    created = fields.get("CreateTime", "").strip()
    if not created.isdigit() or len(created) > 12:
        return None
    return datetime.fromtimestamp(int(created), UTC)


def event_of(fields: Mapping[str, str]) -> InboundEvent | None:
    """The :class:`InboundEvent` of one pushed message or event, or None for what we skip.

    Skipped: VIEW (the member opened a menu link and left the chat: nothing to answer,
    and it opens no customer-service window), menu picture/scan/location events (the
    picture arrives again as an ``image`` message), job reports and unknown events.
    Unknown *message* types are kept as an empty text marked ``unsupported`` so the bot
    can answer politely.
    """
    sender = fields.get("FromUserName", "").strip()
    if not sender:
        return None
    common: dict[str, Any] = {
        "sender": sender,
        "account": fields.get("ToUserName", "").strip(),
        "at": _created(fields),
    }
    msg_type = fields.get("MsgType", "").strip().lower()
    if msg_type == "event":
        return _event(fields, common)
    msg_id = fields.get("MsgId", "").strip()
    if not msg_type:
        return None
    # Messages carry MsgId; its absence would be WeChat's bug: fall back to the event key.
    provider_id = (
        _provider_id(msg_id)
        if msg_id
        else _provider_id(sender, fields.get("CreateTime", ""), msg_type)
    )
    if msg_type == "text":
        return InboundEvent(
            kind=EventKind.text, provider_id=provider_id, text=fields.get("Content", ""), **common
        )
    if msg_type == "image":
        return InboundEvent(
            kind=EventKind.image,
            provider_id=provider_id,
            media_id=fields.get("MediaId", "").strip(),
            raw={"pic_url": fields.get("PicUrl", "").strip()},
            **common,
        )
    return InboundEvent(
        kind=EventKind.text, provider_id=provider_id, raw={"unsupported": msg_type}, **common
    )


def _event(fields: Mapping[str, str], common: dict[str, Any]) -> InboundEvent | None:
    name = fields.get("Event", "").strip()
    key = fields.get("EventKey", "").strip()
    # WeChat's advice: FromUserName + CreateTime for events; Event and EventKey are added
    # so a follow and a menu click in the same second stay two events.
    provider_id = _provider_id(common["sender"], fields.get("CreateTime", "").strip(), name, key)
    match name.lower():
        case "subscribe":
            scene = key[len("qrscene_") :] if key.startswith("qrscene_") else ""
            raw = {"ticket": fields.get("Ticket", "").strip()} if scene else {}
            return InboundEvent(
                kind=EventKind.follow, provider_id=provider_id, scene=scene, raw=raw, **common
            )
        case "scan":  # an existing follower scanned a parametric QR: no qrscene_ prefix
            raw = {"ticket": fields.get("Ticket", "").strip(), "scan": True}
            return InboundEvent(
                kind=EventKind.follow, provider_id=provider_id, scene=key, raw=raw, **common
            )
        case "unsubscribe":
            return InboundEvent(kind=EventKind.unfollow, provider_id=provider_id, **common)
        case "click":
            if not key:
                return None
            return InboundEvent(
                kind=EventKind.choice, provider_id=provider_id, choice_id=key, **common
            )
    return None
