"""The loyalty loop in real Chromium, on 375 px phones.

A cashier finds a member by phone number and adds a purchase (points by the earning
rule); the member opens their wallet link (from ``loyalchat wallet-link``) and redeems a
coupon with the confirm step; the cashier scans the coupon's QR code with the phone
camera (Chromium's fake camera plays a video of that QR code), marks it used, and a
second scan is told it was already used.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Grant
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import Rounding, RuleKind
from tests.e2e.conftest import CHROMIUM_ARGS, REPO
from tests.e2e.fake_camera import camera_args, qr_video
from tests.e2e.test_console_e2e import no_sideways_scroll, sign_in
from tests.fixtures import World

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
OWNER = Actor("staff", None, "e2e setup")
MEMBER_PHONE = "6123 4567"


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        yield driver


async def launch(playwright: Playwright, chromium: str, *extra: str) -> Browser:
    return await playwright.chromium.launch(
        executable_path=chromium, headless=True, args=[*CHROMIUM_ARGS, *extra]
    )


async def phone(browser: Browser, base_url: str, **options) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(
        base_url=base_url, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US", **options
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Every page of the context (the wallet, the till, the scanner): a CSP refusal is a bug.
    context.on("console", lambda msg: _csp_violation(msg.text, problems))
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


def _csp_violation(text: str, problems: list[str]) -> None:
    if "Content Security Policy" in text:
        problems.append(text)


async def wallet_link(base_url: str, member_no: str, slug: str) -> str:
    """The member's link, as support would print it: ``loyalchat wallet-link``."""
    env = {**os.environ, "LOYALCHAT_PUBLIC_BASE_URL": base_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loyalchat", "wallet-link", member_no, "--tenant", slug,
        env=env, cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


async def seed(world: World) -> tuple[str, int]:
    """One point per HK$1, a 200-point HK$20-off coupon, a member known by phone."""
    with tenant_context(world.id, OWNER):
        await rules.create_rule(
            RuleCreate(
                name="HK$1 = 1 point",
                kind=RuleKind.ratio,
                points_per_unit=Decimal(1),
                rounding=Rounding.down,
            )
        )
        reward = await rewards.create_reward(
            {
                "name": {"zh-Hant": "二十元優惠券", "en": "HK$20 off"},
                "points_cost": 200,
                "type": "coupon",
                "options": {"benefit": "HK$20 off", "terms": "One per bill"},
                "validity_days": 30,
                "stock": 10,
            }
        )
        member = await members.create_member(
            MemberCreate(name="Chan Siu Ming", phone=MEMBER_PHONE, locale="en")
        )
    return member.member_no, reward.id


async def test_purchase_redeem_in_wallet_and_scan_the_coupon(
    live_server: str,
    playwright: Playwright,
    chromium_path: str,
    tenant_a: World,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    member_no, reward_id = await seed(tenant_a)
    shots = screenshots / "loyalty"
    shots.mkdir(exist_ok=True)
    browser = await launch(playwright, chromium_path)

    # 1. The cashier finds the member by phone number and adds a HK$250.00 purchase.
    cashier_ctx, till = await phone(browser, live_server)
    await sign_in(till, tenant_a.cashier.email, "/console/members")
    await till.get_by_test_id("member-search").fill("61234567")
    await till.get_by_test_id("member-search-button").click()
    row = till.locator(f'[data-testid="member-row"][data-member-no="{member_no}"]')
    await expect(row).to_have_count(1)
    await expect(till.get_by_test_id("member-row")).to_have_count(1)
    assert await no_sideways_scroll(till)
    await till.screenshot(path=shots / "1-cashier-finds-member.png", full_page=True)
    await row.get_by_test_id("member-link").click()
    await expect(till.get_by_test_id("member-no")).to_have_text(member_no)
    await till.get_by_test_id("purchase-amount").fill("250.00")
    await till.get_by_test_id("purchase-reference").fill("POS-1001")
    await till.get_by_test_id("purchase-submit").click()
    await expect(till.get_by_test_id("purchase-result")).to_contain_text("+250")
    await expect(till.get_by_test_id("member-points")).to_have_text("250")
    await till.screenshot(path=shots / "2-cashier-purchase-added.png", full_page=True)

    # 2. The member opens the wallet link on their phone and redeems the coupon.
    link = await wallet_link(live_server, member_no, tenant_a.tenant.slug)
    assert link.startswith(f"{live_server}/w/")
    member_ctx, wallet = await phone(browser, live_server)
    await wallet.goto(link)
    await expect(wallet.get_by_test_id("wallet-member-no")).to_have_text(member_no)
    await expect(wallet.get_by_test_id("wallet-points")).to_have_text("250")
    assert await no_sideways_scroll(wallet)
    await wallet.screenshot(path=shots / "3-wallet-card.png", full_page=True)
    await wallet.get_by_test_id("tab-history").click()
    await expect(wallet.get_by_test_id("history-points")).to_have_text(["+250"])
    await wallet.get_by_test_id("tab-rewards").click()
    card = wallet.locator(f'[data-testid="reward-card"][data-reward-id="{reward_id}"]')
    await expect(card.get_by_test_id("reward-cost")).to_have_text("200 points")
    await wallet.screenshot(path=shots / "4-wallet-rewards.png", full_page=True)
    await card.get_by_test_id("reward-redeem").click()
    await expect(wallet.get_by_test_id("confirm-after")).to_have_text("50")
    await wallet.screenshot(path=shots / "5-wallet-confirm.png", full_page=True)
    await wallet.get_by_test_id("confirm-redeem").dblclick()  # a double tap redeems once
    await expect(wallet.get_by_test_id("redeemed")).to_be_visible()
    await expect(wallet.get_by_test_id("wallet-points")).to_have_text("50")
    qr = wallet.get_by_test_id("grant-qr").locator("svg")
    await expect(qr).to_be_visible()
    code = await wallet.get_by_test_id("grant").get_attribute("data-code")
    assert code and re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", code)
    assert await no_sideways_scroll(wallet)
    await wallet.screenshot(path=shots / "6-wallet-coupon.png", full_page=True)
    assert await Grant.count().where(Grant.tenant == tenant_a.id) == 1
    await wallet.get_by_test_id("tab-mine").click()
    await expect(wallet.get_by_test_id("grant-status")).to_have_text(["Ready to use"])
    assert wallet.problems == []  # type: ignore[attr-defined]

    # 3. The cashier scans the coupon with the phone camera: a video of its QR code.
    video = qr_video(f"LCG:{code}", tmp_path / "coupon-qr.y4m")
    camera = await launch(playwright, chromium_path, *camera_args(video))
    scan_ctx, scanner = await phone(camera, live_server, permissions=["camera"])
    await scan_coupon(scanner, tenant_a, code, shots)
    await scan_ctx.close()
    await camera.close()

    await wallet.reload()
    await expect(wallet.get_by_test_id("grant-status")).to_have_text(["Used"])
    await wallet.screenshot(path=shots / "9-wallet-coupon-used.png", full_page=True)
    # The member switches language: the choice is kept, reward names follow.
    for button, lang, name in (
        ("繁體中文", "zh-Hant", "二十元優惠券"),
        ("简体中文", "zh-Hans", "二十元优惠券"),
    ):
        await wallet.get_by_role("button", name=button).click()
        await expect(wallet.locator("html")).to_have_attribute("lang", lang)
        await expect(wallet.get_by_text(name).first).to_be_visible()
        assert await no_sideways_scroll(wallet)
        await wallet.screenshot(path=shots / f"10-wallet-{lang.lower()}.png", full_page=True)
    assert wallet.problems == []  # type: ignore[attr-defined]
    await member_ctx.close()
    await cashier_ctx.close()
    await browser.close()


async def scan(page: Page, code: str) -> None:
    """Open the coupon check and scan with the camera until the coupon shows."""
    await page.goto("/console/coupons")
    await page.get_by_test_id("scan-button").click()
    # The scanner reads the QR code from the video, fills in the code and submits.
    await expect(page).to_have_url(re.compile(rf"/console/coupons\?code={code}$"), timeout=30_000)
    await expect(page.get_by_test_id("grant-code")).to_have_text(f"{code[:4]}-{code[4:]}")


async def scan_coupon(page: Page, world: World, code: str, shots: Path) -> None:
    """Scan the coupon, mark it used; a second till that scanned it too is told it was used."""
    await sign_in(page, world.cashier.email, "/console/coupons")
    await expect(page.get_by_test_id("scan-button")).to_be_visible()
    await page.screenshot(path=shots / "7-cashier-coupon-check.png", full_page=True)
    await scan(page, code)
    panel = page.get_by_test_id("grant-panel")
    await expect(panel.get_by_test_id("grant-status")).to_have_attribute("data-status", "issued")
    await expect(panel.get_by_test_id("grant-member")).to_contain_text("Chan Siu Ming")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "7-cashier-coupon-scanned.png", full_page=True)

    # A second till scans the same coupon before the first one marks it used.
    other = await page.context.new_page()
    await scan(other, code)
    await expect(other.get_by_test_id("mark-used")).to_be_visible()

    await page.get_by_test_id("mark-used").click()
    result = page.get_by_test_id("coupon-result")
    await expect(result).to_have_attribute("data-result", "used")
    await expect(result).to_contain_text("HK$20 off")
    await expect(panel.get_by_test_id("grant-status")).to_have_attribute("data-status", "used")
    await page.screenshot(path=shots / "8-cashier-coupon-used.png", full_page=True)

    await other.get_by_test_id("mark-used").click()
    refused = other.get_by_test_id("coupon-result")
    await expect(refused).to_have_attribute("data-result", "already_used")
    await expect(refused).to_contain_text(re.compile("already used", re.I))
    await expect(other.get_by_test_id("grant-used")).to_be_visible()
    await other.screenshot(path=shots / "8-cashier-coupon-already-used.png", full_page=True)
    await other.close()

    # Scanning it again later shows it used, with nothing left to press.
    await scan(page, code)
    await expect(panel.get_by_test_id("grant-status")).to_have_attribute("data-status", "used")
    await expect(page.get_by_test_id("mark-used")).to_have_count(0)
    assert page.problems == []  # type: ignore[attr-defined]
