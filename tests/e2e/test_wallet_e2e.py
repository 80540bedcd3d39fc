"""The member wallet in real Chromium on a 375 px phone, in each of the three languages.

A member who never chose a language opens their link: the wallet speaks the phone's
language (not the shop's), shows the whole shop name, and after redeeming, the Back button
shows what happened instead of a second live confirm button. The member then picks another
language in the wallet, and that choice sticks: across pages, reloads and other phones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from loyalchat.context import tenant_context
from loyalchat.ledger import service as ledger
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rewards import service as rewards
from loyalchat.tenants.tables import Tenant
from tests.e2e.test_console_e2e import no_sideways_scroll
from tests.e2e.test_loyalty_e2e import OWNER, PHONE, wallet_link
from tests.fixtures import World

pytestmark = pytest.mark.e2e

# Long enough to need two lines beside the language switcher on a 375 px phone.
SHOP = "Demo Café 示範咖啡 銅鑼灣分店"
# (browser locale, wallet language, the language the member switches to)
LANGUAGES = [("en-US", "en", "zh-Hant"), ("zh-HK", "zh-Hant", "en"), ("zh-CN", "zh-Hans", "en")]
TEXT = {
    "en": {"redeemed": "Done! The reward is yours.", "already": "Already redeemed"},
    "zh-Hant": {"redeemed": "兌換成功！獎賞已歸你所有。", "already": "已兌換"},
    "zh-Hans": {"redeemed": "兑换成功！奖励已归你所有。", "already": "已兑换"},
}
SWITCHER = {"en": "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文"}
# The shop's name as each reader sees it: in their own Chinese script.
SHOP_SEEN = {"en": SHOP, "zh-Hant": SHOP, "zh-Hans": "Demo Café 示范咖啡 铜锣湾分店"}
DESKTOP = {"width": 1366, "height": 860}


async def seed(world: World) -> tuple[str, int]:
    """A shop with a long name, a 100-point coupon, and a member with no language choice."""
    await Tenant.update({Tenant.display_name: SHOP}).where(Tenant.id == world.id)
    with tenant_context(world.id, OWNER):
        reward = await rewards.create_reward(
            {
                "name": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"},
                "points_cost": 100,
                "type": "coupon",
                "options": {"benefit": "免費咖啡一杯"},
                "validity_days": 30,
            }
        )
        member = await members.create_member(MemberCreate(name="Chan Siu Ming", phone="61234567"))
        await ledger.earn(member.id, 250, key="e2e:welcome", reason="welcome")
    return member.member_no, reward.id


async def phone(browser: Browser, base_url: str, locale: str) -> tuple[BrowserContext, Page]:
    """A 375 px phone whose browser asks for ``locale`` (its Accept-Language)."""
    context = await browser.new_context(
        base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale=locale
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    context.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


async def shop_name_fits(page: Page) -> dict[str, object]:
    """The shop name's element: its text, and whether all of it shows (nothing cut)."""
    return await page.get_by_test_id("wallet-shop").evaluate(
        """el => ({
            text: el.textContent.trim(),
            wide: el.scrollWidth <= el.clientWidth,
            tall: el.scrollHeight <= el.clientHeight + 1,
            lines: Math.round(el.getBoundingClientRect().height /
                              parseFloat(getComputedStyle(el).lineHeight)),
        })"""
    )


async def header_boxes(page: Page) -> dict[str, dict[str, float]]:
    """The bounding boxes of the wallet's top bar, its shop name, its language switcher
    and the page's content column."""
    return await page.evaluate(
        """() => Object.fromEntries(
            [["top", ".w-top"], ["shop", ".w-top .w-shop"], ["lang", ".w-lang"],
             ["main", ".w-main"], ["tabs", ".w-tabs"]].map(([name, selector]) => {
                const box = document.querySelector(selector).getBoundingClientRect();
                return [name, {left: box.left, right: box.right, top: box.top,
                               bottom: box.bottom, width: box.width}];
            }))"""
    )


async def check_header(page: Page, viewport_width: int) -> None:
    """The name has the bar's whole width, the switcher a line of its own below it; the bar
    and tabs are no wider than the content column (a desktop's 1366 px too)."""
    boxes = await header_boxes(page)
    top, shop, lang, main = boxes["top"], boxes["shop"], boxes["lang"], boxes["main"]
    assert lang["top"] >= shop["bottom"] - 1, boxes  # not on the name's line
    padding = 2 * 0.9 * 16
    assert shop["width"] >= top["width"] - padding - 2, boxes
    assert abs(top["width"] - main["width"]) <= 1 and abs(top["left"] - main["left"]) <= 1, boxes
    assert abs(boxes["tabs"]["width"] - main["width"]) <= 1, boxes
    assert top["width"] <= min(viewport_width, 560) + 0.5, boxes


