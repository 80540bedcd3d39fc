"""Built-in plugin: the ``webchat`` channel, a shop's own chat page in the browser.

For customers without WhatsApp or WeChat, and for demos: ``/t/<slug>/chat`` talks to the
same bot as the other channels (text, photos from the camera, choice buttons, coupon QR
codes). The visitor is known by a device id signed for that shop (:mod:`.device`); the bot
makes them a member on first contact, as on any channel. Messages go to the core's webhook
route; the page's own routes are in :mod:`.routes`, its template and script beside them.
"""

from __future__ import annotations

from typing import Any

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_

PLUGIN_INFO = PluginInfo(
    title=N_("Web chat"),
    summary=N_(
        "A chat page for your shop in any browser: customers join, ask for their points and redeem rewards without WhatsApp or WeChat."
    ),
)


@hookimpl
def register_channels(register: Any) -> None:
    from loyalchat.plugins.webchat.adapter import WebChatAdapter

    register(WebChatAdapter())


@hookimpl
def register_routes() -> list[Any]:
    from loyalchat.plugins.webchat.routes import ROUTES

    return list(ROUTES)
