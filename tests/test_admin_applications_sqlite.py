"""The admin's figures of applications waiting on the embedded default (SQLite hands an
aggregate's timestamp back as text): the oldest wait is a moment, and the admin home shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalchat.context import cross_tenant
from loyalchat.onboarding.review import waiting_for_review
from loyalchat.onboarding.tables import Application
from loyalchat.tenants import service as tenant_service
from loyalchat.tenants.tables import TenantStatus


@pytest.mark.sqlite
async def test_the_oldest_application_waiting_is_a_moment_on_sqlite(sqlite_db) -> None:
    waiting = await tenant_service.create_tenant(
        "new-tea", "New Tea", status=TenantStatus.pending_review
    )
    await tenant_service.create_tenant("old-tea", "Old Tea", status=TenantStatus.active)
    sent = datetime.now(UTC) - timedelta(hours=5)
    with cross_tenant("test"):
        await Application.insert(Application(tenant=waiting.id, submitted_at=sent))
    found = await waiting_for_review()
    assert found.count == 1
    assert isinstance(found.oldest, datetime)
    assert abs((datetime.now(UTC) - found.oldest) - timedelta(hours=5)) < timedelta(minutes=1)
