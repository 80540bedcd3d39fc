"""The receipt review queue in Chromium: a cashier on a 375 px phone opens the queue, opens
a receipt, sees the OCR boxes of total, date and shop on the photo, zooms in, and approves
with a corrected amount from the bar at the bottom of the screen; on a desktop the queue is
a table and the keyboard decides (j/k next and previous, ? help, a approve). The member's conversation then shows
the bot's message with the points. Screenshots of each step.

The server is another one than the session's ``live_server`` because it must read the
receipt photos this process stored (this process's ``LOYALCHAT_VAR_DIR``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import new_row, save_row, scoped_select
from tests.fixtures import PASSWORD, World
from tests.receipt_review_helpers import member_of, plant_receipt, receipt_photo

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="module")
def review_server(start_server: Callable[..., AbstractContextManager[str]]) -> Iterator[str]:
    with start_server({"LOYALCHAT_VAR_DIR": os.environ["LOYALCHAT_VAR_DIR"]}) as base_url:
        yield base_url


async def _shop(world: World) -> tuple[int, int, str]:
    """A point a dollar; a member with a web chat conversation."""
    member = await member_of(world.id, "Chan Tai Man")
    with tenant_context(world.id, Actor("system")):
        await rules.create_rule(
            RuleCreate(name="A point a dollar", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        conversation = new_row(
            Conversation, channel="webchat", sender="device-e2e", member=member.id, locale="en"
        )
        await save_row(conversation)
    return member.id, conversation.id, member.member_no


async def _signed_in(
    browser: Browser, base_url: str, email: str, *, phone: bool
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(
        base_url=base_url,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        locale="en-US",
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    await page.goto("/login")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").first.click()
    await expect(page).not_to_have_url(re.compile(r"/login"))
    return context, page, problems


async def _boxes_on_photo(page: Page) -> None:
    """Each box is drawn over the photo, the total's where the drawn total line is."""
    photo = await page.get_by_test_id("receipt-photo").bounding_box()
    assert photo and photo["width"] > 100
    for name in ("total", "date", "merchant"):
        box = await page.get_by_test_id(f"ocr-box-{name}").bounding_box()
        assert box, name
        assert photo["x"] <= box["x"] and box["x"] + box["width"] <= photo["x"] + photo["width"] + 1
        assert (
            photo["y"] <= box["y"] and box["y"] + box["height"] <= photo["y"] + photo["height"] + 1
        )
    total = await page.get_by_test_id("ocr-box-total").bounding_box()
    # "總計 HK$ 123.40" is the fifth of six lines: its box sits in the lower half.
    assert total["y"] > photo["y"] + photo["height"] * 0.5


async def _member_entries(world: World, member_id: int) -> list[int]:
    with tenant_context(world.id, Actor("system")):
        rows = await scoped_select(LedgerEntry, LedgerEntry.points).where(
            LedgerEntry.member == member_id
        )
    return [row["points"] for row in rows]


