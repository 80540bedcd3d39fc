"""The console's small print at 375 px, in three languages: words a cashier needs are never
cut (the redemptions' status tabs and badges, the members search's placeholder), member
numbers are described without pattern syntax (a live example as the fields change), times
show minutes, coupon codes read ABCD-EFGH, hints keep their distance from the next label,
and an empty "Add a member" form is refused at the top of the form. Screenshots for each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from loyalchat.context import tenant_context
from loyalchat.rewards import service as rewards
from tests.fixtures import PASSWORD, World
from tests.wallet_helpers import STAFF, make_coupon, make_member

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
LANGUAGES = ["en", "zh-Hant", "zh-Hans"]
SECONDS = re.compile(r"\d:\d\d:\d\d")
# Text that does not fit its box: cut by overflow (ellipsis or clipping) or off the screen.
CUT = """(selector) => [...document.querySelectorAll(selector)].filter(e => {
  const r = e.getBoundingClientRect();
  return e.scrollWidth > e.clientWidth + 1 || r.left < 0 || r.right > window.innerWidth
    || getComputedStyle(e).textOverflow === 'ellipsis';
}).map(e => e.textContent.trim())"""
# Whether an input's placeholder is wider than the room for text inside it.
PLACEHOLDER_CUT = """(input) => {
  const style = getComputedStyle(input);
  const text = getComputedStyle(input, '::placeholder');
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${text.fontStyle} ${text.fontWeight} ${text.fontSize} ${text.fontFamily}`;
  // Chromium keeps room for the search field's clear button (about 16 px) on the right.
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
  return ctx.measureText(input.placeholder).width > room;
}"""
# The gap between a card's explanation and the first label of its form, in px.
GAP = """(card) => {
  const text = card.querySelector(':scope > p.muted');
  const label = card.querySelector('form label');
  return label.getBoundingClientRect().top - text.getBoundingClientRect().bottom;
}"""


async def _phone(browser: Browser, base_url: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(
        base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


async def _sign_in(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").first.click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def _in_language(page: Page, code: str, path: str) -> None:
    await page.goto(f"/lang/{code}?next={path}")
    await expect(page.locator("html")).to_have_attribute("lang", code)


async def _redemptions(world: World):
    """A member with one coupon of each status: used, cancelled, still to use."""
    member = await make_member(world, 1000, name="陳大文 Chan Tai Man", phone="91234567")
    reward = await make_coupon(world, cost=100)
    with tenant_context(world.id, STAFF):
        used = await rewards.redeem(member.id, reward.id, key="e2e-polish-used")
        await rewards.use_grant(used.code)
        void = await rewards.redeem(member.id, reward.id, key="e2e-polish-void")
        await rewards.void_grant(void.code, "changed mind")
        issued = await rewards.redeem(member.id, reward.id, key="e2e-polish-issued")
    return member, reward, issued


async def test_console_small_print_on_a_phone(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    member, reward, issued = await _redemptions(tenant_a)
    shown_code = f"{issued.code[:4]}-{issued.code[4:]}"
    context, page = await _phone(browser, live_server)
    await _sign_in(page, tenant_a.owner.email)

    for code in LANGUAGES:
        # Redemptions: every status tab and badge whole, codes as ABCD-EFGH, no seconds.
        await _in_language(page, code, f"/console/rewards/{reward.id}/grants")
        assert await page.evaluate(CUT, "[data-testid=grant-tabs] .tab, .badge, code") == []
        statuses = await page.get_by_test_id("grant-status").all_inner_texts()
        assert len(statuses) == 3 and not any("…" in s for s in statuses), statuses
        if code == "en":
            assert sorted(statuses) == ["Cancelled", "Issued", "Used"]
            await expect(page.get_by_role("link", name="Cancelled", exact=True)).to_be_visible()
        await expect(page.get_by_test_id("grant-code").filter(has_text=shown_code)).to_have_count(1)
        main = await page.locator("main").inner_text()
        assert not SECONDS.search(main), main
        await page.screenshot(path=screenshots / f"phone-grants-{code}.png", full_page=True)

        # Members list: the search placeholder is read whole, the button is on screen.
        await _in_language(page, code, "/console/members")
        search = page.get_by_test_id("member-search")
        assert not await search.evaluate(PLACEHOLDER_CUT), code
        assert await page.evaluate(CUT, "[data-testid=member-search-button]") == []
        await page.screenshot(path=screenshots / f"phone-members-search-{code}.png")

        # Member numbers: merchant words, no pattern syntax; the example follows the fields.
        await _in_language(page, code, "/console/members/numbers")
        main = page.locator("main")
        assert "{" not in await main.inner_text() and "seq" not in await main.inner_text()
        await expect(page.get_by_test_id("number-preview")).to_have_text("M000123")
        await expect(page.get_by_test_id("number-prefix")).to_have_value("M")
        await page.get_by_test_id("number-prefix").fill("VIP-")
        await page.get_by_test_id("number-digits").fill("4")
        await expect(page.get_by_test_id("number-preview")).to_have_text("VIP-0123")
        await page.screenshot(path=screenshots / f"phone-member-numbers-{code}.png", full_page=True)

        # The member page: hints end in full words, explanations clear the next label.
        await _in_language(page, code, f"/console/members/{member.id}")
        await page.get_by_test_id("profile-disclosure").locator("summary").click()
        hint = (await page.locator("#f-phone-hint").inner_text()).replace("\xa0", " ")
        assert "+86 138 0013 8000" in hint and "…" not in hint, hint
        await page.get_by_test_id("merge-disclosure").locator("summary").click()
        for card in ("#adjust", "#merge"):
            assert await page.locator(card).evaluate(GAP) >= 8, (code, card)
        main = await page.locator("main").inner_text()
        assert not SECONDS.search(main), main
        assert shown_code in main  # the member's rewards list the code as the wallet does
        await page.screenshot(path=screenshots / f"phone-member-hints-{code}.png", full_page=True)

        # Add a member with nothing filled in: refused at the top, in the form's language.
        await _in_language(page, code, "/console/members/new")
        await page.get_by_test_id("new-member-form").locator("button[type=submit]").click()
        summary = page.get_by_test_id("error-summary")
        await expect(summary).to_be_visible()
        await expect(page.locator("#f-name")).to_have_attribute("aria-invalid", "true")
        if code == "zh-Hant":
            await expect(summary).to_contain_text("請輸入會員的姓名或電話號碼")
        await page.screenshot(path=screenshots / f"phone-new-member-empty-{code}.png")

    # The empty form added nobody: the list still has the one member.
    await _in_language(page, "en", "/console/members")
    await expect(page.get_by_test_id("member-row")).to_have_count(1)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_console_small_print_on_a_desktop(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    """On a wide screen the search button says "Search"; member numbers read the same."""
    context = await browser.new_context(
        base_url=live_server, viewport={"width": 1366, "height": 860}, locale="en-US"
    )
    page = await context.new_page()
    await _sign_in(page, tenant_a.owner.email)
    await _in_language(page, "zh-Hant", "/console/members")
    await expect(page.get_by_test_id("member-search-button")).to_have_text("搜尋")
    assert not await page.get_by_test_id("member-search").evaluate(PLACEHOLDER_CUT)
    await _in_language(page, "zh-Hant", "/console/members/numbers")
    assert "{" not in await page.locator("main").inner_text()
    await expect(page.get_by_test_id("number-preview")).to_have_text("M000123")
    await page.screenshot(path=screenshots / "desktop-member-numbers-zh-Hant.png", full_page=True)
    await context.close()
