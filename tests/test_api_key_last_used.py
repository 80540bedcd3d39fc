"""An API key's ``last_used_at`` is written at most once a minute (issue 8, finding 12).

Every API call used to UPDATE the key row; now one conditional UPDATE moves it only
when it is unset or older than a minute, so a busy integration does not write per call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalchat.tenants import apikeys
from loyalchat.tenants.tables import ApiKey
from tests.fixtures import World


async def _set_last_used(value: datetime | None) -> None:
    await ApiKey.update({ApiKey.last_used_at: value}, force=True)


async def _last_used() -> datetime | None:
    row = await ApiKey.select(ApiKey.last_used_at).first()
    return row["last_used_at"]


async def test_first_use_is_recorded(tenant_a: World) -> None:
    await _set_last_used(None)
    assert await apikeys.authenticate(tenant_a.api_key) is not None
    assert await _last_used() is not None


async def test_a_recent_use_is_not_rewritten(tenant_a: World) -> None:
    recent = datetime.now(UTC) - timedelta(seconds=30)
    await _set_last_used(recent)
    assert await apikeys.authenticate(tenant_a.api_key) is not None
    assert await apikeys.authenticate(tenant_a.api_key) is not None
    assert await _last_used() == recent


async def test_a_use_older_than_a_minute_is_moved_on(tenant_a: World) -> None:
    old = datetime.now(UTC) - timedelta(minutes=5)
    await _set_last_used(old)
    assert await apikeys.authenticate(tenant_a.api_key) is not None
    moved = await _last_used()
    assert moved is not None and moved > old + timedelta(minutes=4)
