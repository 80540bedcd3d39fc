"""The console's "add a member" and "new reward" forms create once per form token.

A double click, or the browser sending the form again after a lost answer, finds the
row the first submission made (``create_member`` / ``create_reward`` with ``key``).
"""

from __future__ import annotations

from loyalchat.members.tables import Member
from loyalchat.rewards.tables import Reward
from tests.console_helpers import form_tokens, login, open_client, post_form
from tests.fixtures import World
from tests.test_console_rewards import REWARD_FORM


async def test_a_member_form_sent_twice_adds_one_member(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        token = form_tokens((await client.get("/console/members/new")).text)[0]
        form = {"token": token, "name": "Walk In", "phone": "+85291234000"}
        first = await post_form(client, "/console/members", form)
        second = await post_form(client, "/console/members", form)
        # A new page is a new form: another member.
        other = form_tokens((await client.get("/console/members/new")).text)[0]
        third = await post_form(client, "/console/members", {**form, "token": other})
    assert (first.status_code, second.status_code, third.status_code) == (303, 303, 303)
    assert second.headers["location"] == first.headers["location"]
    assert third.headers["location"] != first.headers["location"]
    assert await Member.count() == 2


async def test_a_member_form_shown_again_keeps_its_token(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        token = form_tokens((await client.get("/console/members/new")).text)[0]
        bad = await post_form(client, "/console/members", {"token": token, "email": "nope"})
    assert bad.status_code == 400
    assert form_tokens(bad.text) == [token]


async def test_a_reward_form_sent_twice_adds_one_reward(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        token = form_tokens((await client.get("/console/rewards/new")).text)[0]
        first = await post_form(client, "/console/rewards", {**REWARD_FORM, "token": token})
        second = await post_form(client, "/console/rewards", {**REWARD_FORM, "token": token})
    assert (first.status_code, second.status_code) == (303, 303)
    assert await Reward.count() == 1
