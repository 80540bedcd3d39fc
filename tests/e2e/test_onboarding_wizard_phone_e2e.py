"""The application wizard on a 375 px phone in real Chromium: every step fits the screen
(in English and Traditional Chinese), details are saved, a certificate photo is uploaded,
read by the real OCR engine and cross-checked, and the application resumes where it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from loyalchat.tenants.tables import TenantStatus
from tests.e2e.test_console_e2e import new_page, no_sideways_scroll, sign_in
from tests.fixtures import make_world
from tests.onboarding_helpers import certificate_png

pytestmark = pytest.mark.e2e

STEPS = ("details", "registration", "plan", "receipts", "channels")


async def test_wizard_on_a_phone(
    live_server: str, browser: Browser, clean_db: None, screenshots: Path, tmp_path: Path
) -> None:
    world = await make_world("alpha-tea", TenantStatus.applying)
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, world.owner.email, "/onboarding")
    await expect(page.get_by_test_id("application-state")).to_have_attribute(
        "data-status", "applying"
    )
    assert await no_sideways_scroll(page)

    await page.get_by_test_id("step-1").locator("a").click()
    await expect(page).to_have_url(re.compile(r"/onboarding/details$"))
    await page.get_by_label("Legal name in English").fill("ALPHA TEA LIMITED")
    await page.get_by_label("Legal name in Chinese").fill("阿爾法茶室有限公司")
    await page.get_by_label("Registration number").fill("1234567")  # one digit short
    await page.get_by_label("Business address").fill("1 Queen's Road Central")
    await page.get_by_label("Phone").fill("2123 4567")
    await page.get_by_label("Industry").select_option("restaurant")
    await page.get_by_test_id("details-submit").click()
    await expect(page.get_by_test_id("error-summary")).to_contain_text("8 digits")
    await page.screenshot(path=str(screenshots / "wizard-phone-details-error.png"), full_page=True)
    await page.get_by_label("Registration number").fill("12345678")
    await page.get_by_test_id("details-submit").click()
    await expect(page).to_have_url(re.compile(r"/onboarding/registration$"))
    await expect(page.get_by_test_id("step-1")).to_have_attribute("data-done", "yes")

    photo = tmp_path / "certificate.png"
    photo.write_bytes(certificate_png())
    await page.get_by_test_id("document-input").set_input_files(str(photo))
    await page.get_by_test_id("document-submit").click()
    await expect(page.get_by_test_id("document-preview")).to_be_visible(timeout=60_000)
    await expect(page.get_by_test_id("check-number")).to_have_attribute("data-result", "match")
    await expect(page.get_by_test_id("step-2")).to_have_attribute("data-done", "yes")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=str(screenshots / "wizard-phone-registration.png"), full_page=True)
    await context.close()

    # Another visit (another device, in Chinese): the application resumes where it was.
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, world.owner.email, "/onboarding")
    await context.add_cookies([{"name": "lc_lang", "value": "zh-Hant", "url": live_server}])
    for step in STEPS:
        await page.goto(f"/onboarding/{step}")
        await expect(page.get_by_test_id("wizard-steps")).to_be_visible()
        assert await no_sideways_scroll(page), step
    await page.goto("/onboarding")
    await expect(page.get_by_test_id("step-2")).to_have_attribute("data-done", "yes")
    await expect(page.get_by_test_id("missing-steps")).to_be_visible()
    assert await page.get_attribute("html", "lang") == "zh-Hant"
    await page.screenshot(path=str(screenshots / "wizard-phone-overview-zh.png"), full_page=True)
    assert not page.problems  # type: ignore[attr-defined]
    await context.close()
