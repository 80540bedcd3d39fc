"""The members and points API: /api/v1/members, ledger, purchases, adjustments, stored value."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.api_errors import MESSAGES
from loyalchat.i18n import translations
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members.tables import Member
from loyalchat.tenants.tables import Role
from tests.api_support import (
    add_member,
    bearer,
    key_with_role,
    one_point_per_ten_dollars,
    points_of,
)
from tests.fixtures import World

ZH = {"Accept-Language": "zh-HK,zh;q=0.9,en;q=0.5"}


async def test_create_get_update_member(client: AsyncTestClient) -> None:
    created = await client.post(
        "/api/v1/members", json={"name": "Chan Tai Man", "phone": "9123 4567"}
    )
    assert created.status_code == 201, created.text
    member = created.json()
    assert member["member_no"] == "M000001"
    assert (member["phone"], member["verified"], member["points"], member["stored_value"]) == (
        "+85291234567",
        True,
        0,
        "0.00",
    )
    assert "id" not in member  # the API speaks member numbers

    shown = await client.get("/api/v1/members/M000001")
    assert shown.json() == member

    patched = await client.patch("/api/v1/members/M000001", json={"email": "tm@example.com"})
    assert patched.status_code == 200
    assert patched.json()["email"] == "tm@example.com"
    assert patched.json()["name"] == "Chan Tai Man"  # left out: kept

    unknown_field = await client.patch("/api/v1/members/M000001", json={"points": 99999})
    assert unknown_field.status_code == 400
    assert unknown_field.json()["error"]["code"] == "invalid"


async def test_list_is_paginated_and_filtered(client: AsyncTestClient, tenant_a: World) -> None:
    for n in range(5):
        await add_member(tenant_a, name=f"Verified {n}", phone=f"9123 456{n}")
    await add_member(tenant_a)  # joined by a scan: unverified

    first = (await client.get("/api/v1/members", params={"limit": 2})).json()
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (6, 2, 0, 2)
    second = (await client.get("/api/v1/members", params={"limit": 2, "offset": 2})).json()
    assert {m["member_no"] for m in first["items"]}.isdisjoint(
        m["member_no"] for m in second["items"]
    )

    unverified = (await client.get("/api/v1/members", params={"verified": "false"})).json()
    assert [m["member_no"] for m in unverified["items"]] == ["M000006"]
    found = (await client.get("/api/v1/members", params={"q": "Verified 3"})).json()
    assert found["items"][0]["name"] == "Verified 3"

    too_many = await client.get("/api/v1/members", params={"limit": 101})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "invalid"


async def test_unknown_member_is_not_found_in_the_callers_language(
    client: AsyncTestClient,
) -> None:
    english = await client.get("/api/v1/members/M404")
    assert english.status_code == 404
    assert english.json()["error"]["code"] == "not_found"
    assert english.json()["error"]["message"] == MESSAGES["not_found"]

    chinese = await client.post(
        "/api/v1/members/M404/purchases",
        json={"amount": "10.00", "reference": "R1"},
        headers=ZH,
    )
    error = chinese.json()["error"]
    assert (chinese.status_code, error["code"]) == (404, "not_found")
    assert chinese.headers["content-language"] == "zh-Hant"
    assert error["title"] == "找不到頁面"
    assert error["message"] == translations("zh-Hant").gettext(MESSAGES["not_found"])


async def test_purchase_applies_rules_and_credits_once(
    client: AsyncTestClient, tenant_a: World
) -> None:
    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a, name="Wong")
    body = {"amount": "1000.00", "reference": "POS-123"}

    first = await client.post(f"/api/v1/members/{member_no}/purchases", json=body)
    assert first.status_code == 201, first.text
    result = first.json()
    assert (result["points"], result["balance"], result["amount"]) == (100, 100, "1000.00")
    assert result["entry"]["kind"] == "earn"
    assert result["entry"]["reference"] == "purchase:POS-123"
    assert result["entry"]["actor_label"] == "alpha-tea key"

    # No Idempotency-Key: the reference alone stops a double credit.
    again = await client.post(f"/api/v1/members/{member_no}/purchases", json=body)
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["entry"]["id"] == result["entry"]["id"]
    assert await points_of(tenant_a, member_no) == 100
    assert await LedgerEntry.count() == 1


@pytest.mark.parametrize("amount", [1000.5, 1000, "1e3", "12.345", "-5.00", "abc"])
async def test_money_must_be_a_decimal_string(
    client: AsyncTestClient, tenant_a: World, amount: object
) -> None:
    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a)
    response = await client.post(
        f"/api/v1/members/{member_no}/purchases", json={"amount": amount, "reference": "R1"}
    )
    error = response.json()["error"]
    if isinstance(amount, str):
        assert (response.status_code, error["code"]) == (422, "invalid_amount")
    else:
        assert (response.status_code, error["code"]) == (400, "amount_not_string")
        assert '"1000.00"' in error["message"]
    assert await LedgerEntry.count() == 0


async def test_adjustments_need_the_manager_role(
    app: Litestar, client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, points=100)
    cashier = await key_with_role(tenant_a, Role.cashier)
    body = {"points": -50, "reason": "credited twice"}

    denied = await client.post(
        f"/api/v1/members/{member_no}/adjustments", json=body, headers=bearer(cashier)
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    assert await points_of(tenant_a, member_no) == 100

    done = await client.post(f"/api/v1/members/{member_no}/adjustments", json=body)
    assert done.status_code == 201, done.text
    entry = done.json()
    assert (entry["kind"], entry["points"], entry["balance_after"]) == ("adjust", -50, 50)
    assert entry["reason"] == "credited twice"

    no_reason = await client.post(
        f"/api/v1/members/{member_no}/adjustments", json={"points": 5, "reason": " "}
    )
    assert no_reason.json()["error"]["code"] == "reason_required"


async def test_insufficient_points_speaks_chinese(client: AsyncTestClient, tenant_a: World) -> None:
    member_no = await add_member(tenant_a, points=20)
    response = await client.post(
        f"/api/v1/members/{member_no}/adjustments",
        json={"points": -50, "reason": "wrong"},
        headers=ZH,
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (409, "insufficient_points")
    assert error["title"] == "資料衝突"
    assert error["extra"] == {"balance": 20, "needed": 50}
    expected = translations("zh-Hant").gettext(MESSAGES["insufficient_points"])
    assert error["message"] == expected % {"balance": "20", "needed": "50"}
    assert await points_of(tenant_a, member_no) == 20


async def test_ledger_history_is_paginated(client: AsyncTestClient, tenant_a: World) -> None:
    await one_point_per_ten_dollars(tenant_a)
    member_no = await add_member(tenant_a)
    for n in range(3):
        await client.post(
            f"/api/v1/members/{member_no}/purchases",
            json={"amount": "100.00", "reference": f"R{n}"},
        )
    page = (await client.get(f"/api/v1/members/{member_no}/ledger", params={"limit": 2})).json()
    assert (page["total"], len(page["items"])) == (3, 2)
    assert [e["balance_after"] for e in page["items"]] == [30, 20]
    rest = await client.get(f"/api/v1/members/{member_no}/ledger", params={"offset": 2})
    assert [e["reference"] for e in rest.json()["items"]] == ["purchase:R0"]


async def test_stored_value_top_up_and_spend(client: AsyncTestClient, tenant_a: World) -> None:
    member_no = await add_member(tenant_a)
    base = f"/api/v1/members/{member_no}/stored-value"
    topped = await client.post(f"{base}/top-ups", json={"amount": "50.00"})
    assert topped.status_code == 201, topped.text
    assert (topped.json()["amount"], topped.json()["balance_after"]) == ("50.00", "50.00")
    spent = await client.post(f"{base}/spends", json={"amount": "38.50", "reference": "POS-9"})
    assert spent.json()["balance_after"] == "11.50"
    short = await client.post(f"{base}/spends", json={"amount": "20.00"})
    assert (short.status_code, short.json()["error"]["code"]) == (
        409,
        "insufficient_stored_value",
    )
    as_number = await client.post(f"{base}/top-ups", json={"amount": 5})
    assert as_number.json()["error"]["code"] == "amount_not_string"
    member = (await client.get(f"/api/v1/members/{member_no}")).json()
    assert member["stored_value"] == "11.50"
    history = (await client.get(base)).json()
    assert [e["kind"] for e in history["items"]] == ["spend", "topup"]


async def test_other_tenants_members_are_not_found(
    app: Litestar, tenant_a: World, tenant_b: World
) -> None:
    await one_point_per_ten_dollars(tenant_b)
    b_member = await add_member(tenant_b, points=500, name="Bravo customer", phone="9123 0000")
    before = await Member.select().where(Member.tenant == tenant_b.id)
    async with AsyncTestClient(app=app) as client:
        client.headers.update(bearer(tenant_a.api_key))
        for method, path, body in [
            ("GET", f"/api/v1/members/{b_member}", None),
            ("PATCH", f"/api/v1/members/{b_member}", {"name": "hijacked"}),
            ("GET", f"/api/v1/members/{b_member}/ledger", None),
            ("POST", f"/api/v1/members/{b_member}/purchases", {"amount": "9.00"}),
            ("POST", f"/api/v1/members/{b_member}/adjustments", {"points": -500, "reason": "x"}),
        ]:
            response = await client.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
        listed = await client.get("/api/v1/members", params={"q": "Bravo"})
        assert listed.json()["total"] == 0
    assert await Member.select().where(Member.tenant == tenant_b.id) == before


async def test_openapi_documents_the_member_routes_with_examples(client: AsyncTestClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/members", "get"),
        ("/api/v1/members", "post"),
        ("/api/v1/members/{member_no}", "patch"),
        ("/api/v1/members/{member_no}/ledger", "get"),
        ("/api/v1/members/{member_no}/purchases", "post"),
        ("/api/v1/members/{member_no}/adjustments", "post"),
        ("/api/v1/members/{member_no}/stored-value/top-ups", "post"),
    ]:
        assert method in paths[path], (method, path)
    purchase = paths["/api/v1/members/{member_no}/purchases"]["post"]
    assert purchase["requestBody"]["content"]["application/json"]["schema"]["examples"] == [
        {"amount": "1000.00", "reference": "POS-123"}
    ]
    assert any(p["name"] == "Idempotency-Key" for p in purchase["parameters"])
    errors = purchase["responses"]["400"]["content"]["application/json"]["examples"]
    assert {e["summary"] for e in errors.values()} >= {"invalid", "amount_not_string"}
    member = spec["components"]["schemas"]["Member"]["properties"]
    assert member["stored_value"]["type"] == "string"
    assert member["points"]["examples"] == [1250]
