"""Shop texts in the reader's language, in real Chromium on a 375 px phone.

The demo programme (rules, rewards, coupons) is seeded for a shop; a member's wallet and
the owner's console are read in Traditional Chinese, Simplified Chinese and English. The
Chinese pages show none of the demo's English texts (a coupon's benefit and terms, reward
names and descriptions, rule names), and each language shows its own variant.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from loyalchat.commands.demo_loyalty import BASE_RULE, COFFEE, DISCOUNT, WEEKEND_RULE
from loyalchat.context import Actor, tenant_context
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberUpdate
from loyalchat.rewards import service as rewards
from loyalchat.rewards.tables import Reward
from loyalchat.scoping import scoped_update
from tests.e2e.test_console_e2e import no_sideways_scroll, sign_in
from tests.fixtures import World

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
OWNER = Actor("staff", None, "e2e setup")
LOCALES = ("zh-Hant", "zh-Hans", "en")
# The demo's texts a reader sees, by language.
SHOP_TEXTS = [
    COFFEE["name"],
    COFFEE["options"]["benefit"],
    COFFEE["options"]["terms"],
    DISCOUNT["name"],
    DISCOUNT["description"],
    DISCOUNT["options"]["benefit"],
    BASE_RULE,
    WEEKEND_RULE,
]
ENGLISH_ONLY = [texts["en"] for texts in SHOP_TEXTS if texts["en"] != texts["zh-Hant"]]


async def seed(world: World) -> tuple[str, str, int, str]:
    """The demo programme; the wallet path of its first member, their coupon's code, the
    coffee reward's id, and that member's number."""
    from loyalchat.commands.demo_loyalty import ensure_demo_programme

    with tenant_context(world.id, OWNER):
        await ensure_demo_programme()
        # The pictures went to this process's media store, not the server's: none shown.
        await scoped_update(Reward, {Reward.image: ""}).where(Reward.image != "")
        member = await members.get_member("M000001")
        [grant] = [g for g in await rewards.member_grants(member.id) if g.status == "issued"]
        coffee = next(r for r in (await rewards.list_rewards()).items if r.id == grant.reward_id)
    path = links.PATH_PREFIX + links.make_token(world.id, member.id)
    return path, grant.code, coffee.id, member.member_no


async def set_member_locale(world: World, member_no: str, locale: str) -> None:
    with tenant_context(world.id, OWNER):
        await members.update_member(member_no, MemberUpdate(locale=locale))


async def main_text(page: Page) -> str:
    return await page.locator("main").inner_text()


def check_language(text: str, locale: str, where: str) -> None:
    if locale != "en":
        leaked = [english for english in ENGLISH_ONLY if english in text]
        assert not leaked, f"{where} in {locale} shows English shop texts {leaked}:\n{text}"


async def test_demo_texts_in_the_readers_language_in_wallet_and_console(
    live_server: str, browser: Browser, tenant_a: World, screenshots: Path
) -> None:
    wallet_path, code, coffee_id, member_no = await seed(tenant_a)
    shots = screenshots / "shop_texts"
    shots.mkdir(exist_ok=True)
    context = await browser.new_context(
        base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        await sign_in(page, tenant_a.owner.email, "/console/rules")
        for locale in LOCALES:
            # The member's wallet, in the language the member chose.
            await set_member_locale(tenant_a, member_no, locale)
            await page.goto(wallet_path + "/rewards")
            catalogue = await main_text(page)
            check_language(catalogue, locale, "wallet catalogue")
            assert COFFEE["name"][locale] in catalogue
            assert DISCOUNT["name"][locale] in catalogue
            await page.screenshot(path=str(shots / f"wallet-rewards-{locale}.png"), full_page=True)
            await page.goto(wallet_path + "/mine")
            mine = await main_text(page)
            check_language(mine, locale, "wallet coupons")
            assert COFFEE["options"]["benefit"][locale] in mine
            assert COFFEE["options"]["terms"][locale] in mine
            assert await no_sideways_scroll(page)
            await page.screenshot(path=str(shots / f"wallet-mine-{locale}.png"), full_page=True)

            # The console in the same language: rules, rewards, a reward's form, the till.
            await page.goto(f"/lang/{locale}?next=/console/rules")
            await page.wait_for_url(re.compile(r"/console/rules$"))
            rules_page = await main_text(page)
            check_language(rules_page, locale, "console rules")
            assert WEEKEND_RULE[locale] in rules_page and BASE_RULE[locale] in rules_page
            await page.get_by_role("link", name=WEEKEND_RULE[locale]).click()
            await expect_value(page.get_by_test_id(f"rule-name-{locale}"), WEEKEND_RULE[locale])
            check_language(await main_text(page), locale, "console rule form")
            assert await no_sideways_scroll(page)
            await page.screenshot(path=str(shots / f"console-rule-form-{locale}.png"))
            await page.goto("/console/rewards")
            rewards_page = await main_text(page)
            check_language(rewards_page, locale, "console rewards")
            assert COFFEE["name"][locale] in rewards_page
            await page.goto(f"/console/rewards/{coffee_id}")
            form_page = await main_text(page)
            check_language(form_page, locale, "console reward form")
            # The form's language first; the other two behind "Other languages".
            first = page.get_by_test_id(f"reward-option-benefit-{locale}")
            await expect_value(first, COFFEE["options"]["benefit"][locale])
            assert await first.is_visible()
            others = [other for other in LOCALES if other != locale]
            hidden = page.get_by_test_id(f"reward-name-{others[0]}")
            assert not await hidden.is_visible()
            await page.get_by_test_id("reward-name-more").locator("summary").click()
            assert await hidden.is_visible()
            await expect_value(hidden, COFFEE["name"][others[0]])
            assert await no_sideways_scroll(page)
            await page.screenshot(path=str(shots / f"console-reward-form-{locale}.png"))
            await page.goto(f"/console/coupons?code={code}")
            check = await main_text(page)
            check_language(check, locale, "console coupon check")
            assert COFFEE["options"]["benefit"][locale] in check
            await page.screenshot(path=str(shots / f"console-coupon-{locale}.png"), full_page=True)
        assert not problems, problems
    finally:
        await context.close()


async def expect_value(locator, value: str) -> None:
    from playwright.async_api import expect

    await expect(locator).to_have_value(value)
