"""onboarding.service: one application per tenant, documents and history, submit and
resubmit; every function refuses another tenant's rows."""

from __future__ import annotations

import pytest

from loyalchat.context import Actor, NoTenantContext, cross_tenant, tenant_context
from loyalchat.domain import Conflict
from loyalchat.onboarding import service
from loyalchat.onboarding.tables import DocumentKind
from loyalchat.tenants import service as tenants
from loyalchat.tenants.tables import TenantStatus
from tests.fixtures import make_world

DETAILS = {
    "legal_name_zh": "阿爾法茶室有限公司",
    "legal_name_en": "Alpha Tea Limited",
    "region": "HK",
    "registration_number": "12345678",
    "address": "1 Queen's Road Central, Hong Kong",
    "phone": "+85291234567",
}


async def _complete(tenant_id: int) -> None:
    await service.update_application(tenant_id, {**DETAILS, "pos_system": "handwritten", "step": 5})
    await service.add_document(
        tenant_id, DocumentKind.business_registration, media_key="a" * 64, filename="br.pdf"
    )
    await service.add_document(
        tenant_id, DocumentKind.receipt_sample, media_key="b" * 64, filename="r.jpg"
    )


async def test_submit_then_resubmit_keeps_the_history(clean_db: None) -> None:
    world = await make_world("alpha-tea", TenantStatus.applying)
    with tenant_context(world.id, Actor("staff", world.owner.id, "owner@alpha-tea.test")):
        assert await service.get_application(world.id) is None
        with pytest.raises(service.IncompleteApplication) as caught:
            await service.submit(world.id)
        assert caught.value.extra["steps"] == [1, 2, 4]
        await _complete(world.id)
        assert await service.missing_steps(world.id) == []
        submitted = await service.submit(world.id)
        assert submitted.submitted_at is not None
        assert (await tenants.get_tenant(world.id)).status == "pending_review"
        with pytest.raises(Conflict):  # a double click submits once
            await service.submit(world.id)
    await tenants.set_status(world.id, TenantStatus.rejected, "blurry document")
    with tenant_context(world.id, Actor("staff", world.owner.id, "owner@alpha-tea.test")):
        await service.record_event(world.id, "rejected", "admin@platform.test", "blurry document")
        await service.submit(world.id)
        kinds = [event.kind for event in await service.history(world.id)]
    assert kinds[-3:] == ["submitted", "rejected", "resubmitted"]
    assert kinds.count("document_uploaded") == 2


async def test_active_tenant_cannot_submit(clean_db: None) -> None:
    world = await make_world("alpha-tea", TenantStatus.active)
    with tenant_context(world.id):
        await _complete(world.id)
        with pytest.raises(Conflict):
            await service.submit(world.id)
    assert (await tenants.get_tenant(world.id)).status == "active"


async def test_registration_document_is_replaced_samples_add_up(clean_db: None) -> None:
    world = await make_world("alpha-tea", TenantStatus.applying)
    with tenant_context(world.id):
        first = await service.add_document(
            world.id, "business_registration", media_key="1" * 64, filename="one.pdf"
        )
        second = await service.add_document(
            world.id, "business_registration", media_key="2" * 64, filename="two.pdf"
        )
        current = await service.current_documents(world.id, "business_registration")
        assert [d.id for d in current] == [second.id]
        assert (await service.get_document(world.id, first.id)).replaced_at is not None
        for n in range(service.MAX_RECEIPT_SAMPLES):
            await service.add_document(world.id, "receipt_sample", media_key=f"{n}" * 64)
        with pytest.raises(Conflict):
            await service.add_document(world.id, "receipt_sample", media_key="f" * 64)
        samples = await service.current_documents(world.id, "receipt_sample")
        assert await service.remove_document(world.id, samples[0].id)
        assert not await service.remove_document(world.id, samples[0].id)
        assert len(await service.current_documents(world.id, "receipt_sample")) == 4


async def test_furthest_step_is_kept(clean_db: None) -> None:
    world = await make_world("alpha-tea", TenantStatus.applying)
    with tenant_context(world.id):
        await service.update_application(world.id, {"step": 4})
        application = await service.update_application(world.id, {**DETAILS, "step": 1})
    assert application.step == 4
    assert application.legal_name_en == "Alpha Tea Limited"
    with pytest.raises(ValueError):
        with tenant_context(world.id):
            await service.update_application(world.id, {"decision": "approved"})


async def test_two_tenants_never_see_each_other(clean_db: None) -> None:
    a = await make_world("alpha-tea", TenantStatus.applying)
    b = await make_world("bravo-bakery", TenantStatus.applying)
    with tenant_context(a.id):
        await _complete(a.id)
        doc = (await service.current_documents(a.id))[0]
    with tenant_context(b.id):
        assert await service.get_document(b.id, doc.id) is None
        assert await service.current_documents(b.id) == []
        assert await service.get_application(b.id) is None
        assert not await service.remove_document(b.id, doc.id)
        # Asking for A's rows while B is in context is refused outright.
        for call in (
            service.get_application(a.id),
            service.current_documents(a.id),
            service.get_document(a.id, doc.id),
            service.history(a.id),
            service.submit(a.id),
            service.record_event(a.id, "note"),
        ):
            with pytest.raises(PermissionError):
                await call
    with pytest.raises(NoTenantContext):
        await service.get_application(a.id)
    # The admin's review reads any tenant inside cross_tenant().
    with cross_tenant("review an application"):
        assert (await service.get_application(a.id)).legal_name_en == "Alpha Tea Limited"
        assert len(await service.current_documents(a.id)) == 2
        assert await service.current_documents(b.id) == []
