"""Built-in plugin: the WhatsApp Cloud API channel (Meta's hosted WhatsApp Business API).

A shop connects its number either with its own Meta app (its webhook URL
``/hooks/whatsapp/<slug>``, its app secret, verify token and access token in these
settings) or through the platform's Meta app (``/hooks/whatsapp``, routed by
``phone_number_id``; the ``LOYALCHAT_WHATSAPP_*`` settings hold that app's secrets and a
shop's own access token, when set, wins). The protocol lives in :mod:`.webhook` (signature,
handshake, events), :mod:`.payloads` (what we send), :mod:`.graph` (the HTTP calls) and
:mod:`.media` (images uploaded once, their ids kept).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import (
    Capability,
    ChannelError,
    Media,
    OutboundMessage,
    ParsedRequest,
    RecipientPace,
    SendResult,
)
from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.plugins.whatsapp import media, payloads
from loyalchat.plugins.whatsapp.graph import Graph
from loyalchat.plugins.whatsapp.webhook import (
    SIGNATURE_HEADER,
    accounts_in,
    challenge,
    handshake_ok,
    parse_body,
    signature_ok,
)
from loyalchat.settings import get_settings

__all__ = ["WhatsAppAdapter", "accounts_in"]

PLUGIN_INFO = PluginInfo(
    title=N_("WhatsApp"),
    summary=N_(
        "Members join, check their points and redeem rewards in WhatsApp, through Meta's WhatsApp Cloud API."
    ),
)

DEFAULT_VERSION = "v21.0"
DEFAULT_TEMPLATE_LANGUAGE = "en"
_VERSION = re.compile(r"v\d{1,3}\.\d{1,3}")
_PATH_ID = re.compile(r"[0-9A-Za-z_-]{1,128}")  # ids that go into a URL path as they are


class WhatsAppAdapter:
    """WhatsApp Cloud API: signed webhooks in, Graph API calls out."""

    kind = "whatsapp"
    label = N_("WhatsApp")
    config_fields = (
        SettingField(
            "phone_number_id",
            N_("Phone number ID"),
            required=True,
            help=N_("From Meta's WhatsApp Manager, API setup: the ID of the shop's number."),
        ),
        SettingField("waba_id", N_("WhatsApp Business Account ID")),
        SettingField(
            "display_phone",
            N_("WhatsApp number"),
            required=True,
            help=N_("The shop's number with its country code, e.g. +852 9123 4567."),
        ),
        SettingField(
            "access_token",
            N_("Access token"),
            secret=True,
            help=N_("A system user's permanent token; empty: the platform's Meta app sends."),
        ),
        SettingField(
            "app_secret",
            N_("App secret"),
            secret=True,
            help=N_("Your Meta app's secret: it signs every webhook Meta sends."),
        ),
        SettingField(
            "verify_token",
            N_("Verify token"),
            secret=True,
            help=N_("Any string you choose; type the same in Meta's webhook settings."),
        ),
        SettingField("graph_version", N_("Graph API version"), help=N_("Default: v21.0.")),
        SettingField(
            "template_name",
            N_("Message template"),
            help=N_(
                "An approved template for messages outside the 24-hour window after a member writes."
            ),
        ),
        SettingField("template_language", N_("Template language"), help=N_("Default: en.")),
        SettingField(
            "rate_per_second",
            N_("Messages per second"),
            help=N_("The number's sending rate; Meta's default is 80."),
        ),
    )
    capabilities = frozenset(
        {
            Capability.text,
            Capability.image,
            Capability.choices,
            Capability.receive_images,
            Capability.broadcast,
            Capability.verified_phone,  # the wa_id is the number WhatsApp checked by SMS
        }
    )

    # Meta's pair rate limit: one message per 6 s to one person; bursts of up to 45 in 6 s
    # borrow future quota, 131056 beyond. A burst of 20 (Meta's own example) covers a
    # chat's quick replies (the bot answers with 2 or 3 messages) many times over and
    # stays well under 45, leaving room for sends we do not see (the same number used by
    # another tool) and for Meta counting on its own clock.
    recipient_pace = RecipientPace(per_second=1 / 6, burst=20)

    async def verify(self, request: InboundRequest, config: Mapping[str, Any]) -> bool:
        """GET: the subscription handshake; POST: ``X-Hub-Signature-256`` over the raw body."""
        if request.method == "GET":
            return handshake_ok(request.query, _cfg(config, "verify_token"))
        if request.method == "POST":
            header = request.header(SIGNATURE_HEADER)
            return signature_ok(request.body, header, _cfg(config, "app_secret"))
        return False

    async def parse(self, request: InboundRequest, config: Mapping[str, Any]) -> ParsedRequest:
        """The handshake's echo, or every event of a batch (only this shop's number's when
        ``phone_number_id`` is set: the platform app's config leaves it empty)."""
        if request.method == "GET":
            if not handshake_ok(request.query, _cfg(config, "verify_token")):
                return ParsedRequest([], reply=b"forbidden", status_code=403)
            return ParsedRequest([], reply=challenge(request.query).encode())
        events = parse_body(request.body, only_account=_cfg(config, "phone_number_id"))
        return ParsedRequest(events)

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
        """Text, an image (uploaded once: :mod:`.media`), choices (buttons or a list) or a
        template."""
        graph = _graph(config)
        if message.template:
            language = _cfg(config, "template_language") or DEFAULT_TEMPLATE_LANGUAGE
            return SendResult(await graph.send(payloads.template_body(message, language)))
        if not message.image:
            return await _deliver(graph, message, "")
        content_type = message.image_type or "image/png"
        image_id, kept = await media.image_id(graph, message.image, content_type)
        try:
            return await _deliver(graph, message, image_id)
        except ChannelError as exc:
            if not (kept and media.refused_media(exc)):
                raise
        # Meta no longer has the image we kept the id of: upload it again, once.
        await media.drop(graph, message.image, image_id)
        image_id, _ = await media.image_id(graph, message.image, content_type, fresh=True)
        return await _deliver(graph, message, image_id)

    async def fetch_media(self, media_id: str, config: Mapping[str, Any]) -> Media:
        """An inbound image's bytes (at most 10 MB)."""
        if not _PATH_ID.fullmatch(media_id):
            raise ChannelError("not a WhatsApp media id")
        return await _graph(config).download(media_id)

    async def join_link(self, join_code: str, config: Mapping[str, Any]) -> str:
        """``https://wa.me/<number>?text=JOIN%20<code>``: opens the chat with the code typed."""
        digits = "".join(ch for ch in _cfg(config, "display_phone") if ch.isdigit())
        if not digits:
            raise ChannelError("the shop's WhatsApp number is not set")
        return f"https://wa.me/{digits}?text={quote(f'JOIN {join_code}', safe='')}"


