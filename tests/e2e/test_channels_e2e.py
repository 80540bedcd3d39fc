"""The Channels page in real Chromium on a 375 px phone: the owner connects WhatsApp (the
secrets never come back to the page), turns it on, copies the webhook URL, opens the join
QR kit (its QR code drawn) and the A6 poster, and sees WeChat's menu editor; nothing is
wider than the phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_console_e2e import new_page, no_sideways_scroll, sign_in
from tests.fixtures import World

pytestmark = pytest.mark.e2e

APP_SECRET = "e2e-app-secret-0123456789"
VERIFY = "e2e-verify-token"


async def test_owner_connects_whatsapp_and_gets_the_join_qr_on_a_phone(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    shots = screenshots / "channels"
    shots.mkdir(parents=True, exist_ok=True)
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, tenant_a.owner.email, "/console/channels")
    for kind in ("whatsapp", "wechat", "webchat"):
        await expect(page.get_by_test_id(f"channel-{kind}")).to_be_visible()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "1-list.png", full_page=True)

    await page.get_by_test_id("channel-whatsapp").get_by_test_id("channel-link").click()
    await expect(page.get_by_test_id("channel-title")).to_have_text("WhatsApp")
    await page.get_by_test_id("setting-phone_number_id").fill("106540352242922")
    await page.get_by_test_id("setting-display_phone").fill("+852 9123 4567")
    await page.get_by_test_id("setting-app_secret").fill(APP_SECRET)
    await page.get_by_test_id("setting-verify_token").fill(VERIFY)
    await page.get_by_test_id("settings-save").click()
    await expect(page.locator(".flash-success")).to_be_visible()
    await expect(page.get_by_test_id("secret-app_secret")).to_contain_text("Set")
    assert APP_SECRET not in await page.content() and VERIFY not in await page.content()

    await page.get_by_test_id("channel-switch").click()
    await expect(page.get_by_test_id("channel-state")).to_have_text("On")
    webhook = page.get_by_test_id("webhook-url")
    await expect(webhook).to_have_value(f"{live_server}/hooks/whatsapp/{tenant_a.tenant.slug}")
    await expect(page.get_by_test_id("verify-token-hint")).to_contain_text("Verify token: set")
    await expect(page.get_by_test_id("test-nobody")).to_be_visible()
    await expect(page.get_by_test_id("channel-health")).to_contain_text("None received yet")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "2-whatsapp.png", full_page=True)

    await page.get_by_test_id("join-kit-link").click()
    await expect(page.get_by_test_id("join-url")).to_have_value(
        f"https://wa.me/85291234567?text=JOIN%20{tenant_a.tenant.slug}"
    )
    qr = page.get_by_test_id("join-qr")
    await expect(qr).to_be_visible()
    box = await qr.bounding_box()
    assert box is not None and 150 <= box["width"] <= 375
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "3-join-kit.png", full_page=True)

    await page.goto("/console/channels/whatsapp/poster")
    await expect(page.get_by_test_id("poster-qr")).to_be_visible()
    assert await page.get_by_test_id("poster-qr").evaluate("img => img.naturalWidth > 0")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "4-poster.png", full_page=True)

    # The same pages in Traditional Chinese: still nothing wider than the phone.
    await page.goto("/lang/zh-Hant?next=/console/channels/whatsapp")
    await expect(page.get_by_test_id("channel-title")).to_have_text("WhatsApp")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    await expect(page.get_by_test_id("verify-token-hint")).to_contain_text("驗證權杖")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "6-whatsapp-zh-hant.png", full_page=True)
    await page.goto("/console/channels/whatsapp/join")
    await expect(page.get_by_test_id("join-qr")).to_be_visible()
    assert await no_sideways_scroll(page)
    await page.goto("/lang/en?next=/console/channels")

    # WeChat's page: the menu editor with its default titles, on the phone too.
    await page.goto("/console/channels/wechat")
    menu = page.get_by_test_id("wechat-menu")
    await expect(menu).to_be_visible()
    await expect(page.get_by_test_id("menu-receipt-en")).to_have_value("Send receipt")
    await expect(page.get_by_test_id("menu-push")).to_be_visible()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "5-wechat-menu.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()
