"""A stored-value payment with a reference moves money once, whatever the Idempotency-Key.

The red-team review posted the same spend (``POS-9``) twice without the header and got two
debits; a top-up's reference was accepted and dropped. Real PostgreSQL, real app.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from litestar.testing import AsyncTestClient

from loyalchat.api_errors import MESSAGES
from loyalchat.context import Actor, tenant_context
from loyalchat.domain import Conflict
from loyalchat.i18n import translations
from loyalchat.ledger import stored_value
from loyalchat.ledger.tables import StoredValueEntry
from loyalchat.members.tables import Member
from loyalchat.scoping import new_row, scoped_count, scoped_select
from tests.api_support import add_member, bearer
from tests.fixtures import World

STAFF = Actor("staff", 1, "Owner")


async def _top_up(client: AsyncTestClient, member_no: str, amount: str) -> None:
    done = await client.post(
        f"/api/v1/members/{member_no}/stored-value/top-ups", json={"amount": amount}
    )
    assert done.status_code == 201, done.text


async def _balance(client: AsyncTestClient, member_no: str) -> str:
    return (await client.get(f"/api/v1/members/{member_no}")).json()["stored_value"]


async def test_a_spend_reference_is_debited_once_without_the_header(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    await _top_up(client, member_no, "20.00")
    url = f"/api/v1/members/{member_no}/stored-value/spends"
    first = await client.post(url, json={"amount": "7", "reference": "POS-9"})
    again = await client.post(url, json={"amount": "7", "reference": "POS-9"})
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert (again.json()["replayed"], again.json()["balance_after"]) == (True, "13.00")
    assert await _balance(client, member_no) == "13.00"


async def test_a_spend_reference_is_debited_once_whatever_the_header(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    await _top_up(client, member_no, "20.00")
    url = f"/api/v1/members/{member_no}/stored-value/spends"
    body = {"amount": "5.00", "reference": "POS-10"}
    answers = [
        await client.post(url, json=body),
        await client.post(url, json=body, headers={"Idempotency-Key": "K1"}),
        await client.post(url, json=body, headers={"Idempotency-Key": "K2"}),
    ]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await _balance(client, member_no) == "15.00"


async def test_a_top_up_keeps_its_reference_and_is_applied_once(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    url = f"/api/v1/members/{member_no}/stored-value/top-ups"
    first = await client.post(url, json={"amount": "50.00", "reference": "TILL-3"})
    assert (first.status_code, first.json()["reference"]) == (201, "TILL-3")
    again = await client.post(url, json={"amount": "50.00", "reference": "TILL-3"})
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    history = (await client.get(f"/api/v1/members/{member_no}/stored-value")).json()
    assert [e["reference"] for e in history["items"]] == ["TILL-3"]
    assert await _balance(client, member_no) == "50.00"


async def test_a_reference_reused_with_another_amount_is_409(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a)
    await _top_up(client, member_no, "20.00")
    url = f"/api/v1/members/{member_no}/stored-value/spends"
    await client.post(url, json={"amount": "7.00", "reference": "POS-11"})
    other = await client.post(
        url, json={"amount": "8.00", "reference": "POS-11"}, headers={"Accept-Language": "zh-HK"}
    )
    assert other.status_code == 409, other.text
    error = other.json()["error"]
    assert (error["code"], error["extra"]["amount"]) == ("reference_reused", "7.00")
    template = translations("zh-Hant").gettext(MESSAGES["reference_reused"])
    assert error["message"] == template % {"amount": "7.00"}
    assert await _balance(client, member_no) == "13.00"


async def test_a_spend_and_a_top_up_may_share_a_reference(
    client: AsyncTestClient, tenant_a: World
) -> None:
    """Once per (tenant, kind, reference): the refund of POS-12 is not the payment POS-12."""
    member_no = await add_member(tenant_a)
    base = f"/api/v1/members/{member_no}/stored-value"
    topped = await client.post(f"{base}/top-ups", json={"amount": "9.00", "reference": "POS-12"})
    spent = await client.post(f"{base}/spends", json={"amount": "9.00", "reference": "POS-12"})
    assert (topped.status_code, spent.status_code) == (201, 201)
    assert await _balance(client, member_no) == "0.00"


async def test_two_tenants_may_use_one_reference(
    client: AsyncTestClient, tenant_a: World, tenant_b: World
) -> None:
    mine, theirs = await add_member(tenant_a), await add_member(tenant_b)
    body = {"amount": "4.00", "reference": "POS-1"}
    ours = await client.post(f"/api/v1/members/{mine}/stored-value/top-ups", json=body)
    other = await client.post(
        f"/api/v1/members/{theirs}/stored-value/top-ups",
        json=body,
        headers=bearer(tenant_b.api_key),
    )
    assert (ours.status_code, other.status_code) == (201, 201), other.text
    assert ours.json()["id"] != other.json()["id"]


async def test_eight_concurrent_spends_with_one_reference_debit_once(tenant_a: World) -> None:
    """Each call on its own connection, as separate web workers: the unique key decides."""
    with tenant_context(tenant_a.id, STAFF):
        row = new_row(Member, member_no="T900001", seq=900001, name="Chan")
        await row.save()
        await stored_value.top_up(row.id, "100.00", key="seed")
        results = await asyncio.gather(
            *(
                stored_value.spend(row.id, "7.00", key=f"api:{i}", reference="POS-9")
                for i in range(8)
            )
        )
        assert len({r.id for r in results}) == 1
        assert sum(not r.replayed for r in results) == 1
        member = await scoped_select(Member, Member.stored_value).where(Member.id == row.id).first()
        assert Decimal(member["stored_value"]) == Decimal("93.00")
        spends = await scoped_count(StoredValueEntry).where(
            (StoredValueEntry.member == row.id) & (StoredValueEntry.kind == "spend")
        )
        assert spends == 1


async def test_a_long_reference_is_hashed_into_the_key(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        row = new_row(Member, member_no="T900002", seq=900002, name="Chan")
        await row.save()
        long = "R" * 150  # past the API's 100 (a service caller's), within the column
        first = await stored_value.top_up(row.id, "1.00", reference=long)
        again = await stored_value.top_up(row.id, "1.00", reference=long)
        assert (again.id, again.replayed, first.reference) == (first.id, True, long)
        assert len(first.idempotency_key) <= 200
        try:
            await stored_value.top_up(row.id, "2.00", reference=long)
        except Conflict as exc:
            assert exc.code == "reference_reused"
        else:
            raise AssertionError("another amount with the same reference was applied")
