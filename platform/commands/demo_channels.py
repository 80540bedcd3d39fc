"""The demo shop's chat channels: WhatsApp, WeChat and web chat, connected and ready.

Each channel plugin is turned on for the demo tenant with settings of its own: secrets are
generated once and then kept in the tenant's (encrypted) plugin settings, so a second run
changes nothing and a webhook signed with what ``loyalchat demo --json`` printed keeps
verifying. The WhatsApp and WeChat accounts are made up: replies go to the API hosts
``LOYALCHAT_WHATSAPP_API_BASE`` and ``LOYALCHAT_WECHAT_API_BASE`` name (a local fake on a
staging machine). Web chat needs nothing outside this machine.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from loyalchat.conversations.service import sync_channel_account, webhook_url
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.settings import get_settings
from loyalchat.tenants import plugin_settings

WHATSAPP_PHONE = "+852 6123 4567"  # a made-up Hong Kong mobile number


def _token(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _whatsapp_defaults() -> dict[str, str]:
    return {
        "phone_number_id": "1" + _token(14, string.digits),
        "waba_id": "2" + _token(14, string.digits),
        "display_phone": WHATSAPP_PHONE,
        "access_token": "demo-" + _token(40),
        "app_secret": _token(32, "0123456789abcdef"),
        "verify_token": "demo-verify-" + _token(16),
    }


def _wechat_defaults() -> dict[str, str]:
    return {
        "appid": "wx" + _token(16, "0123456789abcdef"),
        "original_id": "gh_" + _token(12, "0123456789abcdef"),
        "secret": _token(32, "0123456789abcdef"),
        "token": _token(32),
        "encoding_aes_key": _token(43),
        "mode": "safe",
    }


async def _connect(plugin: str, defaults: dict[str, str]) -> dict[str, str]:
    """Turn ``plugin`` on with its stored settings, filling in only what is missing."""
    pm = current_plugin_manager()
    stored = await plugin_settings.runtime_settings(plugin, pm)
    missing = {name: value for name, value in defaults.items() if not stored.get(name)}
    if missing:
        await plugin_settings.update_settings(plugin, missing, pm)
    await plugin_settings.enable_plugin(plugin, pm)
    return await plugin_settings.runtime_settings(plugin, pm)


async def ensure_demo_channels(slug: str) -> dict[str, Any]:
    """Connect the three channels for the current (demo) tenant; what a script needs to
    talk to them, as ``loyalchat demo --json`` prints it under ``channels``."""
    whatsapp = await _connect("whatsapp", _whatsapp_defaults())
    await sync_channel_account("whatsapp", whatsapp["phone_number_id"])
    wechat = await _connect("wechat", _wechat_defaults())
    await sync_channel_account("wechat", wechat["original_id"])
    await plugin_settings.enable_plugin("webchat", current_plugin_manager())
    base = get_settings().public_base_url.rstrip("/")
    return {
        "whatsapp": {
            "webhook_url": webhook_url("whatsapp", slug),
            "app_secret": whatsapp["app_secret"],
            "phone_number_id": whatsapp["phone_number_id"],
            "verify_token": whatsapp["verify_token"],
        },
        "wechat": {
            "webhook_url": webhook_url("wechat", slug),
            "token": wechat["token"],
            "appid": wechat["appid"],
            "encoding_aes_key": wechat["encoding_aes_key"],
            "mode": wechat["mode"] if wechat["mode"] in ("plain", "safe") else "plain",
            "original_id": wechat["original_id"],
        },
        "webchat": {"url": f"{base}/t/{slug}/chat"},
    }