async def test_a_cashier_reviews_receipts_on_a_phone_and_on_a_desktop(
    review_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    member_id, conversation_id, member_no = await _shop(tenant_a)
    first = await plant_receipt(
        tenant_a.id, member_id, conversation_id=conversation_id, age=timedelta(hours=2)
    )
    second = await plant_receipt(
        tenant_a.id,
        member_id,
        conversation_id=conversation_id,
        age=timedelta(minutes=20),
        photo=receipt_photo(width=600),  # another photo: not a copy of the first
        channel="webchat",
    )

    # A phone: the queue as cards, one receipt, the boxes, zoom, approve from the bottom bar.
    context, page, problems = await _signed_in(
        browser, review_server, tenant_a.cashier.email, phone=True
    )
    try:
        await page.goto("/console")
        await expect(page.get_by_test_id("home-receipts")).to_contain_text("2 receipts to review")
        await page.get_by_test_id("home-receipts").click()
        cards = page.get_by_test_id("receipt-card")
        await expect(cards).to_have_count(2)
        await expect(page.get_by_test_id("receipt-table")).to_be_hidden()
        await expect(cards.first).to_contain_text("2 hr")
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the queue is {wide} px wide on a 375 px phone"
        tap = await cards.first.bounding_box()
        assert tap and tap["height"] >= 44
        await page.screenshot(path=screenshots / "phone-receipt-queue.png", full_page=True)

        await cards.first.click()
        await expect(page).to_have_url(re.compile(rf"/console/receipts/{first}$"))
        await expect(page.get_by_test_id("receipt-photo")).to_be_visible()
        await page.wait_for_function(
            "document.querySelector('[data-testid=receipt-photo]').naturalWidth > 0"
        )
        await _boxes_on_photo(page)
        await expect(page.get_by_test_id("check-amount")).to_contain_text("HK$100.00")
        bar = page.get_by_test_id("decide-bar")
        await expect(bar).to_be_in_viewport()  # within the thumb's reach, without scrolling
        bar_box = await bar.bounding_box()
        assert bar_box and bar_box["y"] + bar_box["height"] >= PHONE["height"] - 2
        await page.screenshot(path=screenshots / "phone-receipt-review.png")

        await page.locator("[data-zoom-in]").click()
        await expect(page.get_by_test_id("photo-frame")).to_have_attribute(
            "data-scale", re.compile(r"^1\.[1-9]")
        )
        await page.screenshot(path=screenshots / "phone-receipt-zoomed.png")
        await page.locator("[data-zoom-reset]").click()

        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"the receipt page is {wide} px wide on a 375 px phone"
        await page.get_by_test_id("approve-amount").fill("120.40")
        await page.get_by_test_id("approve-bar").click()
        # The next receipt that waits opens, with what was done above it.
        await expect(page).to_have_url(re.compile(rf"/console/receipts/{second}$"))
        await expect(page.locator(".flash-success")).to_contain_text(
            f"Approved: 120 points for member {member_no}."
        )
        await page.screenshot(path=screenshots / "phone-receipt-approved.png", full_page=True)
        # The same page in Chinese: nothing wider than the phone, the decisions in reach.
        for locale, approve in (("zh-Hant", "批准"), ("zh-Hans", "批准")):
            await page.goto(f"/lang/{locale}?next=/console/receipts/{second}")
            await expect(page.get_by_test_id("approve-bar")).to_have_text(approve)
            wide = await page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{locale}: {wide} px wide on a 375 px phone"
            await page.screenshot(path=screenshots / f"phone-receipt-review-{locale}.png")
        await page.goto("/lang/en?next=/console")
        assert problems == [], problems
    finally:
        await context.close()
    assert await _member_entries(tenant_a, member_id) == [120]

    # A desktop: the queue as a table; ? shows the shortcuts, a approves as typed.
    context, page, problems = await _signed_in(
        browser, review_server, tenant_a.cashier.email, phone=False
    )
    try:
        await page.goto("/console/receipts")
        rows = page.get_by_test_id("receipt-row")
        await expect(rows).to_have_count(1)
        await expect(page.get_by_test_id("receipt-cards")).to_be_hidden()
        await page.screenshot(path=screenshots / "desktop-receipt-queue.png", full_page=True)
        await page.get_by_test_id("receipt-link").first.click()
        await expect(page).to_have_url(re.compile(rf"/console/receipts/{second}$"))
        await expect(page.get_by_test_id("decide-bar")).to_be_hidden()
        await _boxes_on_photo(page)
        # j / k walk the list in its order (All: newest first, so j is the older one).
        await page.goto(f"/console/receipts/{second}?status=all")
        await page.keyboard.press("j")
        await expect(page).to_have_url(re.compile(rf"/console/receipts/{first}\?status=all$"))
        await page.keyboard.press("k")
        await expect(page).to_have_url(re.compile(rf"/console/receipts/{second}\?status=all$"))
        await page.keyboard.press("?")
        await expect(page.get_by_test_id("shortcuts")).to_be_visible()
        await page.screenshot(path=screenshots / "desktop-receipt-shortcuts.png")
        await page.keyboard.press("?")
        await expect(page.get_by_test_id("shortcuts")).to_be_hidden()
        await page.screenshot(path=screenshots / "desktop-receipt-review.png", full_page=True)
        await page.get_by_test_id("approve-amount").fill("50")
        await page.locator("body").click(position={"x": 5, "y": 300})  # out of the field
        await page.keyboard.press("a")
        await expect(page).to_have_url(re.compile(r"/console/receipts\?status=all$"))
        await expect(page.locator(".flash-info")).to_contain_text("Nothing else to review")
        await expect(page.get_by_test_id("count-credited")).to_have_text("2")

        # The member's conversation: the bot's messages with the points.
        await page.goto(f"/console/conversations/{conversation_id}")
        thread = page.get_by_test_id("thread")
        await expect(thread).to_contain_text("Your receipt of HK$120.40 earned 120 points.")
        await expect(thread).to_contain_text("Your receipt of HK$50.00 earned 50 points.")
        await page.screenshot(path=screenshots / "desktop-receipt-member-told.png", full_page=True)
        assert problems == [], problems
    finally:
        await context.close()
    assert sorted(await _member_entries(tenant_a, member_id)) == [50, 120]
