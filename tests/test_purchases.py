"""Purchases through the earning rules into the ledger: points, replays, daily cap, isolation."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from loyalchat import db
from loyalchat.context import Actor, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.hookimpl import hookimpl
from loyalchat.ledger import figures
from loyalchat.ledger import service as ledger
from loyalchat.ledger.tables import PointLot
from loyalchat.members.tables import Member
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.purchases import service
from loyalchat.rules import service as rule_service
from loyalchat.rules.schemas import PolicyIn, RuleCreate
from loyalchat.rules.tables import ExpiryPolicy, RuleKind
from loyalchat.scoping import new_row, scoped_select
from tests.fixtures import make_world

D = Decimal
CASHIER = Actor("staff", 2, "Cashier")
HK = ZoneInfo("Asia/Hong_Kong")


async def make_member(seq: int = 1) -> int:
    # The members service is another domain; a bare row is all a purchase needs.
    row = new_row(Member, member_no=f"M{seq:06d}", seq=seq)
    await row.save()
    return row.id


async def setup_rules(daily_cap: int | None = None) -> None:
    await rule_service.create_rule(
        RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=D(1))
    )
    await rule_service.create_rule(
        RuleCreate(name="Steps", kind=RuleKind.threshold, step_amount=D(1000), step_points=100)
    )
    if daily_cap is not None:
        await rule_service.set_policy(PolicyIn(daily_cap=daily_cap))


async def test_purchase_credits_the_rules_points(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        await rule_service.set_policy(PolicyIn(expiry=ExpiryPolicy.rolling, expiry_months=12))
        member = await make_member()
        before = datetime.now(UTC)
        out = await service.record_purchase(member, D("1000.00"), reference="POS-123")
        assert (out.points, out.balance, out.replayed) == (1100, 1100, False)
        assert out.calculation.base_points == 1100
        assert [line.points for line in out.calculation.lines] == [1000, 100]

        entry = await ledger.get_entry(out.entry_id)
        assert entry.kind == "earn"
        assert entry.idempotency_key == "purchase:POS-123"
        assert entry.reference == "purchase:POS-123"
        assert entry.actor == "staff:2"
        assert entry.details["amount"] == "1000.00"
        assert [line["name"]["en"] for line in entry.details["lines"]] == ["Base", "Steps"]

        lot = await scoped_select(PointLot).where(PointLot.entry == out.entry_id).first()
        expected = rule_service.expires_at(before, await rule_service.get_policy())
        assert expected.astimezone(HK).year == before.astimezone(HK).year + 1
        assert abs((lot["expires_at"] - expected).total_seconds()) < 60

        second = await service.record_purchase(member, D("12.34"), reference="POS-124")
        assert (second.points, second.balance) == (12, 1112)
        assert (await figures.audit_member(member)).ok


async def test_replay_with_the_same_key_credits_nothing_more(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        member = await make_member()
        first = await service.record_purchase(member, D("250.00"), reference="R-1")
        again = await service.record_purchase(member, D("250.00"), reference="R-1")
        assert again.replayed and not first.replayed
        assert (again.points, again.balance, again.entry_id) == (250, 250, first.entry_id)
        assert again.calculation == first.calculation

        keyed = await service.record_purchase(member, D("10.00"), reference="R-2", key="api:abc")
        # A retry under the same key returns the first result, whatever it now says.
        retried = await service.record_purchase(member, D("99.00"), reference="R-3", key="api:abc")
        assert retried.replayed and (retried.points, retried.entry_id) == (10, keyed.entry_id)
        page = await figures.history(member)
        assert page.total == 2
        assert sum(e.points for e in page.items) == 260


async def test_a_credited_purchase_tells_plugins_once(tenant_a) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.events = []

        @hookimpl
        def on_event(self, event) -> None:
            self.events.append(event)

    pm, recorder = current_plugin_manager(), Recorder()
    pm.register(recorder, name="purchases-recorder")
    try:
        with tenant_context(tenant_a.id, CASHIER):
            await setup_rules()
            member = await make_member()
            out = await service.record_purchase(member, D("42.00"), reference="EV")
            await service.record_purchase(member, D("42.00"), reference="EV")  # replay: silent
            await service.record_purchase(member, D("0.50"), reference="NONE")  # 0 points
    finally:
        pm.unregister(name="purchases-recorder")
    seen = [e for e in recorder.events if e.name == "points_credited"]
    assert [(e.tenant_id, e.data["points"], e.data["entry_id"]) for e in seen] == [
        (tenant_a.id, 42, out.entry_id)
    ]
    assert seen[0].data["reference"] == "purchase:EV" and seen[0].data["amount"] == "42.00"


async def test_a_key_used_for_another_member_is_a_conflict(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        alice, bob = await make_member(1), await make_member(2)
        await service.record_purchase(alice, D("10.00"), reference="SHARED")
        with pytest.raises(Conflict) as caught:
            await service.record_purchase(bob, D("10.00"), reference="SHARED")
        assert caught.value.code == "idempotency_conflict"
        assert (await figures.history(bob)).total == 0


async def test_a_purchase_that_earns_nothing_makes_no_entry(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await rule_service.create_rule(
            RuleCreate(name="Steps", kind=RuleKind.threshold, step_amount=D(1000), step_points=100)
        )
        member = await make_member()
        out = await service.record_purchase(member, D("999.99"), reference="SMALL")
        assert (out.points, out.balance, out.entry_id, out.replayed) == (0, 0, None, False)
        assert (await figures.history(member)).total == 0


async def test_the_purchase_date_picks_the_campaigns(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        await rule_service.create_rule(
            RuleCreate(name="Sunday", kind=RuleKind.campaign, multiplier=D(3), weekdays=[7])
        )
        member = await make_member()
        sunday = await service.record_purchase(
            member, D("100.00"), reference="SUN", on=date(2025, 6, 8)
        )
        monday = await service.record_purchase(
            member, D("100.00"), reference="MON", on=date(2025, 6, 9)
        )
        assert (sunday.points, monday.points) == (300, 100)


async def test_a_merged_member_earns_nothing(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        member = await make_member()
        first = await service.record_purchase(member, D("10.00"), reference="BEFORE")
        # What purchases.merge_members leaves behind (set directly: another domain's table).
        await Member.update({Member.status: "merged"}).where(Member.id == member)
        with pytest.raises(DomainError) as caught:
            await service.record_purchase(member, D("10.00"), reference="AFTER")
        assert caught.value.code == "member_merged"
        # A replay of an earlier purchase still answers with its first result.
        again = await service.record_purchase(member, D("10.00"), reference="BEFORE")
        assert again.replayed and again.entry_id == first.entry_id


@pytest.mark.parametrize(
    ("amount", "reference", "code"),
    [
        (D("0"), "R", "invalid_amount"),
        (D("-5.00"), "R", "invalid_amount"),
        (D("10.001"), "R", "invalid_amount"),
        (D("NaN"), "R", "invalid_amount"),
        (D("1000000000000"), "R", "invalid_amount"),
        (D("10.00"), "", "invalid_reference"),
        (D("10.00"), "   ", "invalid_reference"),
        (D("10.00"), "x" * 101, "invalid_reference"),
    ],
)
async def test_bad_purchases_are_refused(tenant_a, amount, reference, code) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        member = await make_member()
        with pytest.raises(DomainError) as caught:
            await service.record_purchase(member, amount, reference=reference)
        assert caught.value.code == code
        assert (await figures.history(member)).total == 0


async def test_float_amount_is_a_programming_error(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        member = await make_member()
        with pytest.raises(TypeError):
            await service.record_purchase(member, 10.5, reference="F")  # type: ignore[arg-type]


async def test_trailing_zeros_and_whole_amounts_are_fine(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        member = await make_member()
        out = await service.record_purchase(member, D("10.500"), reference="Z")
        assert out.points == 10 and out.calculation.amount == D("10.50")
        assert (await service.record_purchase(member, 20, reference="W")).points == 20


async def test_daily_cap_applies_across_purchases(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules(daily_cap=1000)
        member = await make_member()
        other = await make_member(2)
        first = await service.record_purchase(member, D("600.00"), reference="A")
        second = await service.record_purchase(member, D("600.00"), reference="B")
        third = await service.record_purchase(member, D("600.00"), reference="C")
        assert [first.points, second.points, third.points] == [600, 400, 0]
        assert (second.calculation.capped_by, third.entry_id) == ("daily", None)
        assert third.balance == 1000
        # The cap is per member.
        assert (await service.record_purchase(other, D("600.00"), reference="D")).points == 600


async def test_daily_cap_holds_under_64_concurrent_purchases(tenant_a) -> None:
    engine = db.current_engine()
    # A pool: the 64 purchases share 16 connections (a shared server has a connection
    # limit) and still contend for the member's row lock at once.
    await engine.start_connection_pool(min_size=4, max_size=16)
    try:
        with tenant_context(tenant_a.id, CASHIER):
            await rule_service.create_rule(
                RuleCreate(name="Base", kind=RuleKind.ratio, points_per_unit=D(1))
            )
            await rule_service.set_policy(PolicyIn(daily_cap=1000))
            member = await make_member()
            results = await asyncio.gather(
                *(
                    service.record_purchase(member, D("70.00"), reference=f"POS-{i}")
                    for i in range(64)
                )
            )
            earned = sorted((r.points for r in results), reverse=True)
            assert sum(earned) == 1000
            assert earned[:14] == [70] * 14 and earned[14] == 20 and set(earned[15:]) == {0}
            assert await figures.earned_on(member, datetime.now(HK).date(), HK) == 1000
            check = await figures.audit_member(member)
            assert check.ok and check.cached == 1000
            assert (await figures.history(member)).total == 15
    finally:
        await engine.close_connection_pool()


async def test_a_tenant_cannot_credit_anothers_member(tenant_a, tenant_b) -> None:
    with tenant_context(tenant_b.id, CASHIER):
        await setup_rules()
        b_member = await make_member()
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        with pytest.raises(NotFound):
            await service.record_purchase(b_member, D("100.00"), reference="X")
    with tenant_context(tenant_b.id, CASHIER):
        assert (await figures.audit_member(b_member)).cached == 0
        assert (await figures.history(b_member)).total == 0
        # B's own purchase with the same reference is not blocked by A's attempt.
        assert (await service.record_purchase(b_member, D("1.00"), reference="X")).points == 1


@pytest.mark.sqlite
async def test_purchases_on_sqlite(sqlite_db) -> None:
    world = await make_world("sqlite-shop")
    with tenant_context(world.id, CASHIER):
        await setup_rules(daily_cap=1500)
        await rule_service.create_rule(
            RuleCreate(name="Double", kind=RuleKind.campaign, multiplier=D("2"), weekdays=[])
        )
        await rule_service.set_policy(
            PolicyIn(expiry=ExpiryPolicy.yearly, expiry_month=12, expiry_day=31, daily_cap=1500)
        )
        rules = await rule_service.list_rules()
        assert [r.kind for r in rules] == ["ratio", "threshold", "campaign"]
        assert rules[1].step_amount == D("1000.00")
        member = await make_member()
        out = await service.record_purchase(member, D("500.50"), reference="S-1")
        assert (out.points, out.balance) == (1000, 1000)
        again = await service.record_purchase(member, D("500.50"), reference="S-1")
        assert again.replayed and again.balance == 1000
        concurrent = await asyncio.gather(
            *(
                service.record_purchase(member, D("100.00"), reference=f"S-{i}")
                for i in range(2, 10)
            )
        )
        assert sum(r.points for r in concurrent) == 500
        check = await figures.audit_member(member)
        assert check.ok and check.cached == 1500
        lot = await scoped_select(PointLot).where(PointLot.entry == out.entry_id).first()
        assert lot["expires_at"] is not None


async def test_manual_credits_expire_like_earned_points(tenant_a) -> None:
    with tenant_context(tenant_a.id, CASHIER):
        await rule_service.set_policy(PolicyIn(expiry=ExpiryPolicy.rolling, expiry_months=6))
        member = await make_member()
        added = await service.adjust_points(member, 80, key="adjust:t1", reason="goodwill")
        lot = await scoped_select(PointLot).where(PointLot.entry == added.id).first()
        assert lot["expires_at"] is not None
        assert lot["expires_at"].astimezone(HK).month == (datetime.now(HK).month + 5) % 12 + 1
        taken = await service.adjust_points(member, -30, key="adjust:t2", reason="mistake")
        assert (taken.points, taken.balance_after) == (-30, 50)


async def test_a_reference_reused_for_another_amount_is_refused(tenant_a) -> None:
    """The same reference with another amount is another sale, not a retry: 409, no credit."""
    with tenant_context(tenant_a.id, CASHIER):
        await setup_rules()
        member = await make_member()
        first = await service.record_purchase(member, D("50.00"), reference="POS-9")
        with pytest.raises(Conflict) as refused:
            await service.record_purchase(member, D("70.00"), reference="POS-9")
        assert refused.value.code == "reference_reused"
        assert refused.value.extra == {"amount": "50.00", "entry_id": first.entry_id}
        again = await service.record_purchase(member, D("50.00"), reference="POS-9")
        assert again.replayed and again.entry_id == first.entry_id
        assert (await figures.history(member)).total == 1
