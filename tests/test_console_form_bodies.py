"""Console forms read only what a browser sends as a form: a JSON body, invalid UTF-8 or a
NUL in a field name is refused (400), never read as an empty form that blanks a member; a
rule form refuses NaN and weekdays it does not offer."""

from __future__ import annotations

import pytest

from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.rules import service as rules
from tests.console_helpers import as_owner, login, open_client, post_form
from tests.fixtures import World

PROFILE = {"name": "Amy Chan", "phone": "9123 4567", "notes": "likes oolong"}
UNCHANGED = ("Amy Chan", "+85291234567", "likes oolong")


async def _member(world: World) -> members.MemberOut:
    with as_owner(world):
        return await members.create_member(MemberCreate(**PROFILE))


async def _stored(world: World, member_id: int) -> tuple[str, str, str]:
    with as_owner(world):
        member = await members.get_member_by_id(member_id)
    return member.name, member.phone, member.notes


def _csrf(client) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("lc_csrf", "")}


async def test_a_json_body_on_a_console_form_is_refused_and_changes_nothing(
    tenant_a: World,
) -> None:
    member = await _member(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await client.post(
            f"/console/members/{member.id}/profile",
            json={"name": "Mallory"},
            headers=_csrf(client),
            follow_redirects=False,
        )
    assert response.status_code == 400, response.text
    assert await _stored(tenant_a, member.id) == UNCHANGED


async def test_a_profile_form_without_its_fields_changes_nothing(tenant_a: World) -> None:
    member = await _member(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, f"/console/members/{member.id}/profile", {"x": "1"})
        partial = await post_form(
            client, f"/console/members/{member.id}/profile", {"notes": "green tea"}
        )
    assert response.status_code == 400, response.text
    assert partial.status_code == 303
    assert await _stored(tenant_a, member.id) == ("Amy Chan", "+85291234567", "green tea")


@pytest.mark.parametrize(
    "disposition",
    ['form-data; name="na\x00me"', 'form-data; name="name\x00"', "form-data; name=na\x00me"],
)
async def test_a_nul_in_a_multipart_field_name_is_refused(
    tenant_a: World, disposition: str
) -> None:
    member = await _member(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        body = (f"--XX\r\nContent-Disposition: {disposition}\r\n\r\nMallory\r\n--XX--\r\n").encode()
        response = await client.post(
            f"/console/members/{member.id}/profile",
            content=body,
            headers={**_csrf(client), "content-type": "multipart/form-data; boundary=XX"},
            follow_redirects=False,
        )
    assert response.status_code == 400, response.text
    assert await _stored(tenant_a, member.id) == UNCHANGED


@pytest.mark.parametrize("multipart", [False, True])
async def test_invalid_utf8_in_a_form_is_refused(tenant_a: World, multipart: bool) -> None:
    member = await _member(tenant_a)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        token = client.cookies.get("lc_csrf", "")
        if multipart:
            body = (
                b'--XX\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n'
                + token.encode()
                + b'\r\n--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nAmy\xc3'
                b"\r\n--XX--\r\n"
            )
            kind = "multipart/form-data; boundary=XX"
        else:
            body = b"name=Amy%C3&phone=91234567&_csrf_token=" + token.encode()
            kind = "application/x-www-form-urlencoded"
        response = await client.post(
            f"/console/members/{member.id}/profile",
            content=body,
            headers={"content-type": kind},
            follow_redirects=False,
        )
    assert response.status_code == 400, response.text
    assert await _stored(tenant_a, member.id) == UNCHANGED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_spend", "NaN"),
        ("min_spend", "Infinity"),
        ("min_spend", "inf"),
        ("points_per_unit", "NaN"),
        ("weekdays", "9"),
        ("weekdays", "-1"),
        ("weekdays", "0"),
    ],
)
async def test_a_rule_form_refuses_values_it_does_not_offer(
    tenant_a: World, field: str, value: str
) -> None:
    fields = {"name": "Base", "kind": "ratio", "points_per_unit": "1", "active": "1"}
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        response = await post_form(client, "/console/rules", {**fields, field: value})
    assert response.status_code == 400, response.text
    with as_owner(tenant_a):
        assert await rules.list_rules() == []


@pytest.mark.parametrize("amount", ["1e3", "1_000", "１００", "0x10", "+50", "50.", "Infinity"])
def test_a_stored_value_reward_amount_is_written_in_ascii_decimals(amount: str) -> None:
    from loyalchat.plugins.stored_value import StoredValueReward

    with pytest.raises(ValueError):
        StoredValueReward().validate_options({"amount": amount})


@pytest.mark.parametrize(("amount", "stored"), [("50", "50.00"), (" 0.5 ", "0.50")])
def test_a_stored_value_reward_amount_in_plain_decimals_is_kept(amount: str, stored: str) -> None:
    from loyalchat.plugins.stored_value import StoredValueReward

    assert StoredValueReward().validate_options({"amount": amount})["amount"] == stored
