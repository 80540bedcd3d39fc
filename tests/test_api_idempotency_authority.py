"""Idempotency-Key never gives a caller more than its own credential and role would.

A stored response belongs to (tenant, credential); guards run before any replay; a
response that carries a secret (a new API key) is never stored in clear.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.idempotency.tables import IdempotentRequest
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.tenants.tables import ApiKey, Role
from tests.api_support import add_member, bearer, key_with_role, points_of
from tests.fixtures import World


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


NEW_KEY = {"name": "Back office", "role": "owner"}


async def test_a_cashier_cannot_replay_an_owners_new_api_key(
    app: Litestar, tenant_a: World
) -> None:
    owner = await key_with_role(tenant_a, Role.owner)
    cashier = await key_with_role(tenant_a, Role.cashier)
    async with AsyncTestClient(app=app) as client:
        first = await client.post(
            "/api/v1/api-keys", json=NEW_KEY, headers={**bearer(owner), **key("newkey-1")}
        )
        assert first.status_code == 201, first.text
        secret = first.json()["key"]
        stolen = await client.post(
            "/api/v1/api-keys", json=NEW_KEY, headers={**bearer(cashier), **key("newkey-1")}
        )
    assert stolen.status_code == 403, stolen.text
    assert stolen.json()["error"]["code"] == "forbidden"
    assert "idempotent-replayed" not in stolen.headers
    assert secret not in stolen.text
    # The refusal claimed nothing: only the owner's request is remembered.
    assert await IdempotentRequest.count() == 1


async def test_a_cashier_cannot_replay_a_managers_adjustment(
    app: Litestar, client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=100)
    path = f"/api/v1/members/{member_no}/adjustments"
    body = {"points": 500, "reason": "goodwill"}
    first = await client.post(path, json=body, headers=key("adj-9"))
    assert first.status_code == 201, first.text
    cashier = await key_with_role(tenant_a, Role.cashier)
    async with AsyncTestClient(app=app) as other:
        replay = await other.post(path, json=body, headers={**bearer(cashier), **key("adj-9")})
    assert replay.status_code == 403, replay.text
    assert "idempotent-replayed" not in replay.headers
    assert await points_of(tenant_a, member_no) == 600
    assert await IdempotentRequest.count() == 1


async def test_a_stored_response_belongs_to_the_key_that_sent_it(
    app: Litestar, client: AsyncTestClient, tenant_a: World
) -> None:
    """Another key of the same tenant with the same header gets its own claim."""
    first = await client.post("/api/v1/members", json={"name": "Lee"}, headers=key("shared"))
    other_key = await key_with_role(tenant_a, Role.manager)
    async with AsyncTestClient(app=app) as other:
        second = await other.post(
            "/api/v1/members", json={"name": "Lee"}, headers={**bearer(other_key), **key("shared")}
        )
        again = await other.post(
            "/api/v1/members", json={"name": "Lee"}, headers={**bearer(other_key), **key("shared")}
        )
    assert (first.status_code, second.status_code) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert second.json()["member_no"] != first.json()["member_no"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == second.content
    assert await Member.count() == 2
    assert await IdempotentRequest.count() == 2


async def test_a_new_api_key_is_never_stored_and_never_replayed(
    app: Litestar, tenant_a: World
) -> None:
    owner = await key_with_role(tenant_a, Role.owner)
    headers = {**bearer(owner), **key("newkey-2")}
    async with AsyncTestClient(app=app) as client:
        first = await client.post("/api/v1/api-keys", json=NEW_KEY, headers=headers)
        issued = first.json()
        stored = await IdempotentRequest.select(IdempotentRequest.response_body)
        assert len(stored) == 1
        assert issued["key"] not in stored[0]["response_body"]
        assert issued["key"].split("_")[-1] not in stored[0]["response_body"]

        replay = await client.post(
            "/api/v1/api-keys", json=NEW_KEY, headers={**headers, "Accept-Language": "zh-Hant"}
        )
    error = replay.json()["error"]
    assert (replay.status_code, error["code"]) == (409, "secret_not_replayable")
    assert error["extra"] == {"id": issued["id"]}
    assert str(issued["id"]) in error["message"]
    assert "撤銷" in error["message"]
    assert issued["key"] not in replay.text
    assert await ApiKey.count() == 3  # tenant A's manager key, the owner key, the new one


async def test_a_purchase_reference_is_credited_once_whatever_the_header(
    client: AsyncTestClient, tenant_a: World
) -> None:
    from tests.api_support import one_point_per_ten_dollars

    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a)
    path = f"/api/v1/members/{member_no}/purchases"
    body = {"amount": "500.00", "reference": "REF-42"}
    plain = await client.post(path, json=body)
    with_k1 = await client.post(path, json=body, headers=key("K1"))
    with_k2 = await client.post(path, json=body, headers=key("K2"))
    assert plain.status_code == 201, plain.text
    assert (with_k1.status_code, with_k2.status_code) == (200, 200)
    entry = plain.json()["entry"]["id"]
    assert with_k1.json()["entry"]["id"] == entry == with_k2.json()["entry"]["id"]
    assert with_k1.json()["replayed"] is True
    assert await LedgerEntry.count() == 1
    assert await points_of(tenant_a, member_no) == 50
