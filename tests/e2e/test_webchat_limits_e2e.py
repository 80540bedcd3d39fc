"""The web chat's flood limit as a visitor sees it, in real Chromium on a phone: sending
message after message as fast as the page allows, the one past the device's burst is
refused and its bubble says so in the visitor's language, with a tap to try again; after
the wait, the tap sends it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pluggy
import pytest
from playwright.async_api import Browser, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.plugins.webchat import limits
from loyalchat.tenants import plugin_access, plugin_settings
from tests.e2e.test_loyalty_e2e import PHONE
from tests.fixtures import World

pytestmark = pytest.mark.e2e

TOO_FAST = "你傳送訊息太快了"


async def test_a_flood_from_the_page_is_refused_with_a_clear_message(
    live_server: str,
    browser: Browser,
    tenant_a: World,
    plugins: pluggy.PluginManager,
    screenshots: Path,
) -> None:
    with tenant_context(tenant_a.id, Actor("system")):
        await plugin_settings.enable_plugin("webchat", plugins)
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-HK"
    )
    page = await context.new_page()
    try:
        for _ in range(int(plugin_access.CACHE_SECONDS * 4) + 4):
            opened = await page.goto(f"/t/{tenant_a.tenant.slug}/chat")
            if opened is not None and opened.status == 200:
                break
            await asyncio.sleep(0.5)
        refused = page.locator(".c-failed .c-retry", has_text=TOO_FAST)
        for n in range(int(limits.MESSAGE_DEVICE.burst) * 4):
            await page.get_by_test_id("chat-text").fill(f"hello {n}")
            await page.get_by_test_id("chat-send").click()
            await expect(page.locator(".c-in").last.locator(".c-note")).to_have_count(0)
            if await refused.count():
                break
        await expect(refused).to_have_count(1)
        (screenshots / "webchat").mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=screenshots / "webchat" / "too-fast.png")
        # The device's bucket refills (one message a second): the tap sends it after all.
        await asyncio.sleep(1.5)
        await refused.click()
        await expect(page.locator(".c-failed")).to_have_count(0)
    finally:
        await context.close()
