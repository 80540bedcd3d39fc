"""The member page, the members list and the admin's shops at 375 px, in three languages.

Balance and the everyday actions come before the history and the profile; the wallet link
is copied (and opened) and shown as a QR code (read back from the screenshot and opened);
no page scrolls sideways; the admin's Suspend button is on screen.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect

from loyalchat.context import tenant_context
from loyalchat.purchases import service as purchases
from loyalchat.tenants import accounts
from tests.fixtures import PASSWORD, World
from tests.wallet_helpers import STAFF, make_member

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
LANGUAGES = ["en", "zh-Hant", "zh-Hans"]
NO_SIDEWAYS = "document.documentElement.scrollWidth <= 375"
# What sticks out on the right, to say why a page scrolls sideways.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 376)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


async def _fits(page: Page) -> bool:
    """No sideways scroll at 375 px; else fail naming what sticks out."""
    if await page.evaluate(NO_SIDEWAYS):
        return True
    raise AssertionError(f"{page.url} scrolls sideways: {await page.evaluate(WIDE)}")


async def _phone(browser: Browser, base_url: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(
        base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
    )
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
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


async def _top(page: Page, testid: str) -> float:
    box = await page.get_by_test_id(testid).first.bounding_box()
    assert box is not None, testid
    return box["y"]


async def _member_with_history(world: World):
    member = await make_member(world, 0, name="陳大文 Chan Tai Man", email="chan@example.com")
    with tenant_context(world.id, STAFF):
        for n in range(3):
            await purchases.adjust_points(member.id, 40 + n, key=f"adjust:e2e-{n}", reason="gift")
    return member


async def test_member_page_on_a_phone_in_three_languages(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    member = await _member_with_history(tenant_a)
    await make_member(tenant_a, 0, name="", phone="")  # a scan-only joiner for the third tab
    context, page = await _phone(browser, live_server)
    await _sign_in(page, tenant_a.owner.email)
    detail = f"/console/members/{member.id}"

    for code in LANGUAGES:
        # The members list: three tabs on screen, "Add a member" is the primary button.
        await _in_language(page, code, "/console/members")
        for tab in ("tab-all", "tab-verified", "tab-unverified"):
            box = await page.get_by_test_id(tab).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (code, tab)
        await expect(page.get_by_test_id("new-member")).to_have_class(
            re.compile(r"\bbtn-primary\b")
        )
        assert await _fits(page), f"members list scrolls sideways ({code})"
        await page.screenshot(path=screenshots / f"phone-members-{code}.png", full_page=True)

        # The member page: balance and actions, the wallet link, the history, then the profile.
        await _in_language(page, code, detail)
        await expect(page.get_by_test_id("member-points")).to_have_text("123")
        order = [
            await _top(page, "member-points"),
            await _top(page, "purchase-form"),
            await _top(page, "adjust-form"),
            await _top(page, "wallet-link-card"),
            await _top(page, "history-table"),
            await _top(page, "profile-disclosure"),
            await _top(page, "merge-disclosure"),
        ]
        assert order == sorted(order), (code, order)
        assert await _top(page, "purchase-form") < PHONE["height"]  # on the first screen
        await expect(page.get_by_test_id("profile-form")).to_be_hidden()  # behind a disclosure
        assert await _fits(page), f"member page scrolls sideways ({code})"
        await page.screenshot(path=screenshots / f"phone-member-{code}.png", full_page=True)

        # Copy the link: the clipboard holds it, and it opens this member's wallet.
        link = await page.get_by_test_id("wallet-url").input_value()
        assert re.fullmatch(re.escape(live_server) + r"/w/[\w.-]+", link), link
        await page.get_by_test_id("wallet-copy").click()
        await expect(page.get_by_test_id("wallet-copy")).to_have_class(re.compile(r"\bis-done\b"))
        assert await page.evaluate("navigator.clipboard.readText()") == link
        mail = await page.get_by_test_id("wallet-mail").get_attribute("href")
        assert mail and mail.startswith("mailto:chan@example.com?subject=")

        # The QR code: shown on a tap, read back from the screen, and it opens the wallet too.
        await page.get_by_test_id("wallet-qr").locator("summary").click()
        image = page.get_by_test_id("wallet-qr-image")
        await expect(image).to_be_visible()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
        )
        assert await _fits(page)
        shot = await image.screenshot()
        await page.screenshot(path=screenshots / f"phone-member-qr-{code}.png")
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        assert found, f"the QR code on the page did not scan ({code})"
        scanned = found[0].text
        assert scanned.startswith(f"{live_server}/w/")

        for target in (link, scanned):
            wallet = await context.new_page()
            await wallet.goto(target)
            await expect(wallet.get_by_test_id("wallet-member-no")).to_have_text(member.member_no)
            await expect(wallet.get_by_test_id("wallet-points")).to_have_text("123")
            await wallet.close()
    await page.goto(detail)  # the wallet set no cookie that changes the console
    await expect(page.get_by_test_id("member-no")).to_have_text(member.member_no)
    # On a desktop the top cards pair up; nothing is wider than the window either.
    await page.set_viewport_size({"width": 1366, "height": 860})
    await page.reload()
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    await page.screenshot(path=screenshots / "desktop-member.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_admin_shops_on_a_phone_keep_suspend_on_screen(
    live_server: str,
    browser: Browser,
    admin: accounts.StaffInfo,
    tenant_a: World,
    tenant_b: World,
    screenshots: Path,
) -> None:
    context, page = await _phone(browser, live_server)
    await _sign_in(page, admin.email)
    for code in LANGUAGES:
        await _in_language(page, code, "/admin")
        rows = page.get_by_test_id("shop-row")
        await expect(rows).to_have_count(2)
        for n in range(2):
            suspend = rows.nth(n).locator("summary.btn-danger")
            await suspend.scroll_into_view_if_needed()
            box = await suspend.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, code
        assert await _fits(page), f"admin shops scroll sideways ({code})"
        await page.screenshot(path=screenshots / f"phone-admin-shops-{code}.png", full_page=True)
    # The Suspend form opens in place and still fits.
    await page.get_by_test_id("shop-row").first.locator("summary.btn-danger").click()
    await expect(
        page.get_by_test_id("shop-row").first.locator("input[name=reason]")
    ).to_be_visible()
    assert await _fits(page)
    await page.screenshot(path=screenshots / "phone-admin-suspend-open.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_admin_plugins_page_on_a_phone_reads_as_cards(
    live_server: str, browser: Browser, admin: accounts.StaffInfo, screenshots: Path
) -> None:
    """Each plugin a card: its title and summary one block beside its label, not squeezed
    into narrow columns a character or two wide."""
    context, page = await _phone(browser, live_server)
    await _sign_in(page, admin.email)
    for code in LANGUAGES:
        await _in_language(page, code, "/admin/plugins")
        titles = page.get_by_test_id("plugin-title")
        assert await titles.count() >= 2
        for n in range(await titles.count()):
            lines = await titles.nth(n).evaluate(
                "e => { const r = document.createRange(); r.selectNodeContents(e);"
                " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }"
            )
            assert lines <= 2, f"plugin title squeezed onto {lines} lines ({code})"
        assert await _fits(page), f"admin plugins scroll sideways ({code})"
        await page.screenshot(path=screenshots / f"phone-admin-plugins-{code}.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()
