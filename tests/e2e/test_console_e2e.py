"""The console in real Chromium: a 375 px phone and a desktop, three languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import accounts
from loyalchat.tenants.tables import Role
from tests.fixtures import PASSWORD, World

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 860}


async def new_page(
    browser: Browser, base_url: str, *, phone: bool, locale: str = "en-US"
) -> tuple[BrowserContext, Page]:
    """A page on a phone or a desktop whose script errors collect in ``page.problems``."""
    context = await browser.new_context(
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        locale=locale,
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


async def sign_in(page: Page, email: str, next_path: str = "/console") -> None:
    await page.goto(next_path)
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


async def no_sideways_scroll(page: Page) -> bool:
    return await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


async def test_phone_sign_in_nav_and_language(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    context, page = await new_page(browser, live_server, phone=True)
    await page.goto("/login")
    await page.get_by_label("E-mail address").fill(tenant_a.owner.email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("form-error")).to_have_text(
        "Wrong e-mail address or password."
    )
    await page.screenshot(path=screenshots / "phone-login-error.png", full_page=True)
    page.problems.clear()  # type: ignore[attr-defined]  # the refused form came back as a 400

    await sign_in(page, tenant_a.owner.email)
    await expect(page.get_by_test_id("tenant-name")).to_have_text(tenant_a.tenant.display_name)
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    nav = page.locator("#sidenav")
    await expect(nav).not_to_be_in_viewport()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-console.png", full_page=True)

    menu = page.get_by_role("button", name="Menu")
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(nav).to_be_in_viewport(ratio=1)  # the drawer has finished sliding in
    await expect(nav.get_by_role("link", name="API keys")).to_be_visible()
    await page.screenshot(path=screenshots / "phone-nav-open.png")

    await nav.get_by_role("link", name="繁體中文").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("你好")
    await expect(page.get_by_role("button", name="選單")).to_be_visible()
    await expect(page.get_by_text("暫時未有內容").first).to_be_visible()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-console-zh-hant.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_phone_api_key_shown_once(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    context, page = await new_page(browser, live_server, phone=True)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    await sign_in(page, tenant_a.owner.email, "/console/api-keys")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#f-name-error")).to_have_text("Give the key a name.")
    await page.get_by_label("Name").fill("Counter POS")
    await page.get_by_role("button", name="Create key").click()

    secret = page.get_by_test_id("new-key")
    await expect(secret).to_have_text(re.compile(r"^lc_[0-9a-f]{12}_\S+$"))
    key = (await secret.text_content() or "").strip()
    copy = page.get_by_role("button", name="Copy")
    await copy.click()
    await expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == key
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-api-key-created.png", full_page=True)

    await page.get_by_role("link", name="Done: back to API keys").click()
    await expect(page.get_by_role("cell", name="Counter POS")).to_be_visible()
    assert key not in await page.content()
    await page.screenshot(path=screenshots / "phone-api-keys.png", full_page=True)
    await context.close()


async def test_desktop_tenant_switcher(
    live_server: str, browser: Browser, tenant_a: World, tenant_b: World, screenshots: Path
) -> None:
    with tenant_context(tenant_b.id, Actor("system")):
        await accounts.grant_role(tenant_a.owner.id, Role.manager)
    context, page = await new_page(browser, live_server, phone=False)
    await sign_in(page, tenant_a.owner.email)
    await expect(page.locator("#sidenav")).to_be_visible()
    await expect(page.get_by_role("button", name="Menu")).to_be_hidden()

    await page.locator(".tenant-menu summary").click()
    await page.screenshot(path=screenshots / "desktop-tenant-menu.png")
    await page.get_by_role("button", name=re.compile(tenant_b.tenant.display_name)).click()
    await expect(page.get_by_test_id("tenant-name")).to_have_text(tenant_b.tenant.display_name)
    await expect(page.get_by_role("status").first).to_contain_text("You are now working in")
    await page.screenshot(path=screenshots / "desktop-console.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_desktop_admin_dashboard(
    live_server: str,
    browser: Browser,
    admin: accounts.StaffInfo,
    tenant_a: World,
    tenant_b: World,
    screenshots: Path,
) -> None:
    context, page = await new_page(browser, live_server, phone=False)
    await page.goto("/login")
    await page.get_by_label("E-mail address").fill(admin.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/admin$"))
    await expect(page.get_by_role("heading", name="Platform admin", level=1)).to_be_visible()
    for world in (tenant_a, tenant_b):
        await expect(page.get_by_role("cell", name=world.tenant.slug, exact=True)).to_be_visible()
    await expect(page.get_by_role("img", name="Shops by status")).to_be_visible()
    await expect(page.locator("#health-panel")).to_contain_text("Database")
    assert await page.evaluate("typeof window.htmx") == "object"
    await page.screenshot(path=screenshots / "desktop-admin.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_phone_top_bar_shows_a_long_shop_name_whole(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    from loyalchat.tenants.tables import Tenant

    name = "Demo Café 示範咖啡 銅鑼灣分店"
    await Tenant.update({Tenant.display_name: name}).where(Tenant.id == tenant_a.id)
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, tenant_a.owner.email)
    shown = page.get_by_test_id("tenant-name")
    await expect(shown).to_have_text(name)
    cut = await shown.evaluate(
        "e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1"
    )
    assert not cut  # wrapped onto two lines at most, not cut with an ellipsis
    box = await shown.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-long-shop-name.png")
    await context.close()
