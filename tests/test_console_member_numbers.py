"""Managers set the member-number format in the console; new members get numbers in it."""

from __future__ import annotations

from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World


async def test_a_manager_sets_the_format_new_members_get(tenant_a: World, tenant_b: World) -> None:
    with as_owner(tenant_a):
        first = await members.create_member(MemberCreate(name="Before"))
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get("/console/members/numbers")
        assert page.status_code == 200 and "M000123" in page.text  # the example number
        saved = await post_form(
            client, "/console/members/numbers", {"number_format": "HK-{seq:05d}"}
        )
        assert saved.status_code == 303
        shown = await client.get("/console/members/numbers")
        assert "HK-00123" in shown.text
        bad = await post_form(client, "/console/members/numbers", {"number_format": "M {seq}"})
        assert bad.status_code == 400 and "e.g. M{seq:06d}" in bad.text
        listed = await client.get("/console/members")
        assert 'data-testid="member-numbers"' in listed.text
    with as_owner(tenant_a):
        second = await members.create_member(MemberCreate(name="After"))
        assert (first.member_no, second.member_no) == ("M000001", "HK-00002")
        assert await members.number_format() == "HK-{seq:05d}"
    with as_owner(tenant_b):
        assert await members.number_format() == "M{seq:06d}"


async def test_cashiers_cannot_change_the_format(tenant_a: World) -> None:
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        assert (await client.get("/console/members/numbers")).status_code == 403
        posted = await post_form(client, "/console/members/numbers", {"number_format": "X{seq}"})
        assert posted.status_code == 403
        listed = await client.get("/console/members")
        assert 'data-testid="member-numbers"' not in listed.text
    with as_owner(tenant_a):
        assert await members.number_format() == "M{seq:06d}"
