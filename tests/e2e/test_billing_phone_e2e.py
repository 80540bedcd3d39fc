"""Billing on a 375 px phone in real Chromium: the plan chooser (from the wizard's plan step
to /console/billing), the bank details and the slip form, and the admin's /admin/payments
(the "why" box of a transfer not received, the failed and overdue lists, the admin home's
payment figures). Nothing runs off the screen sideways: the page is never wider than 375 px.

Screenshots under test-artifacts/screenshots/billing-phone-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from loyalchat.billing import service as billing
from loyalchat.context import Actor
from loyalchat.tenants import accounts
from loyalchat.tenants.tables import TenantStatus
from tests.e2e.onboarding_helpers import payment_slip, shop_for
from tests.e2e.test_console_e2e import new_page, sign_in
from tests.fixtures import World, make_world

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 375
ADMIN = Actor("staff", 99, "admin@platform.test")
# Bank details as platforms write them: one long line without a space to break at.
INSTRUCTIONS = (
    "Bank: The Hongkong and Shanghai Banking Corporation Limited\n"
    "Account: LOYALCHAT-PLATFORM-SERVICES-LIMITED-HKD-SAVINGS-004-123456-789012-838\n"
    "FPS: 108822334455"
)
LIMITS = {
    "members": 25000,
    "receipts_per_month": 100000,
    "channels": 10,
    "staff_seats": 50,
    "broadcasts_per_month": 1000,
}


@pytest.fixture(scope="module")
def server_url(start_server) -> Iterator[str]:
    with start_server({"LOYALCHAT_MANUAL_PAYMENT_INSTRUCTIONS": INSTRUCTIONS}) as url:
        yield url


async def fits_the_phone(page: Page, what: str) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{what}: the page is {width} px wide on a {PHONE_WIDTH} px phone"


async def plans() -> None:
    for code, name, price, trial in (
        ("starter", "Starter", "298.00", 0),
        ("multi-branch", "Growth for busy multi-branch tea restaurants", "1298.00", 14),
        ("enterprise", "Enterprise", "99999.00", 30),
    ):
        await billing.create_plan(
            billing.PlanInput(
                code=code,
                name=name,
                monthly_price=Decimal(price),
                limits=LIMITS,
                trial_days=trial,
            )
        )


async def overdue_shop(world: World) -> None:
    """``world`` paid a month, then its next transfer was not received (grace running)."""
    await billing.choose_plan(world.id, "starter", "manual")
    first = await billing.pending_payment(world.id)
    assert first and await billing.confirm_manual_payment(first.id, actor=ADMIN)
    await billing.choose_plan(world.id, "starter", "manual")
    second = await billing.pending_payment(world.id)
    reason = "No transfer with this reference reached the account by " + "x" * 60
    assert second and await billing.reject_manual_payment(second.id, actor=ADMIN, reason=reason)


async def test_billing_pages_fit_a_phone(
    server_url: str,
    browser: Browser,
    admin: accounts.StaffInfo,
    tenant_b: World,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    await plans()
    await overdue_shop(tenant_b)
    applying = await make_world("gamma-tea", TenantStatus.applying)

    # The merchant: from the wizard's plan step to the chooser, a plan by transfer, the slip.
    context, page = await new_page(browser, server_url, phone=True)
    await sign_in(page, applying.owner.email, "/onboarding/plan")
    await fits_the_phone(page, "the wizard's plan step")
    await page.get_by_test_id("billing-link").click()
    await expect(page).to_have_url(re.compile(r"/console/billing$"))
    chooser = page.get_by_test_id("plan-multi-branch")
    await chooser.scroll_into_view_if_needed()
    await fits_the_phone(page, "the plan chooser")
    # The radio button is a radio button, and the words beside it get the card's width.
    radio = await chooser.locator("input").bounding_box()
    words = await chooser.locator("input + span").bounding_box()
    assert radio and words
    assert radio["width"] <= 24 and words["width"] >= 250, (radio, words)
    await page.screenshot(path=screenshots / "billing-phone-choose.png", full_page=True)
    await chooser.click()  # anywhere on the card chooses it
    await expect(chooser.locator("input")).to_be_checked()
    await page.get_by_label("How to pay").select_option("manual")
    await page.get_by_test_id("choose-button").click()
    await expect(page.get_by_test_id("payment-instructions")).to_contain_text("FPS: 108822334455")
    # The plan has a trial: it is on, counting from the shop's approval.
    await expect(page.get_by_test_id("payment-state")).to_have_attribute("data-state", "trialing")
    await expect(page.get_by_test_id("trial-ends")).to_contain_text("14-day trial")
    await fits_the_phone(page, "the bank details")
    slip = payment_slip(tmp_path, shop_for("gamma"), Decimal("1298.00"), "FPS-20261206-0001")
    await page.get_by_label("Reference on your transfer").fill("FPS-20261206-0001")
    await page.get_by_label(re.compile("Transfer slip")).set_input_files(slip)
    await page.get_by_test_id("slip-button").click()
    await expect(page.get_by_test_id("slip-uploaded")).to_be_visible()
    await fits_the_phone(page, "the slip sent")
    await page.screenshot(path=screenshots / "billing-phone-slip-sent.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()

    # The platform admin on a phone: the transfer with its slip, and the "why" box.
    context, page = await new_page(browser, server_url, phone=True)
    await sign_in(page, admin.email, "/admin/payments")
    card = page.locator("article.payment").filter(has_text="gamma-tea")
    await expect(card.get_by_test_id("slip-image")).to_be_visible()
    await expect(card.get_by_test_id("slip-image")).to_have_js_property("complete", True)
    why = card.get_by_label("Why (the shop sees it)")
    await why.fill("The amount on the slip is HKD 1,289.00, not HKD 1,298.00: please check")
    box = await why.bounding_box()
    assert box and box["width"] >= 280, box  # room to say why, not a sliver
    await fits_the_phone(page, "the payments waiting")
    await page.screenshot(path=screenshots / "billing-phone-admin-payments.png", full_page=True)

    # The failed and the overdue, from the admin home's figures.
    await page.goto("/admin")
    figure = page.get_by_test_id("figure-failed-payments")
    await expect(figure.locator(".stat-value")).to_have_text("1")
    await expect(page.get_by_test_id("figure-in-grace").locator(".stat-value")).to_have_text("1")
    await fits_the_phone(page, "the admin home")
    await figure.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(r"/admin/payments\?status=failed$"))
    await expect(page.locator("article.payment")).to_have_count(1)
    await expect(page.locator("article.payment")).to_contain_text(tenant_b.tenant.slug)
    await fits_the_phone(page, "the failed payments")
    await page.screenshot(path=screenshots / "billing-phone-admin-failed.png", full_page=True)
    await page.get_by_test_id("tab-overdue").click()
    await expect(page.get_by_test_id(f"overdue-shop-{tenant_b.id}")).to_be_visible()
    await fits_the_phone(page, "the overdue shops")
    await page.screenshot(path=screenshots / "billing-phone-admin-overdue.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()

    # On a desktop the decision sits on one row: confirm, the "why" box, "not received".
    context, page = await new_page(browser, server_url, phone=False)
    await sign_in(page, admin.email, "/admin/payments")
    card = page.locator("article.payment").filter(has_text="gamma-tea")
    why = await card.get_by_label("Why (the shop sees it)").bounding_box()
    confirm = await card.get_by_role("button", name="Confirm the payment").bounding_box()
    refuse = await card.get_by_role("button", name="Not received").bounding_box()
    assert why and confirm and refuse
    assert confirm["x"] < why["x"] < refuse["x"] and why["width"] >= 300, (confirm, why, refuse)
    await page.screenshot(path=screenshots / "billing-desktop-admin-payments.png", full_page=True)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()
