"""The onboarding e2e tests' parts: the files a merchant uploads (a business registration
PDF made with fpdf2, a bank-transfer slip, receipt photos from the demo receipt tool), the
mails the server wrote to its embedded outbox, a plan to pick, and the browser steps of the
merchant (sign-up, wizard) and of the platform admin (payments, review)."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.test_console_e2e import new_page, no_sideways_scroll
from tests.fixtures import PASSWORD

MAIL_TIMEOUT = 20.0  # seconds: a mail goes out on the request, or soon after on the worker
_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Server:
    """A real loyalchat server and the folder it keeps its files (and its outbox) in."""

    url: str
    var_dir: Path


@dataclass(frozen=True)
class Shop:
    """What a newcomer types while signing up and applying."""

    email: str
    password: str
    name: str
    slug: str
    legal_name_en: str
    legal_name_zh: str
    br_number: str  # Hong Kong business registration number, 8 digits
    phone: str
    address: str


def shop_for(tag: str) -> Shop:
    """A distinct shop per test (``tag``: a short lowercase word)."""
    digits = {"phone": "41", "desk": "52", "fix": "63", "card": "74"}.get(tag, "85")
    return Shop(
        email=f"owner@{tag}-cafe.test",
        password="sign-up horse battery",
        name=f"Harbour Café {tag.title()}",
        slug=f"harbour-{tag}",
        legal_name_en=f"HARBOUR CAFE {tag.upper()} LIMITED",
        legal_name_zh="海港咖啡有限公司",
        br_number=f"{digits}345678",
        phone="+852 2123 4567",
        address="28 Stanley Street, Central, Hong Kong",
    )


# --- the outbox -------------------------------------------------------------------------


def mails_to(var_dir: Path, address: str) -> list[EmailMessage]:
    """Every mail the server wrote to ``<var_dir>/outbox/`` for ``address``, oldest first."""
    folder = var_dir / "outbox"
    found: list[EmailMessage] = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        if address.lower() in str(message["To"] or "").lower():
            found.append(message)  # type: ignore[arg-type]
    return found


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def links_in(message: EmailMessage, base_url: str) -> list[str]:
    return [link for link in _LINK.findall(text_of(message)) if link.startswith(base_url)]


async def wait_for_mail(server: Server, address: str, *, after: int = 0) -> EmailMessage:
    """The first mail to ``address`` past the ``after`` already seen: it is written to the
    outbox by the request or, soon after, by the in-process worker."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while True:
        mails = mails_to(server.var_dir, address)
        if len(mails) > after:
            return mails[after]
        if time.monotonic() > deadline:
            seen = [str(m["Subject"]) for m in mails]
            raise AssertionError(f"no new mail to {address} in {MAIL_TIMEOUT} s (seen: {seen})")
        await asyncio.sleep(0.1)  # polling a folder: there is no element to wait on


async def wait_for_link(server: Server, address: str, *, after: int = 0) -> str:
    """The first link back to the server in the next mail to ``address``."""
    message = await wait_for_mail(server, address, after=after)
    links = links_in(message, server.url)
    assert links, f"no link to {server.url} in {message['Subject']!r}:\n{text_of(message)}"
    return links[0]


# --- files a merchant uploads -------------------------------------------------------------


def registration_pdf(folder: Path, shop: Shop) -> Path:
    """A one-page business registration certificate, printed big enough for the OCR."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(0, 16, "BUSINESS REGISTRATION CERTIFICATE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=16)
    for line in (
        "Inland Revenue Department, Hong Kong",
        f"Name of Business: {shop.legal_name_en}",
        f"Certificate No.: {shop.br_number}",
        f"Address: {shop.address}",
        f"Date of Commencement: {date(2024, 3, 1):%d/%m/%Y}",
    ):
        pdf.cell(0, 14, line, new_x="LMARGIN", new_y="NEXT")
    path = folder / f"br-{shop.slug}.pdf"
    pdf.output(str(path))
    return path


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def payment_slip(folder: Path, shop: Shop, amount: Decimal, reference: str) -> Path:
    """A PNG of a bank's FPS transfer confirmation."""
    picture = Image.new("RGB", (720, 480), "white")
    draw = ImageDraw.Draw(picture)
    font = _font(28)
    lines = (
        "FPS Transfer Successful",
        f"From: {shop.legal_name_en}",
        "To: LOYALCHAT PLATFORM LTD",
        f"Amount: HKD {amount:.2f}",
        f"Reference: {reference}",
        f"Date: {date.today():%Y-%m-%d}",
    )
    for row, line in enumerate(lines):
        draw.text((32, 32 + row * 64), line, fill="black", font=font)
    path = folder / f"slip-{shop.slug}.png"
    picture.save(path, format="PNG")
    return path


def receipt_photo(folder: Path, name: str, total: str, photo_seed: int = 0) -> Path:
    """A photo of the demo café's receipt, from the demo receipt tool
    (``loyalchat demo receipt``): it prints 示範咖啡 and DEMO CAFE."""
    from loyalchat.tools.demo_receipt import draw_demo_receipt

    path = folder / name
    path.write_bytes(draw_demo_receipt(total, date.today(), photo_seed=photo_seed))
    return path


