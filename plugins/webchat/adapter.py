"""The web chat channel: the shop's own chat page (``/t/<slug>/chat``) as a ChannelAdapter.

The page posts each message as JSON to its own route ``POST /t/<slug>/chat/send``
(:mod:`.routes`: it holds each device and client address to a rate first) with its signed
device token in the ``X-Webchat-Token`` header (:mod:`.device`). The core's webhook route
``/hooks/webchat/<slug>`` knows no client address, so :meth:`WebChatAdapter.verify`
refuses it: no post gets around the limits. Bodies:

- ``{"id": "<uuid>", "text": "..."}``: a text message;
- ``{"id": "<uuid>", "choice": "<choice id>", "text": "<its title>"}``: a tap on a button;
- ``{"id": "<uuid>", "photo": "<upload ticket>"}``: a photo the page uploaded just before
  (``POST /t/<slug>/chat/photo`` stored it and signed the ticket for this device).

The event's ``provider_id`` is ``<device>:<client id>``: the page makes one id per message,
so a double tap or a retry of the same message is one inbound event (the inbox's unique
index decides). There is nothing to send to: a reply's outbound row IS the message, and
the page reads the thread through its updates route.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from loyalchat.context import current_tenant_id
from loyalchat.extensions.channels import (
    Capability,
    ChannelError,
    EventKind,
    InboundEvent,
    InboundRequest,
    Media,
    OutboundMessage,
    ParsedRequest,
    SendResult,
)
from loyalchat.i18n import N_, valid
from loyalchat.media import store
from loyalchat.plugins.webchat import device
from loyalchat.settings import get_settings
from loyalchat.tenants.service import get_tenant

MAX_TEXT = 2000  # the page's text box says the same (maxlength)
MAX_CHOICE_ID = 128
MAX_BODY = 16_000
SEND_PATH = re.compile(r"/t/[^/]+/chat/send")  # the page's own route, never /hooks/...


def chat_path(slug: str) -> str:
    return f"/t/{quote(slug, safe='')}/chat"


def _problem(code: str, status: int = 400) -> ParsedRequest:
    body = json.dumps({"ok": False, "error": code}).encode()
    return ParsedRequest(events=[], reply=body, content_type="application/json", status_code=status)


def _client_id(value: Any) -> str | None:
    """The page's message id as a canonical uuid, or None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _claim(request: InboundRequest) -> device.DeviceClaim | None:
    tenant_id = current_tenant_id()
    if tenant_id is None:  # the route resolves the shop first; without it nothing verifies
        return None
    return device.read_device(request.header(device.TOKEN_HEADER), tenant_id)


class WebChatAdapter:
    """A shop's chat page in the browser: text, photos and buttons, no provider behind it."""

    kind = "webchat"
    label = N_("Web chat")
    config_fields = ()
    capabilities = frozenset(
        {Capability.text, Capability.image, Capability.choices, Capability.receive_images}
    )

    async def verify(self, request: InboundRequest, config: Mapping[str, Any]) -> bool:
        """A device token this app signed for the current shop (its signature compare is
        constant-time: itsdangerous uses ``hmac.compare_digest``), posted to the page's own
        send route: the core's webhook route cannot apply the rate limits."""
        return SEND_PATH.fullmatch(request.path) is not None and _claim(request) is not None

    async def parse(self, request: InboundRequest, config: Mapping[str, Any]) -> ParsedRequest:
        claim = _claim(request)
        if claim is None:  # verify() said yes a moment ago; never trust the order of calls
            return _problem("device_token", 401)
        if len(request.body) > MAX_BODY:
            return _problem("too_large", 413)
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):
            return _problem("invalid_json")
        if not isinstance(body, dict):
            return _problem("invalid_json")
        client_id = _client_id(body.get("id"))
        if client_id is None:
            return _problem("invalid_id")
        event = self._event(body, claim, f"{claim.device_id}:{client_id}")
        if isinstance(event, ParsedRequest):
            return event
        reply = json.dumps({"ok": True, "id": client_id}).encode()
        return ParsedRequest(events=[event], reply=reply, content_type="application/json")

    def _event(
        self, body: dict[str, Any], claim: device.DeviceClaim, provider_id: str
    ) -> InboundEvent | ParsedRequest:
        text = body.get("text", "")
        if not isinstance(text, str):
            return _problem("invalid_text")
        text = text.strip()
        if len(text) > MAX_TEXT:
            return _problem("text_too_long", 413)
        common: dict[str, Any] = {"provider_id": provider_id, "sender": claim.device_id}
        locale = valid(body.get("locale") if isinstance(body.get("locale"), str) else None)
        if locale:  # the page's language: a hint for the bot's first answer
            common["raw"] = {"locale": locale}
        if "photo" in body:
            ticket = body["photo"]
            key = device.read_upload(ticket, claim) if isinstance(ticket, str) else None
            if key is None or not store.is_key(key):
                return _problem("invalid_photo")
            return InboundEvent(kind=EventKind.image, media_id=key, **common)
        if "choice" in body:
            choice = body["choice"]
            if not isinstance(choice, str) or not choice.strip() or len(choice) > MAX_CHOICE_ID:
                return _problem("invalid_choice")
            return InboundEvent(
                kind=EventKind.choice, choice_id=choice.strip(), text=text, **common
            )
        if not text:
            return _problem("empty_text")
        return InboundEvent(kind=EventKind.text, text=text, **common)

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
        """Nothing leaves the server: the page reads the stored reply from the thread."""
        return SendResult(provider_id=f"webchat:{message.key}")

    async def fetch_media(self, media_id: str, config: Mapping[str, Any]) -> Media:
        """The photo the upload route stored (current tenant's media store)."""
        try:
            data = await store.read(media_id)
        except store.MediaNotFound:
            raise ChannelError("no such photo", code="media_not_found") from None
        return Media(data=data, content_type=store.media_type_of(data))

    async def join_link(self, join_code: str, config: Mapping[str, Any]) -> str:
        """The shop's chat page, its text box filled with ``JOIN <code>``."""
        tenant_id = current_tenant_id()
        tenant = await get_tenant(tenant_id) if tenant_id is not None else None
        if tenant is None:
            raise ChannelError("no shop to link to", code="no_tenant")
        base = get_settings().public_base_url.rstrip("/")
        link = f"{base}{chat_path(tenant.slug)}"
        return f"{link}?join={quote(join_code, safe='')}" if join_code else link