@pytest.mark.parametrize(("browser_locale", "lang", "switch_to"), LANGUAGES)
async def test_wallet_language_shop_name_and_back_after_redeeming(
    live_server: str,
    browser: Browser,
    tenant_a: World,
    screenshots: Path,
    browser_locale: str,
    lang: str,
    switch_to: str,
) -> None:
    member_no, reward_id = await seed(tenant_a)
    link = await wallet_link(live_server, member_no, tenant_a.tenant.slug)
    shots = screenshots / "wallet" / lang
    shots.mkdir(parents=True, exist_ok=True)

    context, wallet = await phone(browser, live_server, locale=browser_locale)
    # The phone's language, although the shop's is Traditional Chinese.
    await wallet.goto(link)
    await expect(wallet.locator("html")).to_have_attribute("lang", lang)
    shop = await shop_name_fits(wallet)
    assert shop["text"] == SHOP_SEEN[lang]
    assert shop["wide"] and shop["tall"], shop
    assert shop["lines"] <= 2, shop
    await check_header(wallet, PHONE["width"])
    assert await no_sideways_scroll(wallet)
    await wallet.screenshot(path=shots / "1-card.png", full_page=True)
    # On a desktop the bar and tabs stay as wide as the content column.
    await wallet.set_viewport_size(DESKTOP)
    await check_header(wallet, DESKTOP["width"])
    await wallet.screenshot(path=shots / "1-card-desktop.png")
    await wallet.set_viewport_size(PHONE)

    # Redeem with the confirm step, then Back: the outcome, not a second live button.
    await wallet.get_by_test_id("tab-rewards").click()
    card = wallet.locator(f'[data-testid="reward-card"][data-reward-id="{reward_id}"]')
    await card.get_by_test_id("reward-redeem").click()
    await expect(wallet.get_by_test_id("confirm-redeem")).to_be_visible()
    await wallet.screenshot(path=shots / "2-confirm.png", full_page=True)
    await wallet.get_by_test_id("confirm-redeem").click()
    await expect(wallet.get_by_test_id("redeemed")).to_have_text(TEXT[lang]["redeemed"])
    [code] = await wallet.get_by_test_id("grant").evaluate_all(
        "els => els.map(el => el.dataset.code)"
    )
    await expect(wallet.get_by_test_id("wallet-points")).to_have_text("150")
    await wallet.go_back()
    await expect(wallet.get_by_test_id("already-redeemed")).to_be_visible()
    await expect(wallet.locator("h1")).to_have_text(TEXT[lang]["already"])
    await expect(wallet.get_by_test_id("confirm-redeem")).to_have_count(0)
    await expect(wallet.get_by_test_id("grant")).to_have_attribute("data-code", code)
    await expect(wallet.get_by_test_id("wallet-points")).to_have_text("150")
    await wallet.screenshot(path=shots / "3-back-after-redeeming.png", full_page=True)
    # A reload of that page says the same, and the link leads to the coupon.
    await wallet.reload()
    await expect(wallet.get_by_test_id("already-redeemed")).to_be_visible()
    await expect(wallet.get_by_test_id("confirm-redeem")).to_have_count(0)
    await wallet.get_by_test_id("spent-mine").click()
    await expect(wallet.locator(f'[data-testid="grant"][data-code="{code}"]')).to_be_visible()

    # The member picks another language in the wallet: it sticks, on every page and phone.
    await wallet.locator(".w-lang").get_by_role("button", name=SWITCHER[switch_to]).click()
    await expect(wallet.get_by_test_id("tab-mine")).to_have_attribute("aria-current", "page")
    await expect(wallet.locator("html")).to_have_attribute("lang", switch_to)
    await wallet.get_by_test_id("tab-history").click()
    await expect(wallet.get_by_test_id("tab-history")).to_have_attribute("aria-current", "page")
    await expect(wallet.locator("html")).to_have_attribute("lang", switch_to)
    await wallet.reload()
    await expect(wallet.locator("html")).to_have_attribute("lang", switch_to)
    assert (await shop_name_fits(wallet))["wide"]
    await wallet.screenshot(path=shots / "4-switched-language.png", full_page=True)
    assert wallet.problems == []  # type: ignore[attr-defined]
    await context.close()

    other, elsewhere = await phone(browser, live_server, locale=browser_locale)
    await elsewhere.goto(link)
    # The member's choice beats this browser's language.
    await expect(elsewhere.locator("html")).to_have_attribute("lang", switch_to)
    await other.close()
