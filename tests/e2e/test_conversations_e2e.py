"""The merchant's conversations at 375 px: a customer writes on WhatsApp (a webhook signed
with the shop's app secret, posted to the real server, processed by its embedded worker,
the bot's answer sent to the fake Graph API), then a cashier opens the conversation on a
phone, reads the thread and answers; the answer reaches the fake Graph API once.

The server here is another one than the session's ``live_server`` (``start_server``,
the same machinery) because it must send to this module's fake Graph API
(``LOYALCHAT_WHATSAPP_API_BASE``) and read the channel secrets the test stored (this
process's ``LOYALCHAT_VAR_DIR``, so the same encryption key).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pluggy
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations import service
from loyalchat.conversations.tables import OutboundMessage
from loyalchat.tenants import plugin_access, plugin_settings
from tests.e2e.conftest import SERVER_LOG
from tests.fakes.graph_api import ACCESS_TOKEN, FakeGraphApi
from tests.fakes.whatsapp_webhooks import signed, text_message, webhook
from tests.fixtures import PASSWORD, World

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PNID = "106540352242922"
SECRET = "alpha-app-secret"
CUSTOMER = "85291234567"


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def chat_server(
    start_server: Callable[..., AbstractContextManager[str]], graph: FakeGraphApi
) -> Iterator[str]:
    """A real server (embedded worker) sending WhatsApp messages to the fake Graph API."""
    settings = {
        "LOYALCHAT_WHATSAPP_API_BASE": graph.base_url,
        # This process's: the server decrypts the channel secrets the test stores.
        "LOYALCHAT_VAR_DIR": os.environ["LOYALCHAT_VAR_DIR"],
    }
    with start_server(settings) as base_url:
        yield base_url


async def _connect(world: World, pm: pluggy.PluginManager) -> None:
    values = {
        "phone_number_id": PNID,
        "display_phone": "+15550783881",
        "access_token": ACCESS_TOKEN,
        "app_secret": SECRET,
        "verify_token": "verify-alpha",
    }
    with tenant_context(world.id, Actor("system")):
        await plugin_settings.update_settings("whatsapp", values, pm)
        await plugin_settings.enable_plugin("whatsapp", pm)
        await service.sync_channel_account("whatsapp", PNID)


async def _until(check, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(list(SERVER_LOG)[-40:]))


async def _signed_in_on_phone(
    browser: Browser, base_url: str, email: str
) -> tuple[BrowserContext, Page, list[str]]:
    """A phone's browser in Hong Kong, signed in as ``email``; the list gathers page errors."""
    context = await browser.new_context(
        base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-HK"
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        await page.goto("/login")
        await page.locator("input[name=email]").fill(email)
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("form button[type=submit]").first.click()
        await expect(page).not_to_have_url(re.compile(r"/login"))
    except BaseException:
        await context.close()
        raise
    return context, page, problems


async def test_the_merchant_reads_and_answers_a_whatsapp_conversation_on_a_phone(
    chat_server: str,
    graph: FakeGraphApi,
    browser: Browser,
    tenant_a: World,
    plugins: pluggy.PluginManager,
    screenshots: Path,
) -> None:
    await _connect(tenant_a, plugins)
    graph.clear()
    body, headers = signed(
        webhook(text_message("你好，星期日有開門嗎？", wa_id=CUSTOMER), phone_number_id=PNID),
        SECRET,
    )
    # The server is another process: it sees WhatsApp turned on for the shop within
    # plugin_access.CACHE_SECONDS (its periodic jobs may have cached an earlier test's shop
    # of the same id at start-up). A refused webhook stores nothing, so Meta's retry is safe.
    async with httpx.AsyncClient(base_url=chat_server) as client:
        for _ in range(int(plugin_access.CACHE_SECONDS * 4) + 4):
            answer = await client.post(
                f"/hooks/whatsapp/{tenant_a.tenant.slug}", content=body, headers=headers
            )
            if answer.status_code != 404:
                break
            await asyncio.sleep(0.5)
    assert answer.status_code == 200

    async def bot_answered() -> bool:
        rows = await OutboundMessage.select().where(OutboundMessage.tenant == tenant_a.id)
        return bool(rows) and all(row["status"] == "sent" for row in rows)

    await _until(bot_answered, "the bot's answer to be sent")
    bot_sent = len(graph.sent)

    context, page, problems = await _signed_in_on_phone(
        browser, chat_server, tenant_a.cashier.email
    )
    try:
        await page.goto("/lang/zh-Hant?next=/console/conversations")
        await expect(page.get_by_test_id("conversation-row")).to_have_count(1)
        await page.screenshot(path=screenshots / "phone-conversations-zh-Hant.png", full_page=True)

        await page.get_by_test_id("conversation-row").locator("a").click()
        thread = page.get_by_test_id("thread")
        await expect(thread).to_contain_text("你好，星期日有開門嗎？")
        await expect(page.locator('[data-direction="out"]').first).to_be_visible()
        await expect(page.get_by_test_id("delivery-status").first).to_contain_text("已發送")

        await page.get_by_test_id("reply-text").fill("星期日 10 時至 6 時營業，歡迎光臨！")
        await page.get_by_test_id("reply-send").click()
        await expect(thread).to_contain_text("星期日 10 時至 6 時營業，歡迎光臨！")
        # Nothing is wider than the phone.
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the page is {wide} px wide on a 375 px phone"
        await page.screenshot(
            path=screenshots / "phone-conversation-thread-zh-Hant.png", full_page=True
        )
    finally:
        await context.close()

    async def staff_sent() -> bool:
        texts = [m.body.get("text", {}).get("body") for m in graph.sent[bot_sent:]]
        return texts == ["星期日 10 時至 6 時營業，歡迎光臨！"]

    await _until(staff_sent, "the staff answer at the fake Graph API")
    assert problems == []


async def test_auto_replies_are_edited_and_tried_on_a_phone(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    """A manager adds an auto-reply in Traditional Chinese, sees a bad regular expression
    refused at the top of the form, and tries the rule as typed before saving it."""
    context, page, problems = await _signed_in_on_phone(browser, live_server, tenant_a.owner.email)
    try:
        await page.goto("/lang/zh-Hant?next=/console/auto-replies/new")

        await page.get_by_test_id("auto-reply-match").select_option("regex")
        await page.get_by_test_id("auto-reply-pattern").fill("(營業|開門")
        await page.get_by_test_id("auto-reply-reply-zh-Hant").fill("我們每天 10 時至 6 時營業。")
        await page.get_by_test_id("auto-reply-save").click()
        summary = page.get_by_test_id("error-summary")
        await expect(summary).to_contain_text("正規表示式")
        await page.screenshot(
            path=screenshots / "phone-auto-reply-error-zh-Hant.png", full_page=True
        )

        await page.get_by_test_id("auto-reply-pattern").fill("(營業|開門)")
        await page.get_by_test_id("try-sample").fill("請問星期日有開門嗎？")
        await expect(page.get_by_test_id("try-reply")).to_have_text("我們每天 10 時至 6 時營業。")
        await expect(page.get_by_test_id("try-rule")).to_contain_text("尚未儲存")
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the form is {wide} px wide on a 375 px phone"
        await page.screenshot(path=screenshots / "phone-auto-reply-try-zh-Hant.png", full_page=True)

        await page.get_by_test_id("auto-reply-save").click()
        await expect(page.get_by_test_id("auto-reply-row")).to_have_count(1)
        await expect(page.get_by_test_id("auto-reply-pattern")).to_have_text("(營業|開門)")
        await page.screenshot(path=screenshots / "phone-auto-replies-zh-Hant.png", full_page=True)
    finally:
        await context.close()
    assert problems == []
