"""A customer's receipt in real Chromium on a 375 px phone, through the whole pipeline.

The customer opens the shop's web chat from the join link its QR carries (the link the
web chat channel gives the QR kit), joins, and sends a photo of a receipt from the photo
button: the real server stores it, the built-in ``receipts`` plugin makes it a receipt, the
server's embedded worker (no Redis in e2e) reads it with the real OCR engine (rapidocr),
checks it and credits it, and the bot's reply with the points and the new balance reaches
the page through its polling. The same photo sent again is refused as already used, with
the date; another shop's receipt is refused as another shop's. Screenshots of each step.

The replies are compared with the pipeline's own texts in the member's language
(``loyalchat.receipts.replies``), so the test holds as the translations are filled in.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pluggy
import pytest
from playwright.async_api import Browser, Page, expect

from loyalchat import i18n
from loyalchat.commands.demo_receipts import DEMO_PROFILE
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation
from loyalchat.extensions.channels import get_channels
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.qrkit import kit
from loyalchat.receipts import replies
from loyalchat.receipts.checks.texts import REASONS
from loyalchat.receipts.settings import get_receipt_settings, save_receipt_settings
from loyalchat.receipts.tables import Receipt, ReceiptStatus
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import scoped_select
from loyalchat.tenants import plugin_access, plugin_settings
from loyalchat.tenants.service import current_tenant
from loyalchat.tenants.tables import Tenant
from loyalchat.tools.demo_receipt import draw_demo_receipt
from tests.e2e.test_console_e2e import new_page, no_sideways_scroll
from tests.fixtures import World

pytestmark = pytest.mark.e2e

SHOP = "Demo Café 示範咖啡"
ZONE = ZoneInfo("Asia/Hong_Kong")
LOCALE = "zh-Hant"  # a Hong Kong phone (zh-HK): the chat and the bot speak Traditional Chinese
ANSWER = 20_000  # ms: the bot's answer to a typed message (queue + the page's polling)
# ms: a photo is uploaded, read by the real OCR engine and checked on a 2-core machine that
# others share; generous, and no assertion on how long it took.
RECEIPT_REPLY = 120_000
OWNER = Actor("system")


async def _shop(world: World, pm: pluggy.PluginManager) -> None:
    """The demo shop's set-up: its name, web chat on, a point a dollar, and the demo's
    receipt profile (the names its till prints, HK dollars, Hong Kong time)."""
    await Tenant.update({Tenant.display_name: SHOP, Tenant.locale: LOCALE}).where(
        Tenant.id == world.id
    )
    with tenant_context(world.id, OWNER):
        await plugin_settings.enable_plugin("webchat", pm)
        assert await plugin_access.is_enabled("receipts", pm)  # on by default
        await rules.create_rule(
            RuleCreate(name="A point a dollar", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        settings = await get_receipt_settings()
        await save_receipt_settings(replace(settings, profile=DEMO_PROFILE))


async def _join_path(world: World, pm: pluggy.PluginManager) -> str:
    """The web chat's join link as the QR kit prints it, as a path on the e2e server."""
    with tenant_context(world.id, OWNER):
        tenant = await current_tenant()
        [link] = await kit.channel_links(tenant, [get_channels(pm)["webchat"]], None)
    assert link.link, link.error
    parts = urlsplit(link.link)
    assert parts.path == f"/t/{world.tenant.slug}/chat" and parts.query.startswith("join="), link
    return f"{parts.path}?{parts.query}"


def _hk_today() -> date:
    return datetime.now(ZONE).date()


def _said(message: str, **variables: object) -> str:
    return i18n.say(LOCALE, message, **variables)


def _shop_says(page: Page, text: str):
    return page.locator(".c-out").filter(has_text=text)


async def _send_photo(page: Page, name: str, data: bytes) -> None:
    """Tap the photo button and pick ``data``; wait for it in the chat as stored."""
    mine = page.locator('.c-in img[src*="/chat/media/"]')
    before = await mine.count()
    await page.get_by_test_id("chat-photo").set_input_files(
        {"name": name, "mimeType": "image/jpeg", "buffer": data}
    )
    await expect(mine).to_have_count(before + 1, timeout=ANSWER)


async def _receipts(world: World, member_id: int) -> list[dict]:
    with tenant_context(world.id, OWNER):
        return await (
            scoped_select(
                Receipt,
                Receipt.id,
                Receipt.status,
                Receipt.reasons,
                Receipt.points,
                Receipt.entry,
                Receipt.total,
                Receipt.decided_at,
            )
            .where(Receipt.member == member_id)
            .order_by(Receipt.id)
        )


async def _ledger(world: World, member_id: int) -> tuple[list[dict], int]:
    with tenant_context(world.id, OWNER):
        entries = await scoped_select(
            LedgerEntry, LedgerEntry.id, LedgerEntry.points, LedgerEntry.idempotency_key
        ).where(LedgerEntry.member == member_id)
        member = await scoped_select(Member, Member.points).where(Member.id == member_id).first()
    return entries, member["points"]


