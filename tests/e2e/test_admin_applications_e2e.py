"""The admin's application review in real Chromium: the business registration PDF drawn
by pdf.js under the app's CSP, a sample receipt zoomed, and a decision, on a 375 px phone
and on a desktop."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.async_api import Browser, expect

from loyalchat.settings import get_settings
from loyalchat.tenants import accounts
from loyalchat.tenants.tables import TenantStatus
from tests.e2e.test_console_e2e import new_page
from tests.fixtures import PASSWORD
from tests.test_admin_applications import applicant

pytestmark = pytest.mark.e2e


def registration_pdf() -> bytes:
    pdf = FPDF()
    for page in (1, 2):
        pdf.add_page()
        pdf.set_font("helvetica", size=20)
        pdf.cell(0, 20, f"BUSINESS REGISTRATION CERTIFICATE - page {page}")
    return bytes(pdf.output())


def receipt_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 500), "white")
    ImageDraw.Draw(image).text((20, 20), "HK NOODLES\nTOTAL 42.00", fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("review-var")


@pytest.fixture(scope="module")
def review_server(start_server, var_dir: Path) -> Iterator[str]:
    with start_server({"LOYALCHAT_VAR_DIR": str(var_dir)}) as base_url:
        yield base_url


@pytest.fixture
def shared_media(var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test process stores media where the server reads it."""
    monkeypatch.setenv("LOYALCHAT_VAR_DIR", str(var_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
async def test_review_in_the_browser(
    browser: Browser,
    review_server: str,
    shared_media: None,
    admin: accounts.StaffInfo,
    screenshots: Path,
    phone: bool,
) -> None:
    shop = await applicant("hk-noodles", pdf=registration_pdf(), photo=receipt_png())
    context, page = await new_page(browser, review_server, phone=phone)
    try:
        await page.goto("/login")
        await page.fill("input[name=email]", admin.email)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        device = "phone" if phone else "desktop"
        await page.goto("/admin")
        await expect(page.get_by_test_id("figure-waiting")).to_contain_text("1")
        await page.screenshot(path=str(screenshots / f"admin-home-{device}.png"), full_page=True)
        await page.goto("/admin/applications")
        await page.screenshot(path=str(screenshots / f"admin-queue-{device}.png"), full_page=True)
        await page.click(f"a[href='/admin/applications/{shop.id}']")
        viewer = page.get_by_test_id("pdf-viewer")
        await expect(viewer).to_have_attribute("data-rendered", "1", timeout=20_000)
        await expect(viewer.locator("[data-pdf=page]")).to_have_text("1 / 2")
        await viewer.locator("[data-pdf=next]").click()
        await expect(viewer).to_have_attribute("data-rendered", "2")
        size = await page.get_by_test_id("pdf-canvas").evaluate("c => [c.width, c.height]")
        assert size[0] > 100 and size[1] > 100
        sample = page.get_by_test_id("sample").locator(".zoomable").first
        await sample.click()
        await expect(sample).to_have_attribute("aria-pressed", "true")
        await page.screenshot(
            path=str(screenshots / f"admin-application-{device}.png"),
            full_page=True,
        )
        await page.fill("#f-reject", "The certificate's number is 99999999.")
        await page.get_by_test_id("reject").click()
        await expect(page.locator(".flash-success")).to_contain_text("rejected")
        assert page.problems == []  # type: ignore[attr-defined]
    finally:
        await context.close()
    from loyalchat.tenants import service as tenant_service

    tenant = await tenant_service.get_tenant(shop.id)
    assert tenant is not None and tenant.status == TenantStatus.rejected
