"""GET /api/v1/members/{member_no}/receipts: a member's receipts with status, the fields
read with their confidences, the checks and the reasons; another shop's member is 404."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.context import Actor, tenant_context
from loyalchat.members import service as members
from loyalchat.receipts.tables import Receipt
from loyalchat.scoping import new_row, scoped_insert
from loyalchat.tenants.tables import Role, TenantStatus
from tests.api_support import add_member, bearer, key_with_role
from tests.fixtures import World, make_world

SYSTEM = Actor("system", label="receipts api test")
FIELDS = {
    "merchant": {"value": "DEMO CAFE", "confidence": 0.98, "box": [0.1, 0.05, 0.9, 0.1]},
    "date": {"value": "2026-12-01", "confidence": 0.95, "box": None},
    "total": {"value": "123.40", "confidence": 0.91, "box": [0.6, 0.7, 0.9, 0.75]},
    "receipt_no": None,
    "warnings": ["two totals"],
    "ocr_media_key": "internal-key",
    "lines": [{"text": "DEMO CAFE", "confidence": 0.98, "box": [0, 0, 1, 0.1]}],
}
CHECKS = [
    {"check": "merchant", "outcome": "pass", "reason": "", "detail": "DEMO CAFE", "params": {}},
    {"check": "date", "outcome": "fail", "reason": "too_old", "detail": "", "params": {}},
]


async def _receipt(world: World, member_no: str, **values: Any) -> int:
    """A receipt row as the pipeline leaves it (the pipeline itself: tests/test_receipt*)."""
    with tenant_context(world.id, SYSTEM):
        member = await members.get_member(member_no)
        row = new_row(
            Receipt,
            member=member.id,
            channel=values.pop("channel", "whatsapp"),
            media_key=values.pop("media_key", "k" * 64),
            fields=json.dumps(values.pop("fields", {})),
            checks=json.dumps(values.pop("checks", [])),
            reasons=json.dumps(values.pop("reasons", [])),
            **values,
        )
        return (await scoped_insert(Receipt, row).returning(Receipt.id))[0]["id"]


async def test_a_members_receipts_newest_first_with_fields_checks_and_reasons(
    client: AsyncTestClient, tenant_a: World
) -> None:
    member_no = await add_member(tenant_a, name="Chan")
    other_no = await add_member(tenant_a, name="Wong")
    credited = await _receipt(
        tenant_a,
        member_no,
        status="credited",
        merchant="DEMO CAFE",
        receipt_date=date(2026, 12, 1),
        total=Decimal("123.40"),
        total_confidence=0.91,
        amount=Decimal("123.40"),
        points=123,
        fields=FIELDS,
        checks=CHECKS[:1],
    )
    rejected = await _receipt(
        tenant_a,
        member_no,
        status="rejected",
        channel="webchat",
        reasons=["too_old"],
        checks=CHECKS,
        fields=FIELDS,
    )
    await _receipt(tenant_a, other_no, status="needs_review")  # another member's

    listed = await client.get(f"/api/v1/members/{member_no}/receipts")
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 20, 0)
    newest, oldest = page["items"]
    assert (newest["id"], oldest["id"]) == (rejected, credited)
    assert newest["status"] == "rejected" and newest["reasons"] == ["too_old"]
    assert newest["channel"] == "webchat"
    assert [c["check"] for c in newest["checks"]] == ["merchant", "date"]
    assert newest["checks"][1] == {
        "check": "date",
        "outcome": "fail",
        "reason": "too_old",
        "detail": "",
    }
    assert oldest["member_no"] == member_no
    assert (oldest["merchant"], oldest["date"], oldest["total"]) == (
        "DEMO CAFE",
        "2026-12-01",
        "123.40",
    )
    assert (oldest["amount"], oldest["points"], oldest["member_amount"]) == ("123.40", 123, None)
    assert oldest["fields"] == {
        "merchant": {"value": "DEMO CAFE", "confidence": 0.98},
        "date": {"value": "2026-12-01", "confidence": 0.95},
        "total": {"value": "123.40", "confidence": 0.91},
    }
    assert oldest["warnings"] == ["two totals"]
    assert "ocr_media_key" not in json.dumps(page) and "media_key" not in oldest
    assert oldest["created_at"] and oldest["decided_by"] == ""

    only = await client.get(f"/api/v1/members/{member_no}/receipts", params={"status": "credited"})
    assert [r["id"] for r in only.json()["items"]] == [credited]
    bad = await client.get(f"/api/v1/members/{member_no}/receipts", params={"status": "paid"})
    assert bad.status_code == 400


async def test_pages_of_receipts(client: AsyncTestClient, tenant_a: World) -> None:
    member_no = await add_member(tenant_a, name="Chan")
    ids = [await _receipt(tenant_a, member_no, status="credited") for _ in range(5)]
    first = (await client.get(f"/api/v1/members/{member_no}/receipts?limit=2")).json()
    second = (await client.get(f"/api/v1/members/{member_no}/receipts?limit=2&offset=2")).json()
    last = (await client.get(f"/api/v1/members/{member_no}/receipts?limit=2&offset=4")).json()
    assert first["total"] == second["total"] == last["total"] == 5
    seen = [r["id"] for page in (first, second, last) for r in page["items"]]
    assert seen == sorted(ids, reverse=True)
    for query in ("limit=0", "limit=101", "offset=-1", "limit=x"):
        answer = await client.get(f"/api/v1/members/{member_no}/receipts?{query}")
        assert answer.status_code == 400, query


async def test_another_shops_member_is_not_found(
    client: AsyncTestClient, tenant_a: World, tenant_b: World
) -> None:
    await add_member(tenant_b, name="Bravo first")
    theirs = await add_member(tenant_b, name="Bravo")  # M000002: A has no such member
    await _receipt(tenant_b, theirs, status="credited", merchant="BRAVO BAKERY")
    mine = await add_member(tenant_a, name="Alpha")
    await _receipt(tenant_a, mine, status="credited", merchant="ALPHA TEA")

    answer = await client.get(f"/api/v1/members/{theirs}/receipts")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "not_found"
    assert "BRAVO" not in answer.text
    own = (await client.get(f"/api/v1/members/{mine}/receipts")).json()
    assert [r["merchant"] for r in own["items"]] == ["ALPHA TEA"]
    async with AsyncTestClient(app=client.app) as b_client:
        b_client.headers.update(bearer(tenant_b.api_key))
        listed = (await b_client.get(f"/api/v1/members/{theirs}/receipts")).json()
    assert [r["merchant"] for r in listed["items"]] == ["BRAVO BAKERY"]


async def test_who_may_read_receipts(app: Litestar, tenant_a: World) -> None:
    member_no = await add_member(tenant_a, name="Chan")
    await _receipt(tenant_a, member_no, status="credited")
    cashier = await key_with_role(tenant_a, Role.cashier)
    waiting = await make_world("new-noodles", TenantStatus.pending_review)
    path = f"/api/v1/members/{member_no}/receipts"
    async with AsyncTestClient(app=app) as client:
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=bearer("lc_not_a_key"))).status_code == 401
        read = await client.get(path, headers=bearer(cashier))  # front-desk work
        assert read.status_code == 200 and read.json()["total"] == 1
        # A shop not yet approved sees nothing of its programme (tenants.access).
        denied = await client.get(path, headers=bearer(waiting.api_key))
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "tenant_not_active"


async def test_a_receipt_through_the_pipeline_is_listed_as_read(
    client: AsyncTestClient, tenant_a: World
) -> None:
    """A photo taken by receipts.service.receive and read by the real pipeline (tenant A
    has no receipt profile naming Demo Café: its merchant check refuses the receipt)."""
    from loyalchat.media import store
    from loyalchat.receipts import pipeline, service
    from loyalchat.tools.demo_receipt import draw_demo_receipt

    member_no = await add_member(tenant_a, name="Chan")
    with tenant_context(tenant_a.id, SYSTEM):
        member = await members.get_member(member_no)
        key = await store.save(draw_demo_receipt("123.40", date.today()), kind="chat_image")
        receipt_id = await service.receive(media_key=key, member_id=member.id, channel="webchat")
        done = await pipeline.process(receipt_id)

    listed = (await client.get(f"/api/v1/members/{member_no}/receipts")).json()
    (shown,) = listed["items"]
    assert (shown["id"], shown["status"], shown["channel"]) == (receipt_id, done.status, "webchat")
    assert shown["total"] == "123.40" and shown["merchant"] in ("DEMO CAFE", "示範咖啡")
    assert shown["fields"]["total"]["value"] == "123.40"
    assert 0 < shown["fields"]["total"]["confidence"] <= 1
    assert shown["fields"]["merchant"]["value"] == shown["merchant"]
    assert shown["checks"] and shown["reasons"] == done.reasons
