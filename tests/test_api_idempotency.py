"""Idempotency-Key on every POST under /api/v1: replays, reuse, races, retries after failure."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import tenant_context
from loyalchat.idempotency import service
from loyalchat.idempotency.tables import IdempotentRequest
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.tasks.embedded import EmbeddedWorker
from loyalchat.tenants.tables import ApiKey, Role
from tests.api_support import (
    SYSTEM,
    add_member,
    bearer,
    key_with_role,
    one_point_per_ten_dollars,
    points_of,
)
from tests.fixtures import World
from tests.test_tasks_support import drain, fresh_stub_broker

# The credential of the direct service calls.
CRED = "api_key:1"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_replay_returns_the_first_response_and_creates_nothing(
    client: AsyncTestClient,
) -> None:
    first = await client.post("/api/v1/members", json={"name": "Lee"}, headers=key("k-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    replay = await client.post("/api/v1/members", json={"name": "Lee"}, headers=key("k-1"))
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-type"].startswith("application/json")
    assert await Member.count() == 1

    # Another key is another request.
    other = await client.post("/api/v1/members", json={"name": "Lee"}, headers=key("k-2"))
    assert other.json()["member_no"] == "M000002"
    assert await Member.count() == 2


async def test_purchase_replay_and_key_reuse(client: AsyncTestClient, tenant_a: World) -> None:
    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a)
    path = f"/api/v1/members/{member_no}/purchases"
    body = {"amount": "250.00", "reference": "POS-1"}

    first = await client.post(path, json=body, headers=key("pos-1"))
    replay = await client.post(path, json=body, headers=key("pos-1"))
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content
    assert await LedgerEntry.count() == 1
    assert await points_of(tenant_a, member_no) == 25

    reused = await client.post(
        path, json={"amount": "999.00", "reference": "POS-2"}, headers=key("pos-1")
    )
    error = reused.json()["error"]
    assert (reused.status_code, error["code"]) == (422, "idempotency_key_reused")
    assert await LedgerEntry.count() == 1

    # The same key on another route is another request too.
    elsewhere = await client.post("/api/v1/members", json={}, headers=key("pos-1"))
    assert elsewhere.json()["error"]["code"] == "idempotency_key_reused"
    assert await Member.count() == 1


async def test_refusals_are_replayed_too(client: AsyncTestClient, tenant_a: World) -> None:
    member_no = await add_member(tenant_a, points=10)
    path = f"/api/v1/members/{member_no}/adjustments"
    body = {"points": -50, "reason": "wrong"}
    first = await client.post(path, json=body, headers=key("adj-1"))
    assert first.json()["error"]["code"] == "insufficient_points"
    await add_member(tenant_a)  # the world moves on; the answer for this key does not
    replay = await client.post(path, json=body, headers=key("adj-1"))
    assert (replay.status_code, replay.content) == (409, first.content)


async def test_requests_the_caller_must_fix_are_not_kept(
    app: Litestar, client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=100)
    path = f"/api/v1/members/{member_no}/adjustments"
    malformed = await client.post(path, json={"points": "many"}, headers=key("fix-1"))
    assert malformed.status_code == 400
    cashier = await key_with_role(tenant_a, Role.cashier)
    denied = await client.post(
        path, json={"points": -5, "reason": "x"}, headers={**bearer(cashier), **key("fix-1")}
    )
    assert denied.status_code == 403
    fixed = await client.post(path, json={"points": -5, "reason": "x"}, headers=key("fix-1"))
    assert fixed.status_code == 201, fixed.text
    assert await points_of(tenant_a, member_no) == 95


async def test_bad_keys_and_no_key(client: AsyncTestClient, tenant_a: World) -> None:
    too_long = await client.post("/api/v1/members", json={}, headers=key("k" * 256))
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (
        400,
        "invalid_idempotency_key",
    )
    longest = await client.post("/api/v1/members", json={}, headers=key("k" * 255))
    assert longest.status_code == 201
    # Without a key nothing is remembered: two POSTs are two members.
    await client.post("/api/v1/members", json={})
    await client.post("/api/v1/members", json={})
    assert await Member.count() == 3
    assert await IdempotentRequest.count() == 1


async def test_a_duplicate_while_the_first_runs_is_told_to_wait(
    client: AsyncTestClient, tenant_a: World
) -> None:
    fingerprint = service.fingerprint("POST", "/api/v1/members", b'{"name":"Ho"}')
    own = await ApiKey.select(ApiKey.id).where(ApiKey.name == "alpha-tea key").first()
    with tenant_context(tenant_a.id, SYSTEM):
        first = await service.claim("busy", f"api_key:{own['id']}", fingerprint)
        assert first.outcome is service.Claim.started
    waiting = await client.post(
        "/api/v1/members",
        content=b'{"name":"Ho"}',
        headers={**key("busy"), "content-type": "application/json"},
    )
    assert (waiting.status_code, waiting.json()["error"]["code"]) == (409, "request_in_progress")
    assert await Member.count() == 0

    # A first request that died long ago does not block the key for ever.
    await IdempotentRequest.update(
        {IdempotentRequest.created_at: datetime.now(UTC) - timedelta(minutes=10)}
    ).where(IdempotentRequest.key == "busy")
    taken_over = await client.post(
        "/api/v1/members",
        content=b'{"name":"Ho"}',
        headers={**key("busy"), "content-type": "application/json"},
    )
    assert taken_over.status_code == 201
    assert await Member.count() == 1


async def test_of_concurrent_twins_exactly_one_runs(tenant_a: World) -> None:
    """The unique index decides: 16 simultaneous claims of one key, one winner."""
    fingerprint = service.fingerprint("POST", "/api/v1/members", b"{}")

    async def claim() -> service.Claim:
        with tenant_context(tenant_a.id, SYSTEM):
            return (await service.claim("twin", CRED, fingerprint)).outcome

    outcomes = await asyncio.gather(*[claim() for _ in range(16)])
    assert outcomes.count(service.Claim.started) == 1
    assert outcomes.count(service.Claim.in_progress) == 15
    assert await IdempotentRequest.count() == 1


async def test_keys_are_per_tenant(app: Litestar, tenant_a: World, tenant_b: World) -> None:
    async with AsyncTestClient(app=app) as client:
        a = await client.post(
            "/api/v1/members", json={"name": "A"}, headers={**bearer(tenant_a.api_key), **key("x")}
        )
        b = await client.post(
            "/api/v1/members", json={"name": "B"}, headers={**bearer(tenant_b.api_key), **key("x")}
        )
    assert (a.status_code, b.status_code) == (201, 201)
    assert "idempotent-replayed" not in b.headers
    assert await Member.count() == 2


async def test_service_keys_hold_after_stored_responses_are_purged(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=100)
    path = f"/api/v1/members/{member_no}/adjustments"
    body = {"points": -30, "reason": "correction"}
    first = await client.post(path, json=body, headers=key("late-retry"))
    assert await service.purge(datetime.now(UTC) + timedelta(hours=25)) == 1
    assert await IdempotentRequest.count() == 0
    # The stored response is gone, yet the ledger knows this request: no second debit.
    retry = await client.post(path, json=body, headers=key("late-retry"))
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert await points_of(tenant_a, member_no) == 70


async def test_claims_on_sqlite(sqlite_db: object, tenant_a_sqlite: int) -> None:
    """The claim is one INSERT ... ON CONFLICT DO NOTHING on SQLite too."""
    fingerprint = service.fingerprint("POST", "/api/v1/members", b"{}")
    with tenant_context(tenant_a_sqlite, SYSTEM):
        assert (await service.claim("k", CRED, fingerprint)).outcome is service.Claim.started
        assert (await service.claim("k", CRED, fingerprint)).outcome is service.Claim.in_progress
        assert (await service.claim("k", CRED, "other")).outcome is service.Claim.mismatch
        await service.finish("k", CRED, 201, b'{"ok":true}', "application/json")
        replay = await service.claim("k", CRED, fingerprint)
        assert replay.outcome is service.Claim.replay
        assert replay.response == service.StoredResponse(201, b'{"ok":true}', "application/json")
        await service.release("k", CRED)
        assert (await service.claim("k", CRED, "other")).outcome is service.Claim.started
        # A claim left "in progress" for long is taken over, once.
        old = datetime.now(UTC) - timedelta(minutes=10)
        assert (
            await service.claim("stuck", CRED, fingerprint, now=old)
        ).outcome is service.Claim.started
        assert (await service.claim("stuck", CRED, fingerprint)).outcome is service.Claim.started
        assert (
            await service.claim("stuck", CRED, fingerprint)
        ).outcome is service.Claim.in_progress


@pytest.fixture
async def tenant_a_sqlite(sqlite_db: object) -> int:
    from loyalchat.tenants import service as tenants

    return (await tenants.create_tenant("sqlite-shop", "SQLite shop")).id


@pytest.fixture
def stub_broker() -> Iterator[object]:
    yield from fresh_stub_broker()  # type: ignore[misc]


async def test_hourly_job_purges_responses_older_than_a_day(
    stub_broker: object, tenant_a: World, tenant_b: World
) -> None:
    from loyalchat.idempotency.tasks import PURGE_INTERVAL_SECONDS, purge_idempotent_requests
    from loyalchat.tasks import registry

    jobs = {job.name: job for job in registry.periodic_jobs()}
    assert jobs["purge_idempotent_requests"].interval_seconds == PURGE_INTERVAL_SECONDS
    old = datetime.now(UTC) - timedelta(hours=25)
    for world, name in [(tenant_a, "old-a"), (tenant_b, "old-b"), (tenant_a, "fresh")]:
        with tenant_context(world.id, SYSTEM):
            await service.claim(name, CRED, "f", now=old if name.startswith("old") else None)
    purge_idempotent_requests.send()
    await drain(EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=50))
    assert await IdempotentRequest.select(IdempotentRequest.key) == [{"key": "fresh"}]
