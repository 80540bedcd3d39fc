"""Choosing a plan makes at most one pending payment per shop, whatever the clicks.

Two clicks at once (a double click, two tabs), as service calls and as form posts: one
pending payment, both answers the same. Another plan replaces the pending choice; a
transfer slip under review is never thrown away; a start that died is not waited for
forever. Two tenants throughout: one shop's choice never touches another's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from loyalchat.billing import service
from loyalchat.billing.tables import Payment
from loyalchat.context import Actor, cross_tenant, tenant_context
from loyalchat.domain import DomainError
from loyalchat.extensions.payments import PaymentStatus, PaymentUpdate
from loyalchat.media import store
from loyalchat.scoping import scoped_update
from tests.console_helpers import login
from tests.fixtures import World
from tests.onboarding_helpers import jpeg_photo

ADMIN = Actor("staff", 99, "admin@platform.test")


async def plans() -> None:
    for code, price in (("basic", "199"), ("growth", "499")):
        await service.create_plan(
            service.PlanInput(code=code, name=code.title(), monthly_price=price)
        )


async def rows(world: World, status: str | None = None) -> list[dict]:
    with cross_tenant("test: one shop's payments"):
        query = Payment.select().where(Payment.tenant == world.id).order_by(Payment.id)
        if status:
            query = query.where(Payment.status == status)
        return await query


async def test_two_choices_at_once_make_one_pending_payment(
    tenant_a: World, tenant_b: World
) -> None:
    await plans()
    starts = await asyncio.gather(
        *(service.choose_plan(tenant_a.id, "basic", "manual") for _ in range(4)),
        service.choose_plan(tenant_b.id, "basic", "manual"),
    )
    *for_a, for_b = starts
    assert {start.provider_ref for start in for_a} == {for_a[0].provider_ref}
    [pending] = await rows(tenant_a, "pending")
    assert pending["provider_ref"] == for_a[0].provider_ref
    assert [r["status"] for r in await rows(tenant_a)] == ["pending"]  # nothing else made
    [other] = await rows(tenant_b)
    assert other["provider_ref"] == for_b.provider_ref != pending["provider_ref"]
    # A click much later (the transfer's reference does not expire) gets the same one too.
    again = await service.choose_plan(tenant_a.id, "basic", "manual")
    assert again.provider_ref == pending["provider_ref"]


async def test_another_plan_replaces_the_pending_choice(tenant_a: World, tenant_b: World) -> None:
    await plans()
    await service.choose_plan(tenant_b.id, "basic", "manual")
    first = await service.choose_plan(tenant_a.id, "basic", "manual")
    second = await service.choose_plan(tenant_a.id, "growth", "manual")
    assert second.provider_ref != first.provider_ref
    old, new = await rows(tenant_a)
    assert (old["status"], old["failure_reason"]) == ("cancelled", "replaced by a later choice")
    assert (new["status"], new["amount"]) == ("pending", Decimal("499.00"))
    assert [r["status"] for r in await rows(tenant_b)] == ["pending"]  # b's is untouched
    # The merchant goes back to the first plan: a new payment again, one pending.
    third = await service.choose_plan(tenant_a.id, "basic", "manual")
    assert third.provider_ref not in (first.provider_ref, second.provider_ref)
    assert len(await rows(tenant_a, "pending")) == 1


async def test_two_different_plans_at_once_leave_one_pending(tenant_a: World) -> None:
    await plans()
    await asyncio.gather(
        *(
            service.choose_plan(tenant_a.id, code, "manual")
            for code in ("basic", "growth", "basic", "growth")
        ),
        return_exceptions=True,
    )
    assert len(await rows(tenant_a, "pending")) == 1


async def test_a_slip_under_review_is_not_replaced(tenant_a: World) -> None:
    await plans()
    await service.choose_plan(tenant_a.id, "basic", "manual")
    [payment] = await rows(tenant_a)
    with tenant_context(tenant_a.id):
        key = await store.save(jpeg_photo(), kind="payment_slip")
    await service.attach_slip(
        tenant_a.id,
        payment["id"],
        reference="FPS 1",
        slip_key=key,
        preview_key=key,
        content_type="image/jpeg",
        filename="slip.jpg",
    )
    with pytest.raises(DomainError) as refused:
        await service.choose_plan(tenant_a.id, "growth", "manual")
    assert refused.value.code == "payment_under_review"
    assert [r["status"] for r in await rows(tenant_a)] == ["pending"]
    # The same plan again shows the payment under review; once decided, a new choice is free.
    again = await service.choose_plan(tenant_a.id, "basic", "manual")
    assert again.provider_ref == payment["provider_ref"]
    assert await service.reject_manual_payment(payment["id"], actor=ADMIN, reason="not found")
    await service.choose_plan(tenant_a.id, "growth", "manual")
    assert [r["status"] for r in await rows(tenant_a)] == ["failed", "pending"]


async def test_a_start_that_died_is_replaced_not_waited_for(tenant_a: World) -> None:
    """A process that stopped between claiming the payment and the provider's answer
    left a pending payment without a reference: a later choice does not wait on it."""
    await plans()
    await service.choose_plan(tenant_a.id, "basic", "manual")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with tenant_context(tenant_a.id):
        await scoped_update(Payment, {Payment.provider_ref: "", Payment.created_at: long_ago})
    start = await service.choose_plan(tenant_a.id, "basic", "manual")
    dead, live = await rows(tenant_a)
    assert dead["status"] == "cancelled" and live["status"] == "pending"
    assert live["provider_ref"] == start.provider_ref != ""


async def test_a_payment_of_a_replaced_choice_still_counts(tenant_a: World) -> None:
    """A card checkout opened in a tab, then another plan chosen, then the first checkout
    paid after all: the money is the first payment's, and its plan runs."""
    await plans()
    first = await service.choose_plan(tenant_a.id, "basic", "manual")
    await service.choose_plan(tenant_a.id, "growth", "manual")
    paid = PaymentUpdate(first.provider_ref, PaymentStatus.succeeded, "late-1")
    assert await service.apply_payment_update("manual", paid)
    old, new = await rows(tenant_a)
    assert (old["status"], new["status"]) == ("succeeded", "pending")
    assert (await service.plan_of(tenant_a.id)).code == "basic"
    assert await service.payment_state(tenant_a.id) == "paid"


async def test_a_double_post_of_the_form_makes_one_payment(
    tenant_a: World, tenant_b: World
) -> None:
    """The form posted three times at once, the app serving the posts side by side (on
    this test's event loop, not one request after the other as the test client does)."""
    from loyalchat.app import create_app

    await plans()
    transport = httpx.ASGITransport(app=create_app(run_workers=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, tenant_a.owner.email)  # type: ignore[arg-type]
        token = client.cookies.get("lc_csrf", "")
        form = {"plan": "basic", "provider": "manual", "_csrf_token": token}
        answers = await asyncio.gather(
            *(
                client.post("/console/billing/choose", data=form, follow_redirects=False)
                for _ in range(3)
            )
        )
        assert [a.status_code for a in answers] == [303, 303, 303]
        assert len({a.headers["location"] for a in answers}) == 1
        page = await client.get("/console/billing")
        assert page.text.count('data-testid="payment-reference"') == 1
    [pending] = await rows(tenant_a)
    assert pending["status"] == "pending"
    assert answers[0].headers["location"].endswith(f"#payment-{pending['id']}")
    assert await rows(tenant_b) == []
