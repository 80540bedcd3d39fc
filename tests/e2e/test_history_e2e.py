"""The demo member's history and the audit log read as sentences (issue 14), on 375 px.

In each of the three languages: the owner opens M000001 (the demo's member with
purchases and a redemption) in the console, the member opens their wallet history, and
the owner reads the audit log. Every history line says what happened (the purchase's
amount and receipt, the reward's name in the reader's language, the owner's adjustment
with its note) and no internal key (``purchase:...``, ``grant:...``) is visible; the
audit log reads "Demo Owner created the reward ..." and keeps sign-ins in their own tab.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from loyalchat.commands.demo import DEMO_MEMBER, DEMO_SLUG, ensure_demo
from loyalchat.context import Actor, tenant_context
from loyalchat.members import service as members
from loyalchat.purchases import service as purchases
from loyalchat.rewards import service as rewards
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenants
from tests.e2e.test_console_e2e import no_sideways_scroll
from tests.e2e.test_loyalty_e2e import wallet_link

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
CAKE = {"zh-Hant": "生日蛋糕", "zh-Hans": "生日蛋糕", "en": "Birthday cake"}
KEYS = re.compile(r"\b(purchase|grant|redeem|adjust|staff|reward):[\w-]")
# browser language -> (purchase, redeemed, adjusted, created, signed in, sign-ins tab)
EXPECTED = {
    "zh-HK": ("消費 HK$", "已兌換 免費咖啡", "由 Demo Owner 調整：生日禮物", "Demo Owner 建立了獎賞 生日蛋糕", "Demo Owner 登入了", "登入記錄"),
    "zh-CN": ("消费 HK$", "已兑换 免费咖啡", "由 Demo Owner 调整：生日禮物", "Demo Owner 创建了奖赏 生日蛋糕", "Demo Owner 登录了", "登录记录"),
    "en-US": ("Purchase HK$", "Redeemed Free coffee", "Adjusted by Demo Owner: 生日禮物", "Demo Owner created the reward Birthday cake", "Demo Owner signed in", "Sign-ins"),
}  # fmt: skip
WALLET_ADJUSTED = {
    "zh-HK": "店舖調整：生日禮物",
    "zh-CN": "店铺调整：生日禮物",
    "en-US": "Adjusted by the shop: 生日禮物",
}


async def _demo() -> tuple[dict[str, str], int]:
    """The demo, plus a birthday gift and a new reward by the owner; M000001's id."""
    credentials = await ensure_demo()
    tenant = await tenants.get_tenant_by_slug(DEMO_SLUG)
    owner = await accounts.get_user_by_email(credentials["owner_email"])
    assert tenant is not None and owner is not None
    with tenant_context(tenant.id, Actor("staff", owner.id, owner.email)):
        member = await members.get_member(DEMO_MEMBER)
        await purchases.adjust_points(member.id, 20, key="adjust:e2e-gift", reason="生日禮物")
        await rewards.create_reward(
            {"name": CAKE, "points_cost": 300, "type": "coupon", "options": {"benefit": "蛋糕"}}
        )
    return credentials, member.id


async def _sign_in(page: Page, credentials: dict[str, str], next_path: str) -> None:
    await page.goto(next_path)
    await page.locator("input[name=email]").fill(credentials["owner_email"])
    await page.locator("input[name=password]").fill(credentials["owner_password"])
    await page.locator("form:has(input[name=email]) button[type=submit]").click()
    await expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


@pytest.mark.parametrize("language", list(EXPECTED))
async def test_demo_history_and_audit_read_as_sentences(
    clean_db: None, live_server: str, browser: Browser, screenshots: Path, language: str
) -> None:
    credentials, member_id = await _demo()
    purchase, redeemed, adjusted, created, signed_in, signins_tab = EXPECTED[language]
    link = await wallet_link(live_server, DEMO_MEMBER, DEMO_SLUG)
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale=language
    )
    page = await context.new_page()
    try:
        # The console: the member's history.
        await _sign_in(page, credentials, f"/console/members/{member_id}")
        history = page.locator("#history")
        whats = await history.get_by_test_id("history-what").all_inner_texts()
        assert any(w.startswith(purchase) and "DEMO-M000001-" in w for w in whats), whats
        assert redeemed in whats and adjusted in whats, whats
        assert not KEYS.search(await history.inner_text())  # keys only behind "Details"
        assert await no_sideways_scroll(page)
        await history.scroll_into_view_if_needed()
        await page.screenshot(path=screenshots / f"history-console-{language}.png", full_page=True)

        # The audit log: sentences, sign-ins in their own tab.
        await page.goto("/console/audit")
        sentences = await page.locator(".log-sentence").all_inner_texts()
        assert created in sentences, sentences
        assert signed_in not in sentences
        assert not KEYS.search(await page.get_by_test_id("audit-list").inner_text())
        assert await no_sideways_scroll(page)
        await page.screenshot(path=screenshots / f"audit-{language}.png", full_page=True)
        await page.get_by_test_id("audit-tab-signins").click()
        await expect(page.get_by_test_id("audit-tab-signins")).to_have_text(signins_tab)
        await expect(page.locator(".log-sentence").first).to_have_text(signed_in)

        # The wallet: the member's own history, without staff names or keys.
        await page.goto(link + "/history")
        titles = await page.get_by_test_id("history-what").all_inner_texts()
        assert any(t.startswith(purchase) for t in titles), titles
        assert redeemed in titles and WALLET_ADJUSTED[language] in titles, titles
        body = await page.locator("body").inner_text()
        assert not KEYS.search(body) and "Demo Owner" not in body
        assert await no_sideways_scroll(page)
        await page.screenshot(path=screenshots / f"history-wallet-{language}.png", full_page=True)
    finally:
        await context.close()