async def _deliver(graph: Graph, message: OutboundMessage, image_id: str) -> SendResult:
    """Send ``message`` with its image already on Meta as ``image_id`` ("" for none)."""
    if message.choices:
        if image_id and len(message.choices) > payloads.MAX_BUTTONS:
            # A list cannot carry an image: the image goes first, on its own.
            alone = dataclasses.replace(message, text="", choices=())
            await graph.send(payloads.image_body(alone, image_id))
            image_id = ""
        return SendResult(await graph.send(payloads.choices_body(message, image_id)))
    if image_id:
        return SendResult(await graph.send(payloads.image_body(message, image_id)))
    if not message.text.strip():
        raise ChannelError("nothing to send: no text, image, choices or template")
    return SendResult(await graph.send(payloads.text_body(message)))


def _cfg(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    return value.strip() if isinstance(value, str) else ""


def _graph(config: Mapping[str, Any]) -> Graph:
    """The shop's number on the Graph API; its own token, else the platform app's."""
    settings = get_settings()
    phone_number_id = _cfg(config, "phone_number_id")
    if not _PATH_ID.fullmatch(phone_number_id):
        raise ChannelError("the WhatsApp phone number ID is not set", reason="auth")
    token = _cfg(config, "access_token") or settings.whatsapp_access_token.get_secret_value()
    if not token:
        raise ChannelError("no WhatsApp access token", reason="auth")
    version = _cfg(config, "graph_version")
    version = f"v{version}" if version[:1].isdigit() else version
    return Graph(
        base=settings.whatsapp_api_base.rstrip("/"),
        version=version if _VERSION.fullmatch(version) else DEFAULT_VERSION,
        phone_number_id=phone_number_id,
        token=token,
    )


@hookimpl
def register_channels(register) -> None:
    register(WhatsAppAdapter())
