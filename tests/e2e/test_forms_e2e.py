"""Form errors in real Chromium at 375 px, in three languages: an empty reward form comes back
with every problem listed at the top, focused, each item a link that focuses its field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_console_e2e import new_page, sign_in
from tests.fixtures import World

pytestmark = pytest.mark.e2e

TITLES = {"en": "Please check the form", "zh-Hant": "請檢查表格", "zh-Hans": "请检查表单"}


@pytest.mark.parametrize("code", ["en", "zh-Hant", "zh-Hans"])
async def test_empty_reward_form_lists_every_error_at_the_top(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path, code: str
) -> None:
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, tenant_a.owner.email)
    await page.goto(f"/lang/{code}?next=/console/rewards/new")
    await expect(page).to_have_url(re.compile(r"/console/rewards/new$"))
    await page.get_by_test_id("reward-save").click()

    summary = page.get_by_test_id("error-summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_be_focused()
    await expect(summary).to_have_attribute("role", "alert")
    await expect(summary.get_by_role("heading")).to_have_text(TITLES[code])
    box = await summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 812, "the summary is on screen"
    links = summary.get_by_role("link")
    await expect(links).to_have_count(3)  # name, points, the coupon's benefit: all at once
    texts = await links.all_inner_texts()
    if code != "en":
        for text in texts:
            assert not re.search(r"[A-Za-z]{4,}", text.replace("HK$", "")), text
    await expect(page.locator("#f-points_cost")).to_have_attribute("aria-invalid", "true")
    await page.screenshot(path=screenshots / f"phone-reward-form-errors-{code}.png")

    for index in range(3):
        link = links.nth(index)
        target = (await link.get_attribute("href") or "#")[1:]
        await link.click()
        focused = await page.evaluate("document.activeElement && document.activeElement.id")
        assert focused and focused.startswith(target), (target, focused)
        assert await page.evaluate(
            "(() => { const r = document.activeElement.getBoundingClientRect();"
            " return r.bottom > 0 && r.top < window.innerHeight; })()"
        ), f"{target} is scrolled into view"
        await page.evaluate("window.scrollTo(0, 0)")
    await page.locator("#f-points_cost").fill("50")
    await page.screenshot(path=screenshots / f"phone-reward-form-field-{code}.png")
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.problems.clear()  # type: ignore[attr-defined]  # the refused form came back as a 400
    await context.close()


async def test_plugins_page_on_a_phone_in_traditional_chinese(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, tenant_a.owner.email)
    await page.goto("/lang/zh-Hant?next=/console/plugins")
    coupon = page.get_by_test_id("plugin-coupon")
    await expect(coupon.get_by_test_id("plugin-title")).to_have_text("優惠券")
    await expect(coupon.get_by_test_id("plugin-summary")).to_contain_text("收銀")
    switch = coupon.get_by_role("switch")
    await expect(switch).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_text("This plugin needs no settings")).to_have_count(0)
    assert await page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    await page.screenshot(path=screenshots / "phone-plugins-zh-Hant.png", full_page=True)

    await switch.click()
    await expect(page.get_by_test_id("plugin-coupon").get_by_role("switch")).to_have_attribute(
        "aria-checked", "false"
    )
    await page.goto("/console/rewards/new")
    await expect(page.get_by_test_id("reward-type").locator("option[value=coupon]")).to_have_count(
        0
    )
    await page.goto("/console/plugins")
    await page.get_by_test_id("plugin-coupon").get_by_role("switch").click()
    await expect(page.get_by_test_id("plugin-coupon").get_by_role("switch")).to_have_attribute(
        "aria-checked", "true"
    )
    assert not page.problems  # type: ignore[attr-defined]
    await context.close()
