"""Built-in plugin: the ``wechat`` channel, a WeChat Official Account (公众号/服务号).

The shop enters its account's appid, secret, token and EncodingAESKey and points the
account's server URL at ``/hooks/wechat/<slug>``. Pushes are checked (signature or, in
safe mode, ``msg_signature`` + AES with the appid suffix) and answered ``success`` at
once; replies go out through the customer-service API within WeChat's 48-hour window.
Joining is a permanent parametric QR code whose scene is the join code: following (or
scanning again) pushes a ``follow`` event with that ``scene``.

Modules: :mod:`.crypto` (signatures, AES), :mod:`.inbound` (verify, XML, events),
:mod:`.tokens` (the shared access_token), :mod:`.api` (send, media, QR, menu),
:mod:`.render` (numbered choices, the menu's JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import (
    Capability,
    Media,
    OutboundMessage,
    ParsedRequest,
    SendResult,
)
from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.plugins.wechat import api, inbound
from loyalchat.plugins.wechat.api import push_menu
from loyalchat.plugins.wechat.render import CARD, RECEIPT, REWARDS, MenuEntry, menu_json

__all__ = ["CARD", "RECEIPT", "REWARDS", "MenuEntry", "WeChatAdapter", "menu_json", "push_menu"]

PLUGIN_INFO = PluginInfo(
    title=N_("WeChat Official Account"),
    summary=N_(
        "Members join by scanning the shop's WeChat QR code and chat with the shop's Official Account: card, rewards and receipts."
    ),
)


class WeChatAdapter:
    """A WeChat Official Account in developer mode (the shop's own server configuration)."""

    kind = "wechat"
    label = N_("WeChat Official Account")
    capabilities = frozenset(
        {
            Capability.text,
            Capability.image,
            Capability.choices,
            Capability.receive_images,
            Capability.parametric_qr,
            Capability.text_links,  # <a href="...">: the reward list links to the wallet
        }
    )
    config_fields = (
        SettingField("appid", N_("AppID"), required=True, help=N_("Starts with wx.")),
        SettingField(
            "original_id",
            N_("Original ID"),
            help=N_("The account's original ID, starting with gh_."),
        ),
        SettingField("secret", N_("AppSecret"), required=True, secret=True),
        SettingField(
            "token",
            N_("Token"),
            required=True,
            secret=True,
            help=N_("The same token as in the account's server configuration."),
        ),
        SettingField(
            "encoding_aes_key",
            N_("EncodingAESKey"),
            secret=True,
            help=N_("43 characters; needed in safe mode."),
        ),
        SettingField(
            "mode",
            N_("Message encryption"),
            help=N_("plain or safe, as chosen in the account's server configuration."),
        ),
        SettingField(
            "rate_per_second",
            N_("Messages per second"),
            help=N_("At most this many replies a second (80 when empty)."),
        ),
    )

    async def verify(self, request: InboundRequest, config: Mapping[str, Any]) -> bool:
        ok, _fields, _echo = inbound.open_request(request, config)
        return ok

    async def parse(self, request: InboundRequest, config: Mapping[str, Any]) -> ParsedRequest:
        """The push's event (none for what we skip), answered ``success`` at once.

        A GET is WeChat's URL check: it is answered with ``echostr`` (decrypted when it
        came encrypted). A body that is too large or not WeChat's XML gets a 400 and no
        event, never an exception.
        """
        if len(request.body) > inbound.MAX_BODY_BYTES:
            return ParsedRequest(events=[], reply=b"too large", status_code=413)
        ok, fields, echo = inbound.open_request(request, config)
        if request.method.upper() == "GET":
            if not ok:
                return ParsedRequest(events=[], reply=b"bad request", status_code=400)
            return ParsedRequest(events=[], reply=echo.encode())
        if not ok or fields is None:
            return ParsedRequest(events=[], reply=b"bad request", status_code=400)
        event = inbound.event_of(fields)
        return ParsedRequest(events=[event] if event else [], reply=b"success")

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
        return await api.send(message, config)

    async def fetch_media(self, media_id: str, config: Mapping[str, Any]) -> Media:
        return await api.fetch_media(media_id, config)

    async def join_link(self, join_code: str, config: Mapping[str, Any]) -> str:
        return await api.join_link(join_code, config)


@hookimpl
def register_channels(register) -> None:
    register(WeChatAdapter())
