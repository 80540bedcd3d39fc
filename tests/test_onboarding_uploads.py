"""The wizard's uploads through the real app: hostile files refused with a clear message
and nothing stored; a real certificate read by the real OCR engine and cross-checked; the
whole application filled in, submitted, rejected, fixed and submitted again."""

from __future__ import annotations

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.onboarding import service as applications
from loyalchat.onboarding.tables import Application, ApplicationDocument
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.settings import get_settings
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus
from tests import onboarding_helpers as h
from tests.console_helpers import login, open_client, post_form
from tests.drawn_receipts import as_bytes, draw_receipt
from tests.test_onboarding_wizard import DETAILS, applying

DOC = "/onboarding/registration"


async def post_files(client, path: str, files: list, data: dict | None = None):
    token = client.cookies.get("lc_csrf", "")
    return await client.post(
        path, data={**(data or {}), "_csrf_token": token}, files=files, follow_redirects=False
    )


def stored_files(tenant_id: int) -> list[str]:
    folder = get_settings().media_dir / str(tenant_id)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


HOSTILE = [
    ("br.pdf", h.renamed_executable(), "application/pdf", "Upload a PDF, JPEG or PNG"),
    ("br.pdf", h.pdf_with_javascript(), "application/pdf", "contains scripts"),
    ("br.pdf", h.pdf_with_open_action_launch(), "application/pdf", "runs actions"),
    ("br.pdf", h.pdf_with_attachment(), "application/pdf", "other files inside"),
    ("br.png", h.png_bomb(), "image/png", "too many pixels"),
    ("br.txt", b"just some text", "text/plain", "Upload a PDF, JPEG or PNG"),
    ("br.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "application/pdf", "at most 10 MB"),
]


async def test_hostile_documents_are_refused_and_nothing_is_stored(clean_db: None) -> None:
    world = await applying()
    # The media folder outlives the database between tests (another test's shop had this
    # id): what counts is that these uploads add nothing to it.
    before = stored_files(world.id)
    async with open_client() as client:
        await login(client, world.owner.email)
        for name, data, content_type, message in HOSTILE:
            response = await post_files(client, DOC, [("document", (name, data, content_type))])
            assert response.status_code == 400, (name, message, response.status_code)
            assert 'data-testid="document-error"' in response.text
            assert message in response.text, (message, response.text[-1500:])
        nothing = await post_files(client, DOC, [("document", ("", b"", "application/pdf"))])
        assert nothing.status_code == 400 and "Choose the file" in nothing.text
        # Far past the body limit: refused by the server before the page reads it.
        huge = await post_files(
            client, DOC, [("document", ("big.pdf", b"%PDF-" + b"0" * (12 * 1024 * 1024), "x"))]
        )
        assert huge.status_code == 413
        bomb = await post_files(
            client,
            "/onboarding/receipts/samples",
            [("photos", ("r.png", h.png_bomb(), "image/png"))],
            {"pos_system": ""},
        )
        assert bomb.status_code == 400 and "Photo 1" in bomb.text
    assert await ApplicationDocument.count() == 0
    assert stored_files(world.id) == before


async def test_certificate_photo_is_read_and_a_mismatch_shown(clean_db: None) -> None:
    world = await applying()
    other = await applying("bravo-bakery")
    async with open_client() as client:
        await login(client, world.owner.email)
        details = {**DETAILS, "registration_number": "87654321"}  # not what the document says
        assert (await post_form(client, "/onboarding/details", details)).status_code == 303
        files = [("document", ("商業登記證.png", h.certificate_png(), "image/png"))]
        uploaded = await post_files(client, DOC, files)
        page = await client.get(DOC)
    assert uploaded.status_code == 303, uploaded.text[-1000:]
    assert 'data-testid="check-name" data-result="match"' in page.text, page.text[-3000:]
    assert 'data-testid="check-number" data-result="mismatch"' in page.text
    assert 'data-testid="mismatch-note"' in page.text
    assert "12345678" in page.text
    with tenant_context(world.id):
        [document] = await applications.current_documents(world.id)
    assert document.content_type == "image/png" and document.filename == "商業登記證.png"
    assert document.cross_check == {"name": "match", "number": "mismatch"}
    # The owner corrects the number: the check is worked out again, the reviewer sees it.
    async with open_client() as client:
        await login(client, world.owner.email)
        fixed = {**DETAILS, "registration_number": "12345678"}
        assert (await post_form(client, "/onboarding/details", fixed)).status_code == 303
        again = await client.get(DOC)
    assert 'data-testid="check-number" data-result="match"' in again.text
    with tenant_context(world.id):
        [document] = await applications.current_documents(world.id)
    assert document.cross_check == {"name": "match", "number": "match"}
    for email, expected in ((world.cashier.email, 200), (other.owner.email, 404)):
        async with open_client() as client:
            await login(client, email)
            preview = await client.get(f"/onboarding/media/{document.preview_key}")
            original = await client.get(f"/onboarding/media/{document.media_key}")
        assert preview.status_code == expected and original.status_code == expected
        if expected == 200:
            assert preview.headers["content-type"] == "image/png"


@pytest.mark.parametrize("region", ["HK"])
async def test_apply_submit_reject_fix_resubmit(clean_db: None, region: str) -> None:
    world = await applying()
    receipt = as_bytes(
        draw_receipt(("ALPHA TEA", "阿爾法茶室", "2026-11-22 12:30", "TOTAL HK$ 88.00"))
    )
    async with open_client() as client:
        await login(client, world.owner.email)
        early = await post_form(client, "/onboarding/submit", {})
        assert early.status_code == 303
        assert (await post_form(client, "/onboarding/details", DETAILS)).status_code == 303
        files = [("document", ("br.pdf", h.certificate_pdf(), "application/pdf"))]
        assert (await post_files(client, DOC, files)).status_code == 303
        read = await post_files(
            client,
            "/onboarding/receipts/samples",
            [("photos", ("r.png", receipt, "image/png"))],
            {"pos_system": "handwritten"},
        )
        assert read.status_code == 200, read.text[-1500:]
        assert 'data-testid="samples-read"' in read.text and 'data-testid="sample"' in read.text
        confirm = await post_form(
            client,
            "/onboarding/receipts",
            {"names": "ALPHA TEA\n阿爾法茶室\nALPHA TEA", "pos_system": "handwritten"},
        )
        assert confirm.status_code == 303, confirm.text[-1500:]
        channels = await post_form(client, "/onboarding/channels", {"channels": "whatsapp"})
        assert channels.status_code == 303
        ready = await client.get("/onboarding")
        assert 'data-testid="submit-button"' in ready.text
        submitted = await post_form(client, "/onboarding/submit", {})
        pending = await client.get("/onboarding")
    assert submitted.status_code == 303
    assert 'data-testid="state-pending"' in pending.text
    assert 'data-kind="submitted"' in pending.text
    with tenant_context(world.id):
        rules = await get_receipt_settings()
        [document] = await applications.current_documents(world.id, "business_registration")
    assert rules.profile.merchant_names == ("ALPHA TEA", "阿爾法茶室")
    assert rules.profile.pos_system == "handwritten"
    assert document.pages == 1 and document.cross_check == {"name": "match", "number": "match"}
    assert (await tenants.get_tenant(world.id)).status == "pending_review"

    # The platform admin rejects it (onboarding.review does this in the app).
    await tenants.set_status(world.id, TenantStatus.rejected, "blurry")
    await Application.update(
        {Application.decision: "rejected", Application.decision_reason: "Upload a sharper scan."}
    ).where(Application.tenant == world.id)
    with tenant_context(world.id, Actor("staff", 0, "admin@platform.test")):
        await applications.record_event(world.id, "rejected", note="Upload a sharper scan.")

    async with open_client() as client:
        await login(client, world.owner.email)
        rejected = await client.get("/onboarding")
        fixed = await post_form(
            client, "/onboarding/details", {**DETAILS, "address": "2 Queen's Road"}
        )
        again = await post_form(client, "/onboarding/submit", {"note": "New scan attached"})
        after = await client.get("/onboarding")
    assert 'data-testid="state-rejected"' in rejected.text
    assert "Upload a sharper scan." in rejected.text and "Submit again" in rejected.text
    assert fixed.status_code == 303 and again.status_code == 303
    assert (await tenants.get_tenant(world.id)).status == "pending_review"
    kinds = [e.kind for e in await _history(world.id)]
    assert kinds.index("submitted") < kinds.index("rejected") < kinds.index("resubmitted")
    assert 'data-kind="resubmitted"' in after.text and "New scan attached" in after.text


async def _history(tenant_id: int):
    with tenant_context(tenant_id):
        return await applications.history(tenant_id)