async def test_a_customer_sends_a_receipt_photo_from_the_web_chat_and_gets_points(
    live_server: str,
    browser: Browser,
    tenant_a: World,
    plugins: pluggy.PluginManager,
    screenshots: Path,
) -> None:
    await _shop(tenant_a, plugins)
    join = await _join_path(tenant_a, plugins)
    shots = screenshots / "receipt-chat"
    shots.mkdir(parents=True, exist_ok=True)
    today = _hk_today()
    photo = draw_demo_receipt(Decimal("123.40"), today, receipt_no="E2E-0001")

    context, page = await new_page(browser, live_server, phone=True, locale="zh-HK")
    problems: list[str] = page.problems  # type: ignore[attr-defined]
    try:
        # The phone scanned the join QR. The server is another process: it sees the web
        # chat turned on within plugin_access.CACHE_SECONDS.
        for _ in range(int(plugin_access.CACHE_SECONDS * 4) + 4):
            opened = await page.goto(join)
            if opened is not None and opened.status == 200:
                break
            await asyncio.sleep(0.5)
        problems.clear()  # the 404s of the pages that came before it
        await expect(page.get_by_test_id("chat-shop")).to_have_text(SHOP)
        await expect(page.get_by_test_id("chat-text")).to_have_value(f"JOIN {tenant_a.tenant.slug}")

        # Join: the prefilled JOIN sent as it is; the bot answers with a member number.
        await page.get_by_test_id("chat-send").click()
        welcome = page.locator(".c-out").filter(has_text=re.compile(r"M\d{6}"))
        await expect(welcome.first).to_be_visible(timeout=ANSWER)
        member_no = re.search(r"M\d{6}", await welcome.first.inner_text()).group(0)
        with tenant_context(tenant_a.id, OWNER):
            member = (
                await scoped_select(Member, Member.id).where(Member.member_no == member_no).first()
            )
            conversation = (
                await scoped_select(Conversation, Conversation.locale)
                .where(Conversation.member == member["id"])
                .first()
            )
        member_id = member["id"]
        assert conversation["locale"] in ("", LOCALE), conversation
        await page.screenshot(path=shots / "1-joined.png")

        # 1. A photo of today's receipt, HK$123.40: read, checked and credited; the bot
        # says the points and the new balance.
        await _send_photo(page, "receipt.jpg", photo)
        credited = _said(replies.CREDITED, amount="HK$123.40", points="123", balance="123")
        reply = _shop_says(page, credited)
        await expect(reply).to_have_count(1, timeout=RECEIPT_REPLY)
        [first] = await _receipts(tenant_a, member_id)
        assert first["status"] == ReceiptStatus.credited.value, first
        assert (first["total"], first["points"]) == (Decimal("123.40"), 123), first
        entries, balance = await _ledger(tenant_a, member_id)
        # One entry, made by the receipt's credit (the ledger key names the receipt).
        assert [e["points"] for e in entries] == [123], entries
        assert f"receipt:{first['id']}" in entries[0]["idempotency_key"], entries
        assert first["entry"] == entries[0]["id"]
        assert balance == 123
        assert await no_sideways_scroll(page)
        await page.screenshot(path=shots / "2-points.png")

        # 2. The same photo again: refused as already used, with the day it was used.
        await _send_photo(page, "receipt.jpg", photo)
        used_on = first["decided_at"].astimezone(ZONE).date()
        duplicate = _said(
            replies.REJECTED,
            reason=_said(REASONS["duplicate"], date=replies.day(used_on, LOCALE)),
        )
        await expect(_shop_says(page, duplicate)).to_have_count(1, timeout=RECEIPT_REPLY)
        second = (await _receipts(tenant_a, member_id))[1]
        assert second["status"] == ReceiptStatus.rejected.value, second
        assert second["reasons"] in (["duplicate"], '["duplicate"]'), second
        assert (await _ledger(tenant_a, member_id))[1] == 123  # nothing more credited
        await page.screenshot(path=shots / "3-already-used.png")

        # 3. A receipt of another shop (a bakery's, today's): refused as another shop's.
        other = draw_demo_receipt(Decimal("88.00"), today, shop="other", receipt_no="B-7788")
        await _send_photo(page, "bakery.jpg", other)
        foreign = _said(replies.REJECTED, reason=_said(REASONS["other_shop"]))
        await expect(_shop_says(page, foreign)).to_have_count(1, timeout=RECEIPT_REPLY)
        third = (await _receipts(tenant_a, member_id))[2]
        assert third["status"] == ReceiptStatus.rejected.value, third
        entries, balance = await _ledger(tenant_a, member_id)
        assert (len(entries), balance) == (1, 123)
        assert await no_sideways_scroll(page)
        await page.screenshot(path=shots / "4-other-shop.png", full_page=True)

        # The whole conversation after a reload (the device cookie keeps it).
        await page.reload()
        await expect(_shop_says(page, credited)).to_have_count(1, timeout=ANSWER)
        await expect(page.locator('.c-in img[src*="/chat/media/"]')).to_have_count(3)
        assert problems == [], problems
    finally:
        await context.close()