# --- the platform's side ------------------------------------------------------------------


async def make_plan(
    code: str = "starter", price: str = "298.00", stripe_price_id: str = ""
) -> object:
    """A plan the wizard offers (platform admins manage plans; the test makes one)."""
    from loyalchat.billing.service import PlanInput, create_plan

    return await create_plan(
        PlanInput(
            name=code.title(),
            code=code,
            monthly_price=Decimal(price),
            currency="HKD",
            limits={
                "members": 500,
                "receipts_per_month": 1000,
                "channels": 2,
                "staff_seats": 3,
                "broadcasts_per_month": 4,
            },
            trial_days=0,
            stripe_price_id=stripe_price_id,
            active=True,
        )
    )


# --- the browser: the merchant's and the admin's steps -------------------------------

SLIP_REFERENCE = "FPS-20261205-7731"


class Shots:
    """Numbered screenshots of one run: onboarding-<run>-<nn>-<step>.png."""

    def __init__(self, folder: Path, run: str) -> None:
        self.folder, self.run, self.count = folder, run, 0

    async def take(self, page: Page, step: str) -> None:
        self.count += 1
        name = f"onboarding-{self.run}-{self.count:02d}-{step}.png"
        await page.screenshot(path=self.folder / name, full_page=True)


# --- the merchant -----------------------------------------------------------------------


async def sign_up(page: Page, shop: Shop, shots: Shots) -> None:
    """/signup: one form; the new owner is signed in and sent to the application."""
    await page.goto("/signup")
    form = page.locator("form[method=post]")
    await expect(form).to_have_count(1)
    await page.get_by_label("E-mail address").fill(shop.email)
    await page.get_by_label("Password").fill(shop.password)
    await page.get_by_label("Shop name").fill(shop.name)
    await page.get_by_label("Shop address").fill(shop.slug)
    await shots.take(page, "signup")
    await page.get_by_role("button", name="Create my shop").click()
    await expect(page).to_have_url(re.compile(r"/onboarding$"))
    await expect(page.locator(".flash-success")).to_contain_text(shop.email)
    await expect(page.get_by_test_id("application-state")).to_have_attribute(
        "data-status", "applying"
    )
    await shots.take(page, "signed-up")


async def verify_email(page: Page, server: Server, shop: Shop, shots: Shots) -> None:
    """The link in the mail the outbox holds confirms the address."""
    link = await wait_for_link(server, shop.email)
    await page.goto(link)
    await expect(page.get_by_test_id("verify-verified")).to_be_visible()
    await shots.take(page, "email-verified")


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(re.compile(r"/login"))


async def business_details(page: Page, shop: Shop, shots: Shots) -> None:
    await page.goto("/onboarding/details")
    await page.get_by_label("Legal name in Chinese").fill(shop.legal_name_zh)
    await page.get_by_label("Legal name in English").fill(shop.legal_name_en)
    await page.get_by_label("Shop name in Chinese").fill("海港咖啡")
    await page.get_by_label("Shop name in English").fill(shop.name)
    await page.get_by_test_id("region").select_option("HK")
    await page.get_by_label("Registration number").fill(shop.br_number)
    await page.get_by_label("Business address").fill(shop.address)
    await page.get_by_label("Phone").fill(shop.phone)
    await page.get_by_label("Industry").select_option(index=1)
    await page.get_by_label("Time zone").select_option("Asia/Hong_Kong")
    await shots.take(page, "details")
    await page.get_by_test_id("details-submit").click()
    await expect(page).to_have_url(re.compile(r"/onboarding/registration$"))
    await expect(page.get_by_test_id("step-1")).to_have_attribute("data-done", "yes")


async def registration_document(page: Page, pdf: Path, shots: Shots) -> None:
    await page.get_by_test_id("document-input").set_input_files(pdf)
    await page.get_by_test_id("document-submit").click()
    await expect(page.get_by_test_id("document-preview")).to_be_visible(timeout=60_000)
    await expect(page.get_by_test_id("step-2")).to_have_attribute("data-done", "yes")
    await shots.take(page, "registration")
    await page.get_by_role("link", name="Next: plan and payment").click()


async def plan_and_manual_payment(page: Page, slip: Path, shots: Shots) -> None:
    """Step 3 sends the owner to the billing page: a plan, bank transfer, the slip."""
    await expect(page.get_by_test_id("payment-state")).to_have_attribute("data-state", "none")
    await page.get_by_test_id("billing-link").click()
    await expect(page).to_have_url(re.compile(r"/console/billing"))
    await page.get_by_test_id("plan-starter").locator("input").check()
    await page.get_by_label("How to pay").select_option("manual")
    await shots.take(page, "plan")
    await page.get_by_test_id("choose-button").click()
    await expect(page.get_by_test_id("payment-reference")).to_be_visible()
    await page.get_by_label("Reference on your transfer").fill(SLIP_REFERENCE)
    await page.get_by_label(re.compile("Transfer slip")).set_input_files(slip)
    await page.get_by_test_id("slip-button").click()
    await expect(page.get_by_test_id("slip-uploaded")).to_contain_text(SLIP_REFERENCE)
    await shots.take(page, "slip-sent")
    await page.goto("/onboarding/plan")
    await expect(page.get_by_test_id("payment-state")).to_have_attribute("data-state", "pending")


