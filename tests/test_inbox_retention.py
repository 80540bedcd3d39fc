"""Inbound events are kept ``LOYALCHAT_INBOX_RETENTION_DAYS`` after they are processed
(issue 8, finding 12): an hourly job deletes old final rows of every tenant, in batches,
and never a row still waiting to be processed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from loyalchat.inbox import service
from loyalchat.inbox.tables import InboundEvent, InboundStatus
from loyalchat.settings import Settings, get_settings
from loyalchat.tasks.embedded import EmbeddedWorker
from tests.fixtures import World
from tests.test_tasks_support import drain, fresh_stub_broker

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def stub_broker() -> Iterator[object]:
    yield from fresh_stub_broker()  # type: ignore[misc]


async def _event(tenant: int, key: str, status: InboundStatus, age_days: float) -> None:
    at = NOW - timedelta(days=age_days)
    final = status in (InboundStatus.done, InboundStatus.failed)
    await InboundEvent.insert(
        InboundEvent(
            tenant=tenant,
            source="test",
            provider_key=key,
            status=status.value,
            received_at=at,
            updated_at=at,
            processed_at=at if final else None,
        )
    )


async def _keys() -> set[str]:
    return {row["provider_key"] for row in await InboundEvent.select(InboundEvent.provider_key)}


async def _plant(a: World, b: World) -> None:
    for tenant, tag in ((a.id, "a"), (b.id, "b")):
        for n in range(3):  # more old rows than one batch
            await _event(tenant, f"{tag}-old-done-{n}", InboundStatus.done, 31)
        await _event(tenant, f"{tag}-old-failed", InboundStatus.failed, 40)
        await _event(tenant, f"{tag}-old-received", InboundStatus.received, 60)
        await _event(tenant, f"{tag}-old-processing", InboundStatus.processing, 60)
        await _event(tenant, f"{tag}-recent-done", InboundStatus.done, 29)


KEPT = {
    f"{tag}-{rest}"
    for tag in ("a", "b")
    for rest in ("old-received", "old-processing", "recent-done")
}


def test_retention_setting_defaults_to_30_days() -> None:
    assert Settings().inbox_retention_days == 30
    assert Settings(inbox_retention_days=7).inbox_retention_days == 7
    with pytest.raises(ValueError):
        Settings(inbox_retention_days=0)


async def test_purge_deletes_only_old_final_rows_of_every_tenant(
    tenant_a: World, tenant_b: World
) -> None:
    await _plant(tenant_a, tenant_b)
    assert await service.purge_processed(NOW, batch_size=2) == 8
    assert await _keys() == KEPT
    assert await service.purge_processed(NOW, batch_size=2) == 0


async def test_retention_follows_the_setting(
    tenant_a: World, tenant_b: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _plant(tenant_a, tenant_b)
    monkeypatch.setenv("LOYALCHAT_INBOX_RETENTION_DAYS", "35")
    get_settings.cache_clear()
    try:
        assert await service.purge_processed(NOW) == 2  # only the 40-day-old failed rows
    finally:
        monkeypatch.delenv("LOYALCHAT_INBOX_RETENTION_DAYS")
        get_settings.cache_clear()
    assert not {key for key in await _keys() if key.endswith("old-failed")}


async def test_hourly_job_purges_processed_events(
    stub_broker: object, tenant_a: World, tenant_b: World
) -> None:
    from loyalchat.inbox.tasks import PURGE_INTERVAL_SECONDS, purge_inbound_events
    from loyalchat.tasks import registry

    jobs = {job.name: job for job in registry.periodic_jobs()}
    assert jobs["purge_inbound_events"].interval_seconds == PURGE_INTERVAL_SECONDS
    await _plant(tenant_a, tenant_b)
    # The job uses the real clock: move the planted rows' times back to now's past.
    shift = datetime.now(UTC) - NOW
    await InboundEvent.update(
        {
            InboundEvent.processed_at: InboundEvent.processed_at + shift,
            InboundEvent.received_at: InboundEvent.received_at + shift,
        },
        force=True,
    )
    purge_inbound_events.send()
    await drain(EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50))
    assert await _keys() == KEPT


async def test_the_purge_has_an_index(tenant_a: World) -> None:
    from loyalchat import db

    rows = await db.current_engine()._run_in_new_connection(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'inbound_event'"
    )
    assert any("(processed_at)" in row["indexdef"] for row in rows)
