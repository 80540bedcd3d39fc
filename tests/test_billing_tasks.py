"""The hourly billing actor: registered with the scheduler, run by a worker, it suspends a
shop whose grace period ran out (once) and leaves every other shop alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loyalchat.billing import service as billing
from loyalchat.context import Actor
from loyalchat.settings import get_settings
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants import service as tenants
from tests.fixtures import World
from tests.test_tasks_support import drain, fresh_stub_broker

ADMIN = Actor("staff", 99, "admin@platform.test")


@pytest.fixture
def stub_broker() -> Iterator[object]:
    yield from fresh_stub_broker()  # type: ignore[misc]


async def test_the_hourly_job_suspends_after_grace(
    stub_broker: object, tenant_a: World, tenant_b: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalchat.billing.tasks import BILLING_INTERVAL_SECONDS, enforce_billing
    from loyalchat.tasks import registry

    jobs = {job.name: job for job in registry.periodic_jobs()}
    assert jobs["enforce_billing"].interval_seconds == BILLING_INTERVAL_SECONDS
    monkeypatch.setenv("LOYALCHAT_BILLING_GRACE_DAYS", "0")
    get_settings.cache_clear()
    try:
        await billing.create_plan(billing.PlanInput(code="basic", name="Basic", monthly_price="1"))
        for world in (tenant_a, tenant_b):
            await billing.choose_plan(world.id, "basic", "manual")
            first = (await billing.list_payments(world.id))[0]
            await billing.confirm_manual_payment(first.id, actor=ADMIN)
        await billing.choose_plan(tenant_a.id, "basic", "manual")
        second = (await billing.list_payments(tenant_a.id))[0]
        await billing.reject_manual_payment(second.id, actor=ADMIN)
        enforce_billing.send()
        enforce_billing.send()
        await drain(EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50))
    finally:
        monkeypatch.delenv("LOYALCHAT_BILLING_GRACE_DAYS")
        get_settings.cache_clear()
    assert (await tenants.get_tenant(tenant_a.id)).status == "suspended"
    assert (await tenants.get_tenant(tenant_b.id)).status == "active"
