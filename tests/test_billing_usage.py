"""Usage and limits: counted per tenant and month, a receipt over the month's limit kept
for review (never lost), the near-limit and limit mails once per month per metric, and
nothing of one tenant counted for another."""

from __future__ import annotations

from loyalchat.billing import service
from loyalchat.context import Actor, tenant_context
from loyalchat.mail import outbox_messages
from loyalchat.receipts import pipeline
from tests.bot_helpers import CHAT
from tests.fixtures import World, make_world
from tests.receipt_pipeline_support import blank_photo, make_sender, make_shop, send

ADMIN = Actor("staff", 99, "admin@platform.test")


async def subscribe(world_id: int, code: str = "tiny", **limits: int | None) -> None:
    await service.create_plan(
        service.PlanInput(code=code, name=code, monthly_price="10", limits=limits)
    )
    await service.choose_plan(world_id, code, "manual")
    payment = (await service.list_payments(world_id))[0]
    await service.confirm_manual_payment(payment.id, actor=ADMIN)


_seen: set[str] = set()


def forget_mails() -> None:
    """The outbox lives for the whole run: later checks count only mails sent after this."""
    _seen.clear()
    _seen.update(m.name for m in outbox_messages())


def mails(template: str) -> list:
    return [m for m in outbox_messages() if m.template == template and m.name not in _seen]


async def test_a_receipt_over_the_limit_waits_for_review(clean_db: None) -> None:
    forget_mails()
    shop = await make_shop()
    other = await make_world("other-shop")
    await subscribe(shop.id, receipts_per_month=2)
    with tenant_context(shop.id, CHAT):
        amy = await make_sender()
        ids = [await send(amy, blank_photo()[:-2] + bytes([7, n])) for n in range(3)]
        assert [await pipeline.quota_reached(i) for i in ids] == [False, False, True]
        kept = await pipeline.process(ids[2])
    assert (kept.status, kept.reasons) == ("needs_review", ["quota_reached"])
    used = await service.usage(shop.id)
    assert (used["receipts_per_month"].used, used["receipts_per_month"].limit) == (3, 2)
    assert used["receipts_per_month"].level == "reached"
    assert await service.limit_reached(shop.id, "receipts")
    # The other shop has no plan and no receipts: nothing counted, nothing limited.
    theirs = await service.usage(other.id)
    assert theirs["receipts_per_month"].used == 0 and theirs["receipts_per_month"].limit is None
    assert not await service.limit_reached(other.id, "receipts")
    # The owner heard once that the limit is near (2 of 2 reached; 80 % at the 2nd).
    assert len(mails("usage_limit_reached")) == 1
    assert mails("usage_limit_reached")[0].to == "owner@demo-cafe.test"


async def test_counted_usage_mails_once_per_month(tenant_a: World, tenant_b: World) -> None:
    forget_mails()
    await subscribe(tenant_a.id, broadcasts_per_month=5)
    for _ in range(3):
        await service.count_usage(tenant_a.id, "broadcasts")
    assert mails("usage_near_limit") == []
    assert await service.count_usage(tenant_a.id, "broadcasts") == 4  # 80 %
    assert len(mails("usage_near_limit")) == 1
    await service.count_usage(tenant_a.id, "broadcasts")  # 5 of 5
    await service.count_usage(tenant_a.id, "broadcasts", 3)
    assert len(mails("usage_near_limit")) == 1
    assert len(mails("usage_limit_reached")) == 1
    assert await service.check_limits(tenant_a.id) == []  # the hourly job: already told
    assert (await service.usage(tenant_a.id))["broadcasts_per_month"].used == 8
    assert (await service.usage(tenant_b.id))["broadcasts_per_month"].used == 0
    assert {m.to for m in outbox_messages() if m.name not in _seen} == {"owner@alpha-tea.test"}


async def test_live_counts(tenant_a: World, tenant_b: World) -> None:
    await subscribe(tenant_a.id, staff_seats=2, members=10)
    used = await service.usage(tenant_a.id)
    assert used["staff_seats"].used == 2 and used["staff_seats"].level == "reached"
    assert used["members"].used == 0 and used["members"].percent == 0
    assert used["channels"].limit is None
    assert await service.limit_reached(tenant_a.id, "staff_seats")
    assert not await service.limit_reached(tenant_b.id, "staff_seats")


def test_billing_mails_render_in_every_language() -> None:
    from loyalchat.languages import LOCALES
    from loyalchat.mail import render_mail

    contexts = {
        "payment_received": {"amount": "HKD 199.00"},
        "payment_failed": {"amount": "HKD 199.00", "grace_until": "2026-12-31"},
        "payment_due": {"grace_until": "2026-12-31"},
        "usage_near_limit": {"used": 8, "limit": 10, "metric_label": "receipts"},
        "usage_limit_reached": {"limit": 10, "metric_label": "receipts"},
    }
    for template, context in contexts.items():
        for locale in LOCALES:
            mail = render_mail(
                template, {"shop": "Demo", "link": "/console/billing", **context}, locale
            )
            assert mail.subject and "/console/billing" in mail.text and mail.html
