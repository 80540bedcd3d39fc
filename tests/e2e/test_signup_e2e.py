"""Sign up, verify the e-mail from the outbox, and invite staff, in real Chromium at 375 px."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_console_e2e import new_page, no_sideways_scroll, sign_in
from tests.fixtures import World

pytestmark = pytest.mark.e2e
VAR = Path(tempfile.mkdtemp(prefix="loyalchat-e2e-signup-"))


@pytest.fixture(scope="module")
def server(start_server: Callable[..., Any]) -> Iterator[str]:
    with start_server({"LOYALCHAT_VAR_DIR": str(VAR)}) as base_url:
        yield base_url


def mailed_link(to: str, contains: str, base_url: str) -> str:
    for path in sorted((VAR / "outbox").glob("*.eml"), reverse=True):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if str(message["To"]).lower() != to.lower():
            continue
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for link in re.findall(r"https?://\S+", text):
            if contains in link:
                assert link.startswith(base_url)
                return link[len(base_url) :]
    raise AssertionError(f"no mail to {to} with {contains}")


async def test_a_merchant_signs_up_on_a_phone_and_verifies_the_address(
    server: str, browser: Browser, clean_db: None, screenshots: Path
) -> None:
    context, page = await new_page(browser, server, phone=True)
    await page.goto("/login")
    await page.get_by_test_id("signup-link").click()
    await expect(page).to_have_url(re.compile(r"/signup$"))
    assert await no_sideways_scroll(page)
    await page.get_by_label("E-mail address").fill("owner@phone-shop.example")
    await page.get_by_label("Password").fill("a long enough passphrase")
    await page.get_by_label("Shop name").fill("Phone Shop")
    await page.get_by_label("Shop address").fill("Phone Shop")  # not a slug: an error
    await page.get_by_role("button", name="Create my shop").click()
    await expect(page.get_by_test_id("error-summary")).to_be_visible()
    await expect(page.locator("#f-slug")).to_have_attribute("aria-invalid", "true")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-signup-errors.png")
    page.problems.clear()  # type: ignore[attr-defined]  # the form's own 400, as designed
    await page.get_by_label("Password").fill("a long enough passphrase")
    await page.get_by_label("Shop address").fill("phone-shop")
    await page.get_by_role("button", name="Create my shop").click()
    await expect(page).to_have_url(re.compile(r"/onboarding"))

    link = mailed_link("owner@phone-shop.example", "/signup/verify?token=", server)
    await page.goto(link)
    await expect(page.get_by_test_id("verify-verified")).to_be_visible()
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-signup-verified.png")
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()


async def test_an_owner_invites_a_cashier_who_joins_on_a_phone(
    server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    context, page = await new_page(browser, server, phone=True)
    await sign_in(page, tenant_a.owner.email, "/console/staff")
    assert await no_sideways_scroll(page)
    form = page.get_by_test_id("invite-form")
    await form.get_by_label("E-mail address").fill("new.cashier@example.com")
    await form.get_by_label("Role").select_option("cashier")
    await form.get_by_role("button", name="Send invitation").click()
    await expect(page.get_by_test_id("invitations-table")).to_contain_text(
        "new.cashier@example.com"
    )
    assert await no_sideways_scroll(page)
    await page.screenshot(path=screenshots / "phone-staff-invited.png")
    await context.close()

    link = mailed_link("new.cashier@example.com", "/signup/invite?token=", server)
    context, page = await new_page(browser, server, phone=True)
    await page.goto(link)
    await expect(page.get_by_test_id("invitation")).to_be_visible()
    await page.get_by_label("Password", exact=True).fill("cashier passphrase 1")
    await page.get_by_label("Password again").fill("cashier passphrase 1")
    await page.get_by_role("button", name="Create my account and join").click()
    await expect(page).to_have_url(re.compile(r"/console$"))
    await expect(page.get_by_test_id("tenant-name")).to_have_text("Alpha-Tea")
    assert page.problems == []  # type: ignore[attr-defined]
    await context.close()
