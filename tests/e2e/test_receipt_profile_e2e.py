"""The receipt profile page in Chromium on a 375 px phone: the owner picks two receipt photos,
the page reads them (htmx, with its progress line), the proposed names fill the form, the
profile is saved, and a receipt tried in the test box is judged. Screenshots of each step.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.receipts.checks.merchant import names_match
from loyalchat.receipts.settings import get_receipt_settings
from tests.drawn_receipts import as_bytes, draw_receipt
from tests.fixtures import PASSWORD, World

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}


def _photo(folder: Path, name: str, total: str) -> Path:
    lines = (
        "DEMO CAFE",
        "示範咖啡",
        f"Date {date.today().isoformat()} 12:30",
        "Latte x2      HK$ 60.00",
        f"TOTAL HK$ {total}",
        "Thank you",
    )
    path = folder / name
    path.write_bytes(as_bytes(draw_receipt(lines)))
    return path


async def test_an_owner_builds_the_receipt_profile_on_a_phone(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path, tmp_path: Path
) -> None:
    photos = [_photo(tmp_path, "a.png", "123.40"), _photo(tmp_path, "b.png", "58.00")]
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    try:
        await page.goto("/login")
        await page.locator("input[name=email]").fill(tenant_a.owner.email)
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("form button[type=submit]").first.click()
        await expect(page).not_to_have_url(re.compile(r"/login"))
        await page.goto("/console/receipts/profile")
        await expect(page.get_by_test_id("no-samples")).to_be_visible()
        await expect(page.locator("#read-busy")).to_be_hidden()

        await page.get_by_test_id("samples-input").set_input_files(photos)
        await page.get_by_test_id("samples-submit").click()
        await expect(page.locator("#read-busy")).to_be_visible()  # the progress line
        await expect(page.get_by_test_id("sample")).to_have_count(2, timeout=90_000)
        await expect(page.get_by_test_id("samples-read")).to_contain_text("Read 2 photos")
        names = (await page.get_by_test_id("profile-names").input_value()).splitlines()
        assert any(names_match(n, "DEMO CAFE") for n in names), names
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"] + 1, f"the page is {wide} px wide on a 375 px phone"
        await page.screenshot(
            path=screenshots / "phone-receipt-profile-proposed.png", full_page=True
        )

        await page.get_by_test_id("profile-window").fill("10")
        await page.get_by_test_id("profile-save").click()
        await expect(page.locator(".flash-success")).to_contain_text("Receipt profile saved")
        await expect(page.get_by_test_id("sample")).to_have_count(2)
        await expect(page.get_by_test_id("profile-window")).to_have_value("10")

        await page.get_by_test_id("try-input").set_input_files(photos[0])
        await page.get_by_test_id("try-submit").click()
        verdict = page.get_by_test_id("try-verdict")
        await expect(verdict).to_be_visible(timeout=60_000)
        await expect(page.locator('[data-check="merchant"]')).to_have_attribute(
            "data-outcome", "pass"
        )
        await page.screenshot(path=screenshots / "phone-receipt-profile-tried.png", full_page=True)
    finally:
        await context.close()
    assert not problems, problems
    with tenant_context(tenant_a.id, Actor("system")):
        rules = await get_receipt_settings()
    assert rules.window_days == 10
    assert len(rules.profile.hints["samples"]) == 2
