"""The platform admin's application review (issue 12): the queue, one application, the
decisions (approve / reject / ask for changes), the mails, and who may do any of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from loyalchat.billing import service as billing
from loyalchat.context import Actor, tenant_context
from loyalchat.media import store
from loyalchat.onboarding import service as onboarding
from loyalchat.onboarding.tables import Application, ApplicationEvent
from loyalchat.scoping import scoped_update
from loyalchat.settings import get_settings
from loyalchat.tenants import accounts
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import AuditLog, Role, TenantStatus
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import PASSWORD, World, make_world

BASE = "https://shops.example.org"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"
PHOTO = b"\xff\xd8\xff\xe0" + b"receipt-photo" * 10


@pytest.fixture(autouse=True)
def _embedded_mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LOYALCHAT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    monkeypatch.setenv("LOYALCHAT_PUBLIC_BASE_URL", BASE + "/")
    monkeypatch.setenv("LOYALCHAT_SECURE_COOKIES", "false")  # the test client speaks http
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def outbox() -> list:
    files = sorted((get_settings().var_dir / "outbox").glob("*.eml"))
    return [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]


async def applicant(
    slug: str,
    *,
    region: str = "HK",
    number: str = "12345678",
    submit: bool = True,
    pdf: bytes | None = None,
    photo: bytes | None = None,
) -> World:
    """A shop that filled the wizard (details, a BR document read by OCR with a mismatching
    number, one receipt sample) and, unless ``submit=False``, submitted it."""
    world = await make_world(slug, TenantStatus.applying)
    details = {
        "legal_name_zh": f"{slug} 有限公司",
        "legal_name_en": f"{slug.title()} Limited",
        "region": region,
        "registration_number": number,
        "address": "1 Queen's Road, Hong Kong",
        "phone": "+85223456789",
        "pos_system": "handwritten",
    }
    with tenant_context(world.id, Actor("staff", world.owner.id, world.owner.email)):
        await onboarding.update_application(world.id, details)
        pdf = pdf or PDF + slug.encode()
        pdf_key = await store.save(pdf, kind="business_registration")
        await onboarding.add_document(
            world.id,
            "business_registration",
            media_key=pdf_key,
            filename="br.pdf",
            content_type="application/pdf",
            size=len(pdf),
            pages=1,
            ocr_text=f"BUSINESS REGISTRATION CERTIFICATE {slug} 99999999",
            ocr_name=f"{slug} 有限公司",
            ocr_number="99999999",
            cross_check={"name": "match", "number": "mismatch"},
        )
        photo = photo or PHOTO + slug.encode()
        photo_key = await store.save(photo, kind="receipt_sample")
        await onboarding.add_document(
            world.id,
            "receipt_sample",
            media_key=photo_key,
            filename="r.jpg",
            content_type=store.media_type_of(photo),
            size=len(photo),
            ocr_text="TOTAL 42.00",
        )
        if submit:
            await onboarding.submit(world.id)
    return world


async def paid(world: World, admin: accounts.StaffInfo) -> None:
    """The shop chose a plan, paid by bank transfer, and an admin confirmed the transfer."""
    await billing.create_plan(
        billing.PlanInput(code="basic", name="Basic", monthly_price="199.00", currency="HKD")
    )
    await billing.choose_plan(world.id, "basic", "manual")
    payment = (await billing.list_payments(world.id))[0]
    actor = Actor("staff", admin.id, admin.email)
    assert await billing.confirm_manual_payment(payment.id, actor=actor)
    assert await billing.payment_state(world.id) == "paid"


async def status_of(world: World) -> str:
    tenant = await tenant_service.get_tenant(world.id)
    assert tenant is not None
    return tenant.status


async def events_of(world: World) -> list[str]:
    return [event.kind for event in await onboarding_history(world)]


async def onboarding_history(world: World) -> list:
    with tenant_context(world.id):
        return await onboarding.history(world.id)


async def audit_of(world: World, prefix: str = "application.") -> list[dict]:
    return await (
        AuditLog.select()
        .where((AuditLog.tenant == world.id) & AuditLog.action.like(f"{prefix}%"))
        .order_by(AuditLog.id)
    )


# -- the queue and the detail page --------------------------------------------------------


async def test_queue_filters_counts_and_ages(admin: accounts.StaffInfo, tenant_a: World) -> None:
    hk = await applicant("hk-noodles")
    cn = await applicant("cn-dumplings", region="CN", number="91350100M000100Y43")
    await applicant("still-typing", submit=False)
    with tenant_context(hk.id):  # hk has waited 8 days
        await scoped_update(
            Application, {Application.submitted_at: datetime.now(UTC) - timedelta(days=8)}
        )
    async with open_client() as client:
        await login(client, admin.email)
        page = await client.get("/admin/applications")
        assert page.status_code == 200
        assert 'data-testid="count-pending_review">2<' in page.text
        assert 'data-testid="count-applying">1<' in page.text
        rows = page.text.split('data-testid="application-row"')[1:]
        assert [f'data-tenant="{hk.id}"' in rows[0], f'data-tenant="{cn.id}"' in rows[1]] == [
            True,
            True,
        ], "the longest waiting first"
        assert "1 week" in rows[0]
        assert tenant_a.tenant.slug not in page.text  # an active shop is not an application
        only_cn = await client.get("/admin/applications?region=CN")
        assert f'data-tenant="{cn.id}"' in only_cn.text
        assert f'data-tenant="{hk.id}"' not in only_cn.text
        old = await client.get("/admin/applications?age=7d")
        assert f'data-tenant="{hk.id}"' in old.text
        assert f'data-tenant="{cn.id}"' not in old.text
        applying = await client.get("/admin/applications?status=applying")
        assert "still-typing" in applying.text and "hk-noodles" not in applying.text
        everything = await client.get("/admin/applications?status=all&region=XX&age=bogus")
        assert everything.status_code == 200
        assert all(slug in everything.text for slug in ("hk-noodles", "cn-dumplings"))
        home = await client.get("/admin")
        assert home.status_code == 200
        assert 'href="/admin/applications"' in home.text
        figures = home.text.split('data-testid="platform-figures"')[1]
        assert 'data-testid="figure-waiting"' in figures
        assert ">2<" in figures.split('data-testid="figure-receipts"')[0]
        assert "1 week" in figures  # the oldest's wait
        assert 'data-testid="platform-receipts"' in figures


async def test_detail_shows_the_document_check_payment_samples_and_history(
    admin: accounts.StaffInfo,
) -> None:
    shop = await applicant("hk-noodles")
    other = await applicant("bravo-bakes")
    async with open_client() as client:
        await login(client, admin.email)
        page = await client.get(f"/admin/applications/{shop.id}")
        assert page.status_code == 200
        text = page.text
        assert "Hk-Noodles Limited" in text and "12345678" in text and "+85223456789" in text
        assert 'data-testid="pdf-viewer"' in text
        assert 'src="/static/admin/review.js"' in text
        assert 'data-result="mismatch"' in text and 'class="check-mismatch"' in text
        assert "99999999" in text and "BUSINESS REGISTRATION CERTIFICATE" in text
        assert 'data-testid="payment-state">No payment yet<' in text
        assert 'data-testid="sample"' in text
        assert 'data-kind="document_uploaded"' in text and 'data-kind="submitted"' in text
        assert 'href="/admin/tenants/' in text  # suspend / reactivate live on the shop page
        assert "bravo-bakes" not in text
        # The document itself, inline, and only through its own shop.
        doc = (await onboarding_docs(shop))[0]
        url = f"/admin/applications/{shop.id}/media/{doc.media_key}"
        assert f'data-pdf-url="{url}"' in text
        served = await client.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("application/pdf")
        assert served.content.startswith(b"%PDF")
        crossed = await client.get(f"/admin/applications/{other.id}/media/{doc.media_key}")
        assert crossed.status_code == 404
        assert (await client.get(f"/admin/applications/{shop.id}/media/nope")).status_code == 404
        # pdf.js itself is served from node_modules, like the other npm assets.
        lib = await client.get("/static/vendor/pdfjs/build/pdf.min.mjs")
        assert lib.status_code == 200 and "javascript" in lib.headers["content-type"]
        worker = await client.get("/static/vendor/pdfjs/build/pdf.worker.min.mjs")
        assert worker.status_code == 200
        assert (await client.get("/static/admin/review.js")).status_code == 200
        assert (await client.get("/admin/applications/999999")).status_code == 404
        no_application = await make_world("no-app", TenantStatus.applying)
        assert (await client.get(f"/admin/applications/{no_application.id}")).status_code == 404


async def onboarding_docs(world: World) -> list:
    with tenant_context(world.id):
        return await onboarding.current_documents(world.id, "business_registration")


# -- who may --------------------------------------------------------------------------------


async def test_only_platform_admins(tenant_b: World) -> None:
    shop = await applicant("hk-noodles")
    manager = await accounts.create_staff_user("manager@hk-noodles.test", PASSWORD)
    with tenant_context(shop.id, Actor("system")):
        await accounts.grant_role(manager.id, Role.manager)
    key = (await onboarding_docs(shop))[0].media_key
    gets = [
        "/admin/applications",
        f"/admin/applications/{shop.id}",
        f"/admin/applications/{shop.id}/media/{key}",
    ]
    posts = [
        (f"/admin/applications/{shop.id}/approve", {"without_payment": "1"}),
        (f"/admin/applications/{shop.id}/reject", {"reason": "no"}),
        (f"/admin/applications/{shop.id}/request-changes", {"reason": "no"}),
    ]
    callers = [shop.owner.email, shop.cashier.email, manager.email, tenant_b.owner.email, None]
    for email in callers:
        async with open_client() as client:
            if email:
                await login(client, email)
            for path in gets:
                response = await client.get(path, follow_redirects=False)
                expected = {403} if email else {302, 303, 401}
                assert response.status_code in expected, (email, path, response.status_code)
                assert "BUSINESS REGISTRATION" not in response.text
            for path, data in posts:
                response = await post_form(client, path, data)
                assert response.status_code in {302, 303, 401, 403}, (email, path)
                if response.status_code in {302, 303}:
                    assert response.headers["location"].startswith("/login")
    assert await status_of(shop) == TenantStatus.pending_review
    assert await events_of(shop) == ["document_uploaded", "document_uploaded", "submitted"]
    assert await audit_of(shop) == [
        a for a in await audit_of(shop) if a["action"].endswith("submit")
    ]
    assert outbox() == []


# -- decisions ------------------------------------------------------------------------------


async def test_approve_needs_payment_unless_ticked(admin: accounts.StaffInfo) -> None:
    shop = await applicant("hk-noodles")
    other = await applicant("bravo-bakes")
    other_events = await events_of(other)
    async with open_client() as client:
        await login(client, admin.email)
        refused = await post_form(client, f"/admin/applications/{shop.id}/approve", {})
        assert refused.status_code == 409
        assert 'data-testid="approve-error"' in refused.text
        assert "The payment has not been received (No payment yet)" in refused.text
        assert await status_of(shop) == TenantStatus.pending_review
        assert [a["action"] for a in await audit_of(shop)] == ["application.submit"]
        response = await post_form(
            client,
            f"/admin/applications/{shop.id}/approve",
            {"without_payment": "1", "note": "Trial: pays at month end"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/admin/applications/{shop.id}"
        page = await client.get(response.headers["location"])
        assert "Hk-Noodles is approved and active." in page.text
        assert 'data-testid="review-actions"' not in page.text
        again = await post_form(
            client, f"/admin/applications/{shop.id}/approve", {"without_payment": "1"}
        )
        assert again.status_code == 409  # decided already: nothing happens twice
    assert await status_of(shop) == TenantStatus.active
    [decision] = [a for a in await audit_of(shop) if a["action"] == "application.approved"]
    assert decision["actor"] == f"staff:{admin.id}" and decision["actor_label"] == admin.email
    after = json.loads(decision["after"])
    assert after["without_payment"] is True and after["payment_state"] == "none"
    assert after["reason"] == "Trial: pays at month end"
    history = await onboarding_history(shop)
    assert history[-1].kind == "approved" and history[-1].actor == admin.email
    assert "without payment" in history[-1].note
    # The other applicant is untouched.
    assert await status_of(other) == TenantStatus.pending_review
    assert await events_of(other) == other_events
    assert [a["action"] for a in await audit_of(other)] == ["application.submit"]
    [mail] = outbox()
    assert mail["To"] == shop.owner.email
    assert "Hk-Noodles 已獲批准" in mail["Subject"]  # in the shop's language (zh-Hant)
    assert f"{BASE}/console" in mail.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{BASE}/console"' in mail.get_body(preferencelist=("html",)).get_content()
    # The owner lands in an active console.
    async with open_client() as client:
        await login(client, shop.owner.email)
        console = await client.get("/console")
        assert console.status_code == 200
        assert "tenant-status-banner" not in console.text


async def test_approve_when_paid_needs_no_tick(admin: accounts.StaffInfo) -> None:
    shop = await applicant("hk-noodles")
    await paid(shop, admin)
    async with open_client() as client:
        await login(client, admin.email)
        page = await client.get(f"/admin/applications/{shop.id}")
        assert 'data-testid="payment-state">Paid<' in page.text
        assert 'data-status="succeeded"' in page.text and "HKD 199.00" in page.text
        assert 'data-testid="without-payment"' not in page.text
        response = await post_form(client, f"/admin/applications/{shop.id}/approve", {})
        assert response.status_code == 303
    assert await status_of(shop) == TenantStatus.active
    [decision] = [a for a in await audit_of(shop) if a["action"] == "application.approved"]
    assert json.loads(decision["after"])["without_payment"] is False


async def test_reject_then_resubmit_returns_to_the_queue_with_history(
    admin: accounts.StaffInfo,
) -> None:
    shop = await applicant("hk-noodles")
    other = await applicant("bravo-bakes")
    reason = "The registration number on the certificate is 99999999.\nUpload the right one."
    async with open_client() as client:
        await login(client, admin.email)
        empty = await post_form(client, f"/admin/applications/{shop.id}/reject", {"reason": " "})
        assert empty.status_code == 400 and 'id="f-reject-error"' in empty.text
        response = await post_form(
            client, f"/admin/applications/{shop.id}/reject", {"reason": reason}
        )
        assert response.status_code == 303
        queue = await client.get("/admin/applications")
        assert f'data-tenant="{shop.id}"' not in queue.text
        assert f'data-tenant="{other.id}"' in queue.text
        sent_back = await client.get("/admin/applications?status=rejected")
        assert f'data-tenant="{shop.id}"' in sent_back.text
    assert await status_of(shop) == TenantStatus.rejected
    assert await status_of(other) == TenantStatus.pending_review
    [mail] = outbox()
    assert mail["To"] == shop.owner.email
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Upload the right one." in body and f"{BASE}/onboarding" in body
    [decision] = [a for a in await audit_of(shop) if a["action"] == "application.rejected"]
    assert json.loads(decision["after"])["reason"] == reason

    # The merchant fixes the number and submits again: back in the queue, history kept.
    with tenant_context(shop.id, Actor("staff", shop.owner.id, shop.owner.email)):
        await onboarding.update_application(shop.id, {"registration_number": "99999999"})
        await onboarding.submit(shop.id)
    assert await status_of(shop) == TenantStatus.pending_review
    async with open_client() as client:
        await login(client, admin.email)
        queue = await client.get("/admin/applications")
        assert f'data-tenant="{shop.id}"' in queue.text
        page = await client.get(f"/admin/applications/{shop.id}")
        assert 'data-testid="review-actions"' in page.text
    kinds = await events_of(shop)
    assert kinds[-3:] == ["submitted", "rejected", "resubmitted"]


async def test_request_changes(admin: accounts.StaffInfo) -> None:
    shop = await applicant("hk-noodles")
    async with open_client() as client:
        await login(client, admin.email)
        response = await post_form(
            client,
            f"/admin/applications/{shop.id}/request-changes",
            {"reason": "Add a clearer photo of the certificate."},
        )
        assert response.status_code == 303
        page = await client.get(f"/admin/applications/{shop.id}")
        assert "Hk-Noodles was asked for changes." in page.text
        assert 'data-testid="decision">Changes requested' in page.text
    assert await status_of(shop) == TenantStatus.rejected
    with tenant_context(shop.id):
        application = await onboarding.get_application(shop.id)
    assert application is not None and application.decision == "changes_requested"
    [mail] = outbox()
    assert "請修改你的申請" in mail["Subject"]  # "please change your application", zh-Hant
    assert "clearer photo" in mail.get_body(preferencelist=("plain",)).get_content()
    assert (await events_of(shop))[-1] == "changes_requested"


async def test_nul_and_huge_reasons(admin: accounts.StaffInfo) -> None:
    shop = await applicant("hk-noodles")
    async with open_client() as client:
        await login(client, admin.email)
        for path in ("reject", "request-changes"):
            # NUL never gets past the input guard; other control characters reach the
            # service, which refuses them by name on the page.
            nul = await post_form(
                client, f"/admin/applications/{shop.id}/{path}", {"reason": "bad\x00reason"}
            )
            assert nul.status_code == 400
            bell = await post_form(
                client, f"/admin/applications/{shop.id}/{path}", {"reason": "bad\x07reason"}
            )
            assert bell.status_code == 400
            assert "control character" in bell.text
        note = await post_form(
            client,
            f"/admin/applications/{shop.id}/approve",
            {"without_payment": "1", "note": "x\x1b[2J"},
        )
        assert note.status_code == 400
        assert await status_of(shop) == TenantStatus.pending_review
        huge = await post_form(
            client, f"/admin/applications/{shop.id}/reject", {"reason": "é" * 200_000}
        )
        assert huge.status_code in {303, 400, 413}, huge.status_code
    if huge.status_code == 303:
        with tenant_context(shop.id):
            application = await onboarding.get_application(shop.id)
        assert application is not None and len(application.decision_reason) == 2000
    assert await AuditLog.count().where(AuditLog.action == "application.rejected") <= 1


async def test_decisions_on_a_shop_not_waiting(admin: accounts.StaffInfo, tenant_a: World) -> None:
    applying = await applicant("still-typing", submit=False)
    suspended = await make_world("sleepy-shop", TenantStatus.suspended)
    async with open_client() as client:
        await login(client, admin.email)
        for world in (tenant_a, applying, suspended):
            for path, data in (
                ("approve", {"without_payment": "1"}),
                ("reject", {"reason": "x"}),
                ("request-changes", {"reason": "x"}),
            ):
                response = await post_form(client, f"/admin/applications/{world.id}/{path}", data)
                assert response.status_code in {404, 409}, (world.tenant.slug, path)
        missing = await post_form(client, "/admin/applications/999999/reject", {"reason": "x"})
        assert missing.status_code == 404
        json_body = await client.post(
            f"/admin/applications/{applying.id}/reject",
            json={"reason": "x"},
            headers={"x-csrftoken": client.cookies.get("lc_csrf", "")},
        )
        assert json_body.status_code == 400
    assert await status_of(tenant_a) == TenantStatus.active
    assert await status_of(applying) == TenantStatus.applying
    assert await status_of(suspended) == TenantStatus.suspended
    assert outbox() == []
    assert await ApplicationEvent.count().where(ApplicationEvent.kind == "approved") == 0
