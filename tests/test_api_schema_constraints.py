"""The OpenAPI document states the constraints the API enforces, and the API keeps them.

What the review found: the document allowed bodies the API refused (clients and fuzzers
sent them), and bounds nobody enforced let poison rows in (a reward valid 999,999,999 days
made every redemption a 500).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.bounds import INT32_MAX
from loyalchat.context import tenant_context
from loyalchat.ledger.tables import LedgerEntry, StoredValueEntry
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import MAX_VALIDITY_DAYS, RewardCreate
from loyalchat.rewards.tables import Reward
from tests.api_support import SYSTEM, add_member, add_reward, one_point_per_ten_dollars
from tests.fixtures import World

COFFEE = {"name": "Coffee", "points_cost": 100, "type": "coupon", "options": {"benefit": "x"}}


def _body_schema(app: Litestar, path: str, method: str = "post") -> dict[str, Any]:
    document = app.openapi_schema.to_schema()
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_the_document_states_the_bounds(app: Litestar) -> None:
    reward = _body_schema(app, "/api/v1/rewards")
    assert reward["additionalProperties"] is False
    props = reward["properties"]
    validity = props["validity_days"]["anyOf"][0]
    assert (validity["minimum"], validity["maximum"]) == (1, MAX_VALIDITY_DAYS)
    assert props["stock"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": INT32_MAX}
    assert props["position"]["maximum"] == INT32_MAX
    assert props["name"]["anyOf"][0]["propertyNames"]["enum"] == ["en", "zh-Hans", "zh-Hant"]
    patch = _body_schema(app, "/api/v1/rewards/{reward_id}", "patch")["properties"]
    assert patch["points_cost"]["maximum"] == 100_000_000

    member = _body_schema(app, "/api/v1/members")["properties"]
    assert member["tags"]["maxItems"] == 20 and member["tags"]["items"]["maxLength"] == 32
    assert member["locale"]["enum"] == ["", "en", "zh-Hans", "zh-Hant"]

    purchase = _body_schema(app, "/api/v1/members/{member_no}/purchases")["properties"]
    assert purchase["amount"]["pattern"].startswith("^(?:[1-9][0-9]{0,11}")
    adjust = _body_schema(app, "/api/v1/members/{member_no}/adjustments")["properties"]
    assert adjust["points"]["not"] == {"const": 0} and adjust["reason"]["pattern"] == r"\S"
    redeem = _body_schema(app, "/api/v1/members/{member_no}/redemptions")["properties"]
    assert redeem["reward_id"]["maximum"] == INT32_MAX


@pytest.mark.parametrize(
    "field, value",
    [
        ("validity_days", 999_999_999),
        ("validity_days", MAX_VALIDITY_DAYS + 1),
        ("stock", 3_000_000_000),
        ("position", 3_000_000_000),
        ("points_cost", 3_000_000_000),
        ("per_member_limit", 3_000_000_000),
    ],
)
async def test_out_of_range_rewards_are_refused(
    client: AsyncTestClient, tenant_a: World, field: str, value: int
) -> None:
    response = await client.post("/api/v1/rewards", json={**COFFEE, field: value})
    assert response.status_code == 400, response.text
    # The console builds the struct itself: the catalogue checks the same bound.
    with tenant_context(tenant_a.id, SYSTEM):
        with pytest.raises(rewards.InvalidReward) as refused:
            await rewards.create_reward(RewardCreate(**{**COFFEE, field: value}))
    assert field in refused.value.extra["errors"]
    assert await Reward.count() == 0


async def test_a_reward_valid_for_the_longest_time_can_be_redeemed(
    client: AsyncTestClient, tenant_a: World
) -> None:
    created = await client.post(
        "/api/v1/rewards", json={**COFFEE, "validity_days": MAX_VALIDITY_DAYS}
    )
    assert created.status_code == 201, created.text
    member_no = await add_member(tenant_a, points=500)
    redeemed = await client.post(
        f"/api/v1/members/{member_no}/redemptions", json={"reward_id": created.json()["id"]}
    )
    assert redeemed.status_code == 201, redeemed.text
    grant = redeemed.json()
    issued, expires = (datetime.fromisoformat(grant[key]) for key in ("issued_at", "expires_at"))
    assert expires - issued == timedelta(days=MAX_VALIDITY_DAYS)


async def test_an_old_row_past_the_cap_does_not_break_redemption(
    client: AsyncTestClient, tenant_a: World
) -> None:
    reward_id = await add_reward(tenant_a, validity_days=30)
    # A row saved before the cap existed.
    await Reward.update({Reward.validity_days: 999_999_999}).where(Reward.id == reward_id)
    member_no = await add_member(tenant_a, points=500)
    redeemed = await client.post(
        f"/api/v1/members/{member_no}/redemptions", json={"reward_id": reward_id}
    )
    assert redeemed.status_code == 201, redeemed.text


@pytest.mark.parametrize("amount", ["１００", "１００.００", "0", "0.00", "01.50", "1.5e2", " 10"])
async def test_only_ascii_decimal_amounts_above_zero(
    client: AsyncTestClient, tenant_a: World, amount: str
) -> None:
    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a)
    for route in ("purchases", "stored-value/top-ups"):
        response = await client.post(
            f"/api/v1/members/{member_no}/{route}", json={"amount": amount, "reference": "R1"}
        )
        error = response.json()["error"]
        assert (response.status_code, error["code"]) == (422, "invalid_amount"), route
    assert await LedgerEntry.count() == 0 and await StoredValueEntry.count() == 0


async def test_stored_value_amounts_stop_at_the_documented_cap(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    top_up = f"/api/v1/members/{member_no}/stored-value/top-ups"
    assert (await client.post(top_up, json={"amount": "1000000.00"})).status_code == 201
    over = await client.post(top_up, json={"amount": "1000000.01"})
    assert (over.status_code, over.json()["error"]["code"]) == (422, "invalid_amount")


async def test_bodies_with_unknown_or_oversized_fields_are_refused(
    client: AsyncTestClient, tenant_a: World
) -> None:
    too_many_tags = await client.post(
        "/api/v1/members", json={"tags": [f"t{n}" for n in range(21)]}
    )
    assert too_many_tags.status_code == 400
    bad_language = await client.post("/api/v1/rewards", json={**COFFEE, "name": {"fr": "Café"}})
    assert bad_language.status_code == 400
    member_no = await add_member(tenant_a, points=10)
    huge = await client.post(
        f"/api/v1/members/{member_no}/adjustments", json={"points": 100_000_001, "reason": "x"}
    )
    assert huge.status_code == 400
    assert await LedgerEntry.count() == 1  # the seed
