"""The QR kit in real Chromium on a 375 px phone: from the Channels page to the kit, the
previews drawn, a branch added, the receipt-printer PNG downloaded with the branch in its
QR; the same page in Traditional Chinese; nothing wider than the phone."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from urllib.parse import quote

import pluggy
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, expect

from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import plugin_settings as ps
from tests.e2e.test_console_e2e import new_page, no_sideways_scroll, sign_in
from tests.fixtures import World

pytestmark = pytest.mark.e2e


async def test_the_kit_on_a_phone_with_a_branch(
    live_server: str,
    browser: Browser,
    tenant_a: World,
    plugins: pluggy.PluginManager,
    screenshots: Path,
) -> None:
    shots = screenshots / "qrkit"
    shots.mkdir(parents=True, exist_ok=True)
    # The web chat has no secrets (the server's key differs from this process's).
    with tenant_context(tenant_a.id, Actor("system")):
        await ps.enable_plugin("webchat", plugins)
    context, page = await new_page(browser, live_server, phone=True)
    await sign_in(page, tenant_a.owner.email, "/console/channels")
    await page.get_by_test_id("channels-qrkit").click()
    await expect(page.get_by_test_id("qrkit-files")).to_be_visible()
    for name in ("counter-a5", "counter-a6", "stickers-a4", "receipt-58", "receipt-80"):
        preview = page.get_by_test_id(f"qrkit-preview-{name}")
        await preview.scroll_into_view_if_needed()
        # Made on request: the first takes a second or two (the font subset).
        await page.wait_for_function(
            "el => el.complete && el.naturalWidth > 0",
            arg=await preview.element_handle(),
            timeout=60_000,
        )
        await expect(preview).to_be_visible()
        box = await preview.bounding_box()
        assert box is not None and box["width"] <= 375, name
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "1-kit.png", full_page=True)

    await page.get_by_test_id("branch-code").fill("central")
    await page.get_by_test_id("branch-name-en").fill("Central")
    await page.get_by_test_id("branch-name-more").locator("summary").click()
    await page.get_by_test_id("branch-name-zh-Hant").fill("中環店")
    await page.get_by_test_id("branch-add-submit").click()
    await expect(page.locator(".flash-success")).to_be_visible()
    await expect(page.get_by_test_id("qrkit-branch")).to_have_value("central")
    await page.get_by_test_id("qrkit-channel").select_option("webchat")
    await page.get_by_test_id("qrkit-show").click()
    link = f"{live_server}/t/alpha-tea/chat?join=" + quote("alpha-tea#central", safe="")
    await expect(page.get_by_test_id("qrkit-link-webchat")).to_have_text(link)
    async with page.expect_download() as waiting:
        await page.get_by_test_id("qrkit-download-receipt-58").click()
    download = await waiting.value
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    image = Image.open(io.BytesIO(data))
    assert image.size[0] == 384 and image.mode == "1"
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [link]
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "2-branch.png", full_page=True)

    await page.goto("/lang/zh-Hant?next=/console/qr-kit")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    await expect(page.locator("h1")).to_have_text("二維碼套件")
    await expect(page.get_by_test_id("branch-central")).to_contain_text("中環店")
    assert await no_sideways_scroll(page)
    await page.screenshot(path=shots / "3-zh-hant.png", full_page=True)
    assert not page.problems  # type: ignore[attr-defined]
    await context.close()
