"""Decisions in the review queue through the real service (``receipts.review``): approving
credits points through the earning rules and the member gets the bot's message in their
conversation; rejecting tells the member the reason; asking for a clearer photo asks;
a second decision (a double click, two people) says who decided and credits once; every
decision is in the audit log with the staff member who made it; after a decision the
next receipt that waits opens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation, OutboundMessage
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.receipts.tables import Receipt
from loyalchat.rules import service as rules
from loyalchat.rules.schemas import RuleCreate
from loyalchat.rules.tables import RuleKind
from loyalchat.scoping import new_row, save_row, scoped_select
from loyalchat.tenants import audit
from tests.console_helpers import form_tokens, login, open_client, post_form
from tests.fixtures import World
from tests.receipt_review_helpers import member_of, plant_receipt
from tests.test_tasks_support import fresh_stub_broker


@pytest.fixture(autouse=True)
def stub_broker() -> Iterator[object]:
    # The replies' send jobs wait on the in-process broker; the outbox rows are the test.
    yield from fresh_stub_broker()  # type: ignore[misc]


async def _shop_with_member(world: World, locale: str = "en") -> tuple[int, int]:
    """A point per dollar, and a member with a web chat conversation (no window)."""
    member = await member_of(world.id, "Chan Tai Man")
    with tenant_context(world.id, Actor("system")):
        await rules.create_rule(
            RuleCreate(name="A point a dollar", kind=RuleKind.ratio, points_per_unit=Decimal(1))
        )
        conversation = new_row(
            Conversation, channel="webchat", sender="device-1", member=member.id, locale=locale
        )
        await save_row(conversation)
    return member.id, conversation.id


async def _rows(world: World, table, *columns, **where):
    with tenant_context(world.id, Actor("system")):
        query = scoped_select(table, *columns)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return await query


async def test_approve_with_a_corrected_amount_credits_once_and_tells_the_member(
    tenant_a: World,
) -> None:
    member_id, conversation_id = await _shop_with_member(tenant_a)
    first = await plant_receipt(
        tenant_a.id, member_id, conversation_id=conversation_id, age=timedelta(hours=3)
    )
    second = await plant_receipt(
        tenant_a.id,
        member_id,
        conversation_id=conversation_id,
        age=timedelta(hours=1),
        photo=None,
        total="50.00",
    )
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/receipts/{first}")
        token = form_tokens(page.text)[0]
        form = {"token": token, "amount": "120.40", "receipt_date": "2026-12-01", "note": "fixed"}
        done = await post_form(client, f"/console/receipts/{first}/approve", form)
        assert done.status_code == 303
        # On to the next receipt that waits, the list's filters kept.
        assert done.headers["location"] == f"/console/receipts/{second}"
        shown = await client.get(done.headers["location"])
        assert "Approved: 120 points for member M000001." in shown.text

        again = await post_form(client, f"/console/receipts/{first}/approve", form)
        assert again.status_code == 303
        assert again.headers["location"] == f"/console/receipts/{first}"
        decided = await client.get(again.headers["location"])
        assert f"already decided by {tenant_a.cashier.email}" in decided.text
        assert 'data-testid="approve-form"' not in decided.text
        assert 'data-testid="credited-points">120<' in decided.text

    receipt = (
        await _rows(
            tenant_a,
            Receipt,
            Receipt.status,
            Receipt.amount,
            Receipt.points,
            Receipt.decided_by,
            id=first,
        )
    )[0]
    assert receipt["status"] == "credited" and receipt["amount"] == Decimal("120.40")
    assert receipt["points"] == 120 and receipt["decided_by"] == tenant_a.cashier.email
    entries = await _rows(tenant_a, LedgerEntry, LedgerEntry.points, member=member_id)
    assert [e["points"] for e in entries] == [120]  # credited once
    told = await _rows(
        tenant_a, OutboundMessage, OutboundMessage.text, conversation=conversation_id
    )
    assert len(told) == 1 and "120" in told[0]["text"]
    await _audited(tenant_a, "receipt.approve", first)


async def _audited(world: World, action: str, receipt_id: int) -> None:
    """One audit entry of ``action`` on the receipt, by the signed-in cashier/owner."""
    with tenant_context(world.id, Actor("system")):
        logged = [r for r in await audit.entries(limit=50) if r["action"] == action]
    assert len(logged) == 1, logged
    entry = logged[0]
    assert entry["target"] == f"receipt:{receipt_id}"
    after = entry["after"] if isinstance(entry["after"], dict) else json.loads(entry["after"])
    assert after["by"] in (world.cashier.email, world.owner.email)
    assert entry["actor"].startswith("staff:")


async def test_reject_tells_the_member_the_reason_in_their_language(tenant_a: World) -> None:
    member_id, conversation_id = await _shop_with_member(tenant_a, locale="zh-Hant")
    receipt = await plant_receipt(tenant_a.id, member_id, conversation_id=conversation_id)
    async with open_client() as client:
        await login(client, tenant_a.owner.email)
        page = await client.get(f"/console/receipts/{receipt}")
        assert 'value="other_shop"' in page.text  # the reasons to choose from
        token = form_tokens(page.text)[0]
        done = await post_form(
            client,
            f"/console/receipts/{receipt}/reject",
            {"token": token, "reason": "other_shop", "note": "Bravo Bakery receipt"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/console/receipts"
        listed = await client.get("/console/receipts")
        assert "Nothing else to review" in listed.text
        twice = await post_form(
            client, f"/console/receipts/{receipt}/approve", {"token": token, "amount": "10"}
        )
        assert twice.status_code == 303
        assert "already decided by" in (await client.get(twice.headers["location"])).text
    row = (
        await _rows(tenant_a, Receipt, Receipt.status, Receipt.reasons, Receipt.note, id=receipt)
    )[0]
    assert row["status"] == "rejected" and row["note"] == "Bravo Bakery receipt"
    told = await _rows(
        tenant_a, OutboundMessage, OutboundMessage.text, conversation=conversation_id
    )
    assert len(told) == 1 and "這張收據來自其他商店。" in told[0]["text"], told
    assert await _rows(tenant_a, LedgerEntry, LedgerEntry.id, member=member_id) == []
    await _audited(tenant_a, "receipt.reject", receipt)


async def test_ask_for_a_clearer_photo(tenant_a: World) -> None:
    member_id, conversation_id = await _shop_with_member(tenant_a)
    receipt = await plant_receipt(tenant_a.id, member_id, conversation_id=conversation_id)
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/receipts/{receipt}")
        token = form_tokens(page.text)[0]
        done = await post_form(client, f"/console/receipts/{receipt}/ask", {"token": token})
        assert done.status_code == 303
        shown = await client.get(f"/console/receipts/{receipt}?status=rejected")
        assert "Asked for a clearer photo" in shown.text
    told = await _rows(
        tenant_a, OutboundMessage, OutboundMessage.text, conversation=conversation_id
    )
    assert len(told) == 1 and "photo" in told[0]["text"].lower()
    await _audited(tenant_a, "receipt.ask_clearer_photo", receipt)


async def test_a_receipt_without_a_total_needs_the_amount(tenant_a: World) -> None:
    member_id, conversation_id = await _shop_with_member(tenant_a)
    receipt = await plant_receipt(
        tenant_a.id, member_id, conversation_id=conversation_id, total=None, boxes=False
    )
    async with open_client() as client:
        await login(client, tenant_a.cashier.email)
        page = await client.get(f"/console/receipts/{receipt}")
        token = form_tokens(page.text)[0]
        empty = await post_form(
            client, f"/console/receipts/{receipt}/approve", {"token": token, "amount": ""}
        )
        assert empty.status_code == 400 and "No total was read" in empty.text
        done = await post_form(
            client, f"/console/receipts/{receipt}/approve", {"token": token, "amount": "35.5"}
        )
        assert done.status_code == 303
    entries = await _rows(tenant_a, LedgerEntry, LedgerEntry.points, member=member_id)
    assert [e["points"] for e in entries] == [35]


async def test_two_people_approving_at_once_credit_once(tenant_a: World) -> None:
    """The cashier and the owner press Approve on the same receipt at the same moment: one
    approval credits, the other is told who decided; one ledger entry, one message."""
    from litestar.testing import AsyncTestClient

    from loyalchat.app import create_app

    member_id, conversation_id = await _shop_with_member(tenant_a)
    receipt = await plant_receipt(tenant_a.id, member_id, conversation_id=conversation_id)
    app = create_app(run_workers=False)
    async with AsyncTestClient(app=app) as cashier, AsyncTestClient(app=app) as owner:
        await login(cashier, tenant_a.cashier.email)
        await login(owner, tenant_a.owner.email)
        tokens = [
            form_tokens((await who.get(f"/console/receipts/{receipt}")).text)[0]
            for who in (cashier, owner)
        ]
        sent = await asyncio.gather(
            *(
                post_form(who, f"/console/receipts/{receipt}/approve", {"token": token})
                for who, token in zip((cashier, owner), tokens, strict=True)
            )
        )
        assert [r.status_code for r in sent] == [303, 303]
        pages = [
            (await who.get(r.headers["location"])).text
            for who, r in zip((cashier, owner), sent, strict=True)
        ]
    approved = [p for p in pages if "Approved: 123 points" in p]
    refused = [p for p in pages if "This receipt was already decided by" in p]
    assert len(approved) == 1 and len(refused) == 1
    row = (await _rows(tenant_a, Receipt, Receipt.decided_by, id=receipt))[0]
    assert f"already decided by {row['decided_by']}" in refused[0]
    entries = await _rows(tenant_a, LedgerEntry, LedgerEntry.points, member=member_id)
    assert [e["points"] for e in entries] == [123]
    told = await _rows(tenant_a, OutboundMessage, OutboundMessage.id, conversation=conversation_id)
    assert len(told) == 1
