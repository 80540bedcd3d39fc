"""The console's conversation thread refreshes itself, in real Chromium: a cashier has a web
chat conversation open; the customer writes again (through the chat page's own send
route, to the real server, the bot answering in its embedded worker); the new message and
the bot's answer appear in the open page without a reload (static/js/conversation.js
polling /console/conversations/<id>/live)."""

from __future__ import annotations

import asyncio
import html
import re
import time
import uuid
from pathlib import Path

import httpx
import pluggy
import pytest
from playwright.async_api import Browser, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation
from loyalchat.plugins.webchat import device
from loyalchat.tenants import plugin_access, plugin_settings
from tests.fixtures import PASSWORD, World

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
TOKEN = re.compile(r'data-token="([^"]+)"')
ARRIVES = 20_000  # ms: the queue, the bot, then the page's next poll (every 3 s)


async def _chat_token(client: httpx.AsyncClient, slug: str) -> str:
    """Open the chat page like a phone. The server is another process: it sees web chat
    turned on within plugin_access.CACHE_SECONDS (its cache may hold an earlier test's shop)."""
    for _ in range(int(plugin_access.CACHE_SECONDS * 4) + 4):
        page = await client.get(f"/t/{slug}/chat")
        if page.status_code == 200:
            return html.unescape(TOKEN.search(page.text).group(1))
        await asyncio.sleep(0.5)
    raise AssertionError(f"the chat page stayed {page.status_code}")


async def _say(client: httpx.AsyncClient, slug: str, token: str, text: str) -> None:
    response = await client.post(
        f"/t/{slug}/chat/send",
        json={"id": str(uuid.uuid4()), "text": text, "locale": "zh-Hant"},
        headers={device.TOKEN_HEADER: token},
    )
    assert response.status_code == 200, response.text


async def test_a_message_arriving_while_the_thread_is_open_appears_without_reload(
    live_server: str,
    browser: Browser,
    tenant_a: World,
    plugins: pluggy.PluginManager,
    screenshots: Path,
) -> None:
    slug = tenant_a.tenant.slug
    with tenant_context(tenant_a.id, Actor("system")):
        await plugin_settings.enable_plugin("webchat", plugins)
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as phone:
        token = await _chat_token(phone, slug)
        await _say(phone, slug, token, "JOIN")
        deadline = time.monotonic() + 30
        while (
            row := await Conversation.select().where(Conversation.tenant == tenant_a.id).first()
        ) is None:
            assert time.monotonic() < deadline, "the first message never became a conversation"
            await asyncio.sleep(0.2)

        context = await browser.new_context(base_url=live_server, viewport=DESKTOP, locale="zh-HK")
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            await page.goto("/login")
            await page.locator("input[name=email]").fill(tenant_a.cashier.email)
            await page.locator("input[name=password]").fill(PASSWORD)
            await page.locator("form button[type=submit]").first.click()
            await expect(page).not_to_have_url(re.compile(r"/login"))
            await page.goto(f"/lang/zh-Hant?next=/console/conversations/{row['id']}")
            thread = page.get_by_test_id("thread-live")
            await expect(thread).to_contain_text("JOIN")
            await expect(thread.locator('[data-direction="out"]').first).to_be_visible(
                timeout=ARRIVES
            )
            await expect(thread).not_to_contain_text("星期日有開門嗎？")
            # A mark in this very page: a reload would lose it.
            await page.evaluate("window.__stillTheSamePage = true")
            outs = await thread.locator('[data-direction="out"]').count()

            await _say(phone, slug, token, "星期日有開門嗎？")
            await expect(thread).to_contain_text("星期日有開門嗎？", timeout=ARRIVES)
            # The bot's answer to it follows the same way.
            await expect(thread.locator('[data-direction="out"]').nth(outs)).to_be_visible(
                timeout=ARRIVES
            )
            assert await page.evaluate("window.__stillTheSamePage === true")
            await page.get_by_test_id("reply-text").fill("星期日十點至六點。")  # typing: untouched
            await page.screenshot(path=screenshots / "console-thread-live.png", full_page=True)
            assert problems == []
        finally:
            await context.close()
