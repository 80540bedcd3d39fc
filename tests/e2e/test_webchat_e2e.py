"""The web chat in real Chromium on a 375 px phone: a customer opens the shop's chat page,
sends JOIN and gets a member number, asks for the card (積分), redeems a coupon with the
buttons and sees its QR code, all in Traditional Chinese (the phone's and the shop's). The real server runs the bot in its embedded worker (no
Redis in e2e), so each answer arrives through the page's polling."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pluggy
import pytest
from playwright.async_api import Browser, Page, expect

from loyalchat.context import tenant_context
from loyalchat.conversations.tables import Conversation
from loyalchat.ledger import service as ledger
from loyalchat.rewards import service as rewards
from loyalchat.tenants import plugin_access, plugin_settings
from loyalchat.tenants.tables import Tenant
from tests.e2e.test_console_e2e import no_sideways_scroll
from tests.e2e.test_loyalty_e2e import OWNER, PHONE
from tests.fixtures import World
from tests.media_helpers import png

pytestmark = pytest.mark.e2e

SHOP = "Demo Café 示範咖啡"
ANSWER = 20_000  # ms: the bot answers through the queue and the page's polling
DESKTOP = {"width": 1280, "height": 800}


async def seed(world: World, pm: pluggy.PluginManager) -> int:
    """A demo-like shop: web chat on, a 100-point coupon."""
    await Tenant.update({Tenant.display_name: SHOP}).where(Tenant.id == world.id)
    with tenant_context(world.id, OWNER):
        await plugin_settings.enable_plugin("webchat", pm)
        reward = await rewards.create_reward(
            {
                "name": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"},
                "points_cost": 100,
                "type": "coupon",
                "options": {
                    "benefit": {"zh-Hant": "咖啡一杯", "zh-Hans": "咖啡一杯", "en": "A coffee"}
                },
                "validity_days": 30,
            }
        )
    return reward.id


async def say(page: Page, text: str) -> None:
    await page.get_by_test_id("chat-text").fill(text)
    await page.get_by_test_id("chat-send").click()
    await expect(page.locator(".c-in").last).to_contain_text(text)


def shop_says(page: Page, pattern: str | re.Pattern[str]):
    return page.locator(".c-out").filter(has_text=pattern)


async def test_join_card_and_redeem_a_coupon_in_the_chat(
    live_server: str,
    browser: Browser,
    tenant_a: World,
    screenshots: Path,
    plugins: pluggy.PluginManager,
) -> None:
    await seed(tenant_a, plugins)
    shots = screenshots / "webchat"
    shots.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-HK"
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

    # The server is another process: it sees web chat turned on within
    # plugin_access.CACHE_SECONDS (its cache may still hold an earlier test's shop).
    for _ in range(int(plugin_access.CACHE_SECONDS * 4) + 4):
        opened = await page.goto(f"/t/{tenant_a.tenant.slug}/chat")
        if opened is not None and opened.status == 200:
            break
        await asyncio.sleep(0.5)
    problems.clear()  # the 404s of the pages that came before it
    await expect(page.get_by_test_id("chat-shop")).to_have_text(SHOP)
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    await page.screenshot(path=shots / "1-empty.png")

    # JOIN: the bot makes the visitor a member and says their number.
    await say(page, "JOIN")
    welcome = shop_says(page, re.compile(r"M\d{6}"))
    await expect(welcome.first).to_be_visible(timeout=ANSWER)
    member_no = re.search(r"M\d{6}", await welcome.first.inner_text()).group(0)
    await expect(page.locator(".c-in .c-note")).to_have_count(0)  # the bubble is the stored one
    await page.screenshot(path=shots / "2-joined.png")

    # Points for the new member, as a purchase would give them.
    row = (
        await Conversation.select(Conversation.member)
        .where(Conversation.channel == "webchat")
        .first()
    )
    with tenant_context(tenant_a.id, OWNER):
        await ledger.earn(row["member"], 250, key="e2e:webchat", reason="welcome")

    # 積分: the card, with the wallet link as a link.
    await say(page, "積分")
    card = shop_says(page, "250")
    await expect(card.first).to_be_visible(timeout=ANSWER)
    link = card.first.locator('a[href*="/w/"]')
    await expect(link).to_have_count(1)
    assert (await link.get_attribute("rel")) == "noopener noreferrer"
    await page.screenshot(path=shots / "3-card.png")

    # Rewards as buttons -> the coupon -> confirm -> its code and QR code in the chat.
    await say(page, "兌換")
    coffee = page.locator(".c-choice", has_text="免費咖啡")
    await expect(coffee).to_be_visible(timeout=ANSWER)
    await page.screenshot(path=shots / "4-rewards.png")
    await coffee.click()
    await expect(coffee).to_be_disabled()  # tapped once, no second tap
    yes = page.locator(".c-choice:enabled").first  # the confirm question's first button
    await expect(yes).to_be_visible(timeout=ANSWER)
    await page.screenshot(path=shots / "5-confirm.png")
    await yes.click()
    qr = page.locator(".c-out img")
    await expect(qr).to_have_count(1, timeout=ANSWER)
    await expect(qr).to_have_attribute("src", re.compile(r"/chat/media/[0-9a-f]{64}$"))
    await page.wait_for_function(
        "() => { const i = document.querySelector('.c-out img'); return i && i.naturalWidth > 0; }"
    )
    code = await page.locator(".c-out").last.inner_text()
    assert re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code), code
    await expect(shop_says(page, "150").first).to_be_visible()  # 250 - 100
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "6-coupon-qr.png", full_page=True)

    # A photo from the camera: uploaded, sent, shown from the server, answered.
    answers = await page.locator(".c-out").count()
    await page.get_by_test_id("chat-photo").set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": png((600, 800), "white")}
    )
    mine = page.locator('.c-in img[src*="/chat/media/"]')
    await expect(mine).to_have_count(1, timeout=ANSWER)  # the stored message, not the preview
    await expect(page.locator(".c-out")).to_have_count(answers + 1, timeout=ANSWER)
    await page.screenshot(path=shots / "7-photo.png")

    # Markup typed in the chat is shown as typed, never run or rendered.
    await say(page, '<b>hi</b><img src=x onerror="window.pwned=1">')
    await expect(page.locator(".c-in").last).to_have_text(
        '<b>hi</b><img src=x onerror="window.pwned=1">', timeout=ANSWER
    )

    # The same conversation after a reload (the device cookie), and on a desktop.
    await page.reload()
    await expect(shop_says(page, member_no).first).to_be_visible(timeout=ANSWER)
    await expect(page.locator(".c-out img")).to_have_count(1, timeout=ANSWER)
    await expect(page.locator(".c-in img")).to_have_count(1)
    await expect(page.locator(".c-in").last).to_contain_text("<b>hi</b>")
    assert await page.locator(".c-log b").count() == 0
    assert await page.evaluate("window.pwned === undefined")
    await expect(page.locator(".c-choice:enabled")).to_have_count(0)  # answered questions
    await expect(page.locator(".c-choice.is-chosen")).to_have_count(2)  # the coffee, yes
    await page.set_viewport_size(DESKTOP)
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "8-desktop.png")
    assert problems == []
    await context.close()
