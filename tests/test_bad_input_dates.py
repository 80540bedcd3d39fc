"""Dates at the edge of the calendar: refused as bad input, never stored, never a 500.

PostgreSQL turns year 1 and year 9999 moments into ``-infinity``/``infinity`` (which
asyncpg reads back as naive ``datetime.min``/``max``), and moving them to UTC overflows.
Reward windows and rule dates are held to :data:`loyalchat.bounds.EARLIEST_DATE` ..
:data:`loyalchat.bounds.LATEST_DATE`; a row that already holds an extreme value still
shows and redeems without a server error.
"""

from __future__ import annotations

from datetime import date

import pytest
from litestar.testing import AsyncTestClient

from loyalchat.rewards.tables import Reward
from loyalchat.rules.tables import EarningRule
from tests.api_support import add_member, add_reward
from tests.console_helpers import login, open_client, post_form
from tests.fixtures import World
from tests.reward_helpers import REWARD_FORM
from tests.wallet_helpers import make_member, path_of

REWARD = {"name": {"en": "p"}, "points_cost": 1, "type": "coupon", "options": {"benefit": "x"}}
EXTREMES = [
    {"starts_at": "0001-01-01T00:00:00Z"},
    {"ends_at": "9999-12-31T23:59:59.999999Z"},
    {"starts_at": "0001-01-01T00:00:00+05:00"},
    {"ends_at": "9999-12-31T23:59:59-10:00"},
    {"starts_at": "1999-12-31T23:59:59Z"},
    {"ends_at": "3000-01-01T00:00:00Z"},
]


@pytest.mark.parametrize("window", EXTREMES)
async def test_api_refuses_a_reward_window_outside_the_calendar(
    client: AsyncTestClient, tenant_a: World, window: dict
) -> None:
    created = await client.post("/api/v1/rewards", json={**REWARD, **window})
    assert created.status_code == 422, created.text
    assert created.json()["error"]["code"] == "invalid_reward"
    assert await Reward.count() == 0

    reward_id = await add_reward(tenant_a)
    patched = await client.patch(f"/api/v1/rewards/{reward_id}", json=window)
    assert patched.status_code == 422, patched.text
    assert patched.json()["error"]["code"] == "invalid_reward"
    stored = await Reward.select(Reward.starts_at, Reward.ends_at).first()
    assert (stored["starts_at"], stored["ends_at"]) == (None, None)


async def test_api_accepts_the_edges_of_the_range(client: AsyncTestClient) -> None:
    created = await client.post(
        "/api/v1/rewards",
        json={**REWARD, "starts_at": "2000-01-01T00:00:00Z", "ends_at": "2999-12-31T23:59:59Z"},
    )
    assert created.status_code == 201, created.text


async def test_openapi_states_the_range() -> None:
    from loyalchat.openapi_inputs import input_schema
    from loyalchat.rewards.schemas import RewardCreate

    schema = input_schema(RewardCreate).to_schema()
    starts = schema["properties"]["starts_at"]
    [moment] = [choice for choice in starts["anyOf"] if choice.get("format") == "date-time"]
    assert moment["pattern"] == "^2[0-9]{3}-"


@pytest.mark.parametrize(
    "field,value", [("starts_at", "0001-01-01T00:00"), ("ends_at", "9999-12-31T23:59")]
)
async def test_console_reward_form_refuses_an_edge_date(
    tenant_a: World, field: str, value: str
) -> None:
    form = {**REWARD_FORM, field: value}
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        posted = await post_form(client, "/console/rewards", form)
    assert posted.status_code == 400, posted.text  # the form again, with the message
    assert "2000" in posted.text and "2999" in posted.text
    assert await Reward.count() == 0


@pytest.mark.parametrize("field,value", [("starts_on", "0001-01-01"), ("ends_on", "9999-12-31")])
async def test_console_rule_form_refuses_an_edge_date(
    tenant_a: World, field: str, value: str
) -> None:
    form = {"name": "1 point per HK$10", "kind": "ratio", "points_per_unit": "0.1", field: value}
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        posted = await post_form(client, "/console/rules", form)
    assert posted.status_code == 400, posted.text
    assert "2000" in posted.text and "2999" in posted.text
    assert await EarningRule.count() == 0


async def test_rules_service_refuses_an_edge_date(tenant_a: World) -> None:
    from loyalchat.domain import DomainError
    from loyalchat.rules import service as rules
    from loyalchat.rules.schemas import RuleCreate
    from tests.console_helpers import as_owner

    with as_owner(tenant_a), pytest.raises(DomainError) as refused:
        await rules.create_rule(
            RuleCreate(name="r", kind="ratio", points_per_unit=1, starts_on=date(1, 1, 1))
        )
    assert (refused.value.code, refused.value.extra["field"]) == ("invalid_rule", "starts_on")
    assert await EarningRule.count() == 0


async def test_a_row_already_holding_infinity_still_shows_and_redeems(
    app, client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=10)
    reward_id = await add_reward(tenant_a, points_cost=1)
    # What PostgreSQL stored before the range was enforced.
    await Reward.raw(
        "UPDATE reward SET starts_at = '-infinity', ends_at = 'infinity' WHERE id = {}", reward_id
    )
    redeemed = await client.post(
        f"/api/v1/members/{member_no}/redemptions", json={"reward_id": reward_id}
    )
    assert redeemed.status_code == 201, redeemed.text
    assert (await client.get(f"/api/v1/rewards/{reward_id}")).status_code == 200

    wallet_member = await make_member(tenant_a, 5, phone="98765432")
    wallet = await client.get(f"{path_of(tenant_a, wallet_member)}/rewards")
    assert wallet.status_code == 200 and "Free coffee" in wallet.text

    async with open_client() as console:
        await login(console, tenant_a.owner.email)
        listing = await console.get("/console/rewards")
        page = await console.get(f"/console/rewards/{reward_id}")
    assert listing.status_code == 200 and "Free coffee" in listing.text
    assert page.status_code == 200, page.text
