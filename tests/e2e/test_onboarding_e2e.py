"""A merchant's way in, in Chromium, at 375 px and on a desktop: sign up at /signup, confirm
the e-mail from the link in the embedded outbox, fill the application wizard (business
details, the business registration PDF, a plan paid by bank transfer with a slip, sample
receipts from the demo receipt tool, channels), submit; a platform admin confirms the
payment and approves; the owner lands in an active console with its checklist. A rejected
application is fixed and resubmitted and comes back to the admin with its history. A card
plan is paid on (a fake of) Stripe Checkout, whose signed webhooks mark it paid.
Screenshots of each step under test-artifacts/screenshots/onboarding-*.png.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.onboarding_helpers import (
    Server,
    Shots,
    admin_page,
    apply,
    approve,
    business_details,
    channels_and_submit,
    confirm_payment,
    lands_in_an_active_console,
    make_plan,
    open_application,
    receipt_photo,
    receipt_samples,
    registration_document,
    registration_pdf,
    shop_for,
    sign_up,
    text_of,
    verify_email,
    wait_for_mail,
)
from tests.e2e.test_console_e2e import new_page, no_sideways_scroll
from tests.fakes.stripe_api import PRICE, FakeStripeApi

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripeApi]:
    fake = FakeStripeApi().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def server(
    start_server, tmp_path_factory: pytest.TempPathFactory, fake_stripe: FakeStripeApi
) -> Iterator[Server]:
    """A server of this module's own: the test knows where its outbox is, and its Stripe
    is the fake (whose payment page sends the signed events to the server)."""
    var_dir = tmp_path_factory.mktemp("onboarding-var")
    settings = {
        "LOYALCHAT_VAR_DIR": str(var_dir),
        "LOYALCHAT_SMTP_URL": "",
        "LOYALCHAT_STRIPE_SECRET_KEY": fake_stripe.secret_key,
        "LOYALCHAT_STRIPE_WEBHOOK_SECRET": fake_stripe.webhook_secret,
        "LOYALCHAT_STRIPE_API_BASE": fake_stripe.base_url,
    }
    with start_server(settings) as url:
        fake_stripe.webhook_url = f"{url}/hooks/stripe"
        yield Server(url, var_dir)


# --- the journeys -----------------------------------------------------------------------


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
async def test_a_newcomer_signs_up_pays_by_transfer_and_is_approved(
    server: Server,
    browser: Browser,
    admin: object,
    screenshots: Path,
    tmp_path: Path,
    phone: bool,
) -> None:
    await make_plan()
    device = "phone" if phone else "desktop"
    shop = shop_for(device[:5])
    shots = Shots(screenshots, device)
    context, page = await new_page(browser, server.url, phone=phone)
    await sign_up(page, shop, shots)
    await verify_email(page, server, shop, shots)
    await apply(page, shop, tmp_path, shots, seed=1 if phone else 2)
    assert await no_sideways_scroll(page)

    admin_context, desk = await admin_page(browser, server, phone)
    await confirm_payment(desk, shop, shots)
    await open_application(desk, shop, shots, "admin")
    await expect(desk.get_by_test_id("payment-state")).to_contain_text("Paid")
    await approve(desk, shots)
    assert desk.problems == []  # type: ignore[attr-defined]
    await admin_context.close()

    welcome = await wait_for_mail(server, shop.email, after=1)
    assert shop.name in str(welcome["Subject"]) or shop.name in text_of(welcome)
    await lands_in_an_active_console(page, shots)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_a_rejected_application_is_fixed_and_resubmitted(
    server: Server, browser: Browser, admin: object, screenshots: Path, tmp_path: Path
) -> None:
    """The legal name typed differs from the certificate: the admin sees the mismatch and
    rejects with a reason; the owner reads it, fixes the name and submits again; the
    application is back in the queue with its history."""
    reason = "The English legal name differs from the business registration certificate."
    shop = shop_for("fix")
    typo = dataclasses.replace(shop, legal_name_en="HARBOR KAFE TRADING COMPANY")
    shots = Shots(screenshots, "rejected")
    context, page = await new_page(browser, server.url, phone=True)
    await sign_up(page, shop, shots)
    await verify_email(page, server, shop, shots)
    await business_details(page, typo, shots)
    await registration_document(page, registration_pdf(tmp_path, shop), shots)
    photos = [receipt_photo(tmp_path, "sample.jpg", "64.00", photo_seed=3)]
    await receipt_samples(page, photos, shots)
    await channels_and_submit(page, shots)

    admin_context, desk = await admin_page(browser, server, phone=False)
    await open_application(desk, shop, shots, "admin")
    await expect(desk.get_by_test_id("check-name")).to_have_attribute("data-result", "mismatch")
    await desk.get_by_label("Reject: the reason").fill(reason)
    await desk.get_by_test_id("reject").click()
    await expect(desk.get_by_test_id("decision")).to_contain_text("Rejected")
    await shots.take(desk, "admin-rejected")

    rejection = await wait_for_mail(server, shop.email, after=1)
    assert reason in text_of(rejection)
    await page.goto("/onboarding")
    await expect(page.get_by_test_id("application-state")).to_have_attribute(
        "data-status", "rejected"
    )
    await expect(page.get_by_test_id("decision-reason")).to_contain_text(reason)
    await shots.take(page, "owner-sees-reason")
    await page.goto("/onboarding/details")
    await page.get_by_label("Legal name in English").fill(shop.legal_name_en)
    await page.get_by_test_id("details-submit").click()
    await expect(page).to_have_url(re.compile(r"/onboarding/registration$"))
    await page.goto("/onboarding")
    await page.get_by_label("What did you change? (optional)").fill("Legal name as certified.")
    await page.get_by_test_id("submit-button").click()
    await expect(page.get_by_test_id("application-state")).to_have_attribute(
        "data-status", "pending_review"
    )
    history = page.get_by_test_id("history-event")
    await expect(history.and_(page.locator("[data-kind=rejected]"))).to_contain_text(reason)
    await expect(history.and_(page.locator("[data-kind=resubmitted]"))).to_have_count(1)
    await shots.take(page, "resubmitted")
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()

    await open_application(desk, shop, shots, "admin-again")
    await expect(desk.get_by_test_id("business-details")).to_contain_text(shop.legal_name_en)
    events = desk.get_by_test_id("history").locator("li")
    await expect(events.and_(desk.locator("[data-kind=rejected]"))).to_contain_text(reason)
    await expect(events.and_(desk.locator("[data-kind=resubmitted]"))).to_contain_text(
        "Legal name as certified."
    )
    await shots.take(desk, "admin-history")
    assert desk.problems == []  # type: ignore[attr-defined]
    await admin_context.close()


async def choose_a_card_plan(page: Page, code: str) -> None:
    await page.goto("/console/billing")
    await page.get_by_test_id(f"plan-{code}").locator("input").check()
    await page.get_by_label("How to pay").select_option("stripe")


async def test_a_newcomer_pays_by_card_with_stripe_checkout(
    server: Server,
    fake_stripe: FakeStripeApi,
    browser: Browser,
    admin: object,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    """The card way: the owner chooses the card plan, pays on (the fake) Stripe Checkout,
    whose Pay button sends the signed webhooks to /hooks/stripe and comes back; the
    application shows it paid and the admin approves without a manual confirmation."""
    await make_plan("card", "299.00", stripe_price_id=PRICE)
    shop = shop_for("card")
    shots = Shots(screenshots, "stripe")
    context, page = await new_page(browser, server.url, phone=False)
    await sign_up(page, shop, shots)
    await verify_email(page, server, shop, shots)
    await business_details(page, shop, shots)
    await registration_document(page, registration_pdf(tmp_path, shop), shots)
    await choose_a_card_plan(page, "card")
    await shots.take(page, "plan")
    await page.get_by_test_id("choose-button").click()
    # A page of ours moves on to Checkout (a form may post only to this site: CSP).
    await expect(page).to_have_url(re.compile(re.escape(fake_stripe.base_url) + "/c/pay/cs_"))
    await expect(page.get_by_role("heading", name="Pay 299.00 HKD")).to_be_visible()
    await shots.take(page, "checkout")
    await page.get_by_role("button", name="Pay").click()
    await expect(page).to_have_url(re.compile(re.escape(server.url) + "/console/billing"))
    # The fake's page is not ours: its /favicon.ico gets the fake API's 401.
    page.problems[:] = [p for p in page.problems if "401" not in p]  # type: ignore[attr-defined]
    await until_paid(page)
    await shots.take(page, "paid")
    await receipt_samples(page, [receipt_photo(tmp_path, "s.jpg", "42.00", photo_seed=4)], shots)
    await channels_and_submit(page, shots)

    admin_context, desk = await admin_page(browser, server, phone=False)
    await open_application(desk, shop, shots, "admin")
    await expect(desk.get_by_test_id("payment-state")).to_contain_text("Paid")
    await approve(desk, shots)
    await admin_context.close()
    await lands_in_an_active_console(page, shots)
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def until_paid(page: Page, within: float = 30.0) -> None:
    """The events are stored by the webhook and applied by the worker a moment later:
    reload the billing page until it says paid."""
    state = page.get_by_test_id("payment-state")
    deadline = time.monotonic() + within
    while await state.get_attribute("data-state") != "paid":
        assert time.monotonic() < deadline, "the card payment never showed as paid"
        await page.reload()
    await expect(state).to_have_attribute("data-state", "paid")