async def receipt_samples(page: Page, photos: list[Path], shots: Shots) -> None:
    """Step 4: photos read by the engine, the proposed names confirmed, the POS named."""
    await page.goto("/onboarding/receipts")
    await page.get_by_test_id("samples-input").set_input_files(photos)
    await page.get_by_label("Your POS system").select_option("handwritten")
    await page.get_by_test_id("samples-submit").click()
    await expect(page.get_by_test_id("samples-read")).to_be_visible(timeout=90_000)
    await expect(page.get_by_test_id("sample")).to_have_count(len(photos))
    names = page.get_by_test_id("names")
    await expect(names).to_have_value(re.compile("DEMO CAFE|示範咖啡"))
    await page.get_by_test_id("pos-system").select_option("handwritten")
    await shots.take(page, "samples")
    await page.get_by_test_id("names-submit").click()
    await expect(page).to_have_url(re.compile(r"/onboarding/channels$"))


async def channels_and_submit(page: Page, shots: Shots) -> None:
    await page.get_by_test_id("channel-webchat").check()
    await shots.take(page, "channels")
    await page.get_by_test_id("channels-submit").click()
    await expect(page).to_have_url(re.compile(r"/onboarding$"))
    await expect(page.get_by_test_id("missing-steps")).to_have_count(0)
    await shots.take(page, "ready")
    await page.get_by_test_id("submit-button").click()
    await expect(page.get_by_test_id("application-state")).to_have_attribute(
        "data-status", "pending_review"
    )
    await expect(page.get_by_test_id("state-pending")).to_be_visible()
    await shots.take(page, "submitted")


async def apply(page: Page, shop: Shop, tmp: Path, shots: Shots, seed: int) -> None:
    """The whole wizard, from a signed-in owner to a submitted application."""
    await business_details(page, shop, shots)
    await registration_document(page, registration_pdf(tmp, shop), shots)
    slip = payment_slip(tmp, shop, Decimal("298.00"), SLIP_REFERENCE)
    await plan_and_manual_payment(page, slip, shots)
    photos = [receipt_photo(tmp, f"sample-{seed}.jpg", "88.00", photo_seed=seed)]
    await receipt_samples(page, photos, shots)
    await channels_and_submit(page, shots)


# --- the platform admin -----------------------------------------------------------------


async def admin_page(browser: Browser, server: Server, phone: bool) -> tuple[BrowserContext, Page]:
    context, page = await new_page(browser, server.url, phone=phone)
    await sign_in(page, "admin@platform.test", PASSWORD)
    return context, page


async def confirm_payment(page: Page, shop: Shop, shots: Shots) -> None:
    """/admin/payments: the slip and the typed reference, confirmed (after the prompt)."""
    await page.goto("/admin/payments")
    card = page.locator("article.payment").filter(has_text=shop.slug)
    await expect(card.get_by_test_id("typed-reference")).to_have_text(SLIP_REFERENCE)
    slip = card.get_by_test_id("slip-image")
    await slip.scroll_into_view_if_needed()
    await expect(slip).to_have_js_property("complete", True)
    assert await slip.evaluate("img => img.naturalWidth") > 0
    await shots.take(page, "admin-payments")
    page.once("dialog", lambda dialog: dialog.accept())
    await card.get_by_role("button", name="Confirm the payment").click()
    await expect(page.locator(".flash-success")).to_be_visible()
    await expect(card).to_have_count(0)


async def open_application(page: Page, shop: Shop, shots: Shots, step: str) -> None:
    await page.goto("/admin/applications")
    row = page.get_by_test_id("application-row").filter(has_text=shop.slug)
    await expect(row).to_be_visible()
    await shots.take(page, f"{step}-queue")
    await row.get_by_role("link", name=shop.name).click()
    await expect(page.get_by_test_id("review-actions")).to_be_visible()
    await expect(page.get_by_test_id("business-details")).to_contain_text(shop.br_number)


async def approve(page: Page, shots: Shots) -> None:
    await page.get_by_test_id("approve").click()
    await expect(page.get_by_test_id("decision")).to_contain_text("Approved")
    await shots.take(page, "admin-approved")


async def lands_in_an_active_console(page: Page, shots: Shots) -> None:
    await page.goto("/console")
    await expect(page).to_have_url(re.compile(r"/console$"))
    await expect(page.get_by_test_id("checklist")).to_be_visible()
    await expect(page.get_by_test_id("tenant-status-banner")).to_have_count(0)
    assert await no_sideways_scroll(page)
    await shots.take(page, "console-active")
