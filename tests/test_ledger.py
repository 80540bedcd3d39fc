"""The points ledger (DESIGN.md section 5, invariant 2): tests that try to create or lose points.

Concurrency runs on the real PostgreSQL test database (every query on its own
connection, as separate web workers would) and on SQLite.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.ledger import figures, stored_value
from loyalchat.ledger import service as ledger
from loyalchat.ledger.tables import LedgerEntry, LotDraw, PointLot
from loyalchat.members.tables import Member
from loyalchat.scoping import new_row, scoped_select
from tests.fixtures import World

STAFF = Actor("staff", 1, "Owner")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
_seq = iter(range(1, 10**6))


async def make_member(name: str = "Chan Tai Man") -> int:
    seq = next(_seq)
    row = new_row(Member, member_no=f"T{seq:06d}", seq=seq, name=name)
    await row.save()
    return row.id


async def balance(member_id: int) -> int:
    return (await scoped_select(Member, Member.points).where(Member.id == member_id).first())[
        "points"
    ]


async def assert_consistent(member_id: int) -> None:
    check = await figures.audit_member(member_id)
    assert check.ok, check


async def test_earn_credits_once_per_key(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        first = await ledger.earn(member, 120, key="purchase:POS-1", reference="purchase:POS-1")
        again = await ledger.earn(member, 120, key="purchase:POS-1", reference="purchase:POS-1")
        assert (first.balance_after, first.replayed) == (120, False)
        assert (again.id, again.replayed) == (first.id, True)
        assert await balance(member) == 120
        assert first.actor == "staff:1" and first.actor_label == "Owner"
        await assert_consistent(member)


async def test_a_key_belongs_to_one_member(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        one, two = await make_member(), await make_member()
        await ledger.earn(one, 10, key="k1")
        with pytest.raises(Conflict) as err:
            await ledger.earn(two, 10, key="k1")
        assert err.value.code == "idempotency_conflict"
        assert await balance(two) == 0


@pytest.mark.parametrize("points", [0, -5, 10**9])
async def test_points_out_of_range_are_refused(tenant_a: World, points: int) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        with pytest.raises(DomainError) as err:
            await ledger.earn(member, points, key=f"bad:{points}")
        assert err.value.code == "invalid_points"
        assert await balance(member) == 0


async def test_debits_take_the_oldest_expiring_lot_first(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        await ledger.earn(member, 30, key="never")  # never expires: spent last
        late = await ledger.earn(member, 100, key="late", expires_at=NOW + timedelta(days=10))
        soon = await ledger.earn(member, 50, key="soon", expires_at=NOW + timedelta(days=5))
        await ledger.debit(member, 60, key="redeem:1")
        lots = {
            r["entry"]: r["remaining"]
            for r in await scoped_select(PointLot, PointLot.entry, PointLot.remaining)
        }
        assert lots[soon.id] == 0 and lots[late.id] == 90
        assert sorted(lots.values()) == [0, 30, 90]
        assert await balance(member) == 120
        await assert_consistent(member)


async def test_a_short_balance_is_refused_and_changes_nothing(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        await ledger.earn(member, 40, key="e1")
        with pytest.raises(ledger.InsufficientPoints) as err:
            await ledger.debit(member, 41, key="redeem:x")
        assert err.value.code == "insufficient_points" and err.value.extra["balance"] == 40
        assert await balance(member) == 40
        assert await ledger.entry_by_key("redeem:x") is None
        await assert_consistent(member)


async def test_adjustments_need_a_reason_and_can_go_both_ways(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        with pytest.raises(DomainError) as err:
            await ledger.adjust(member, 50, key="adjust:t1", reason=" ")
        assert err.value.code == "reason_required"
        await ledger.adjust(member, 50, key="adjust:t1", reason="welcome gift")
        entry = await ledger.adjust(member, -20, key="adjust:t2", reason="double credit")
        assert (entry.kind, entry.points, entry.balance_after) == ("adjust", -20, 30)
        with pytest.raises(ledger.InsufficientPoints):
            await ledger.adjust(member, -31, key="adjust:t3", reason="too much")
        await assert_consistent(member)


async def test_expiry_takes_what_is_left_of_a_lot_once(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        await ledger.earn(member, 100, key="old", expires_at=NOW - timedelta(days=1))
        await ledger.earn(member, 25, key="new", expires_at=NOW + timedelta(days=300))
        await ledger.debit(member, 30, key="redeem:1")  # from the old lot: 70 left there
        assert await ledger.expire_due(NOW) == 70
        assert await ledger.expire_due(NOW) == 0
        assert await balance(member) == 25
        kinds = [e.kind for e in (await figures.history(member)).items]
        assert kinds == ["expire", "redeem", "earn", "earn"]
        await assert_consistent(member)


async def test_reversing_a_redemption_gives_points_back_to_their_lots(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        lot_entry = await ledger.earn(member, 80, key="e", expires_at=NOW + timedelta(days=30))
        redeem = await ledger.debit(member, 60, key="redeem:9")
        back = await ledger.reverse(redeem.id, key="void:9", reason="coupon voided")
        assert (back.kind, back.points, back.balance_after, back.reverses) == (
            "reverse",
            60,
            80,
            redeem.id,
        )
        lot = (
            await scoped_select(PointLot, PointLot.remaining)
            .where(PointLot.entry == lot_entry.id)
            .first()
        )
        assert lot["remaining"] == 80
        again = await ledger.reverse(redeem.id, key="void:9", reason="coupon voided")
        assert again.replayed and await balance(member) == 80
        with pytest.raises(Conflict) as err:
            await ledger.reverse(redeem.id, key="void:other", reason="twice")
        assert err.value.code == "already_reversed"
        await assert_consistent(member)


async def test_a_refund_into_an_expired_lot_expires_again(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        await ledger.earn(member, 50, key="e", expires_at=NOW + timedelta(days=1))
        redeem = await ledger.debit(member, 50, key="redeem:1")
        assert await ledger.expire_due(NOW + timedelta(days=2)) == 0  # nothing left in it
        await ledger.reverse(redeem.id, key="void:1", reason="voided")
        assert await balance(member) == 50
        assert await ledger.expire_due(NOW + timedelta(days=2)) == 50
        assert await balance(member) == 0
        await assert_consistent(member)


async def test_reversing_a_credit_needs_the_points_still_there(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        credit = await ledger.earn(member, 40, key="receipt:1")
        await ledger.debit(member, 30, key="redeem:1")
        with pytest.raises(ledger.InsufficientPoints):
            await ledger.reverse(credit.id, key="reverse:receipt:1", reason="fake receipt")
        await ledger.earn(member, 100, key="receipt:2")
        await ledger.reverse(credit.id, key="reverse:receipt:1", reason="fake receipt")
        assert await balance(member) == 70
        await assert_consistent(member)


async def test_merging_moves_points_with_their_expiry_and_stored_value(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        keep, absorb = await make_member(), await make_member()
        expiry = NOW + timedelta(days=40)
        await ledger.earn(absorb, 70, key="a", expires_at=expiry)
        await stored_value.top_up(absorb, "55.50", key="topup:1")
        assert await ledger.transfer_all(absorb, keep, key_prefix="merge:2") == 70
        assert await ledger.transfer_all(absorb, keep, key_prefix="merge:2") == 0
        assert (await balance(keep), await balance(absorb)) == (70, 0)
        lot = (
            await scoped_select(PointLot, PointLot.expires_at)
            .where(PointLot.member == keep)
            .first()
        )
        assert lot["expires_at"] == expiry
        kept = await scoped_select(Member, Member.stored_value).where(Member.id == keep).first()
        assert Decimal(kept["stored_value"]) == Decimal("55.50")
        await assert_consistent(keep)
        await assert_consistent(absorb)


async def test_64_concurrent_redemptions_never_overspend(tenant_a: World) -> None:
    """Balance 100, cost 7, 64 clients at once: exactly 14 succeed (reliability.md 1.4)."""
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        await ledger.earn(member, 100, key="seed")

        async def attempt(i: int) -> bool:
            try:
                await ledger.debit(member, 7, key=f"redeem:{i}")
            except ledger.InsufficientPoints:
                return False
            return True

        results = await asyncio.gather(*(attempt(i) for i in range(64)))
        assert sum(results) == 14
        assert await balance(member) == 2
        await assert_consistent(member)


async def test_64_concurrent_replays_credit_each_key_once(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        results = await asyncio.gather(
            *(ledger.earn(member, 10, key=f"receipt:{i % 16}") for i in range(64))
        )
        assert len({r.id for r in results}) == 16
        assert await balance(member) == 160
        count = await LedgerEntry.count().where(LedgerEntry.member == member)
        assert count == 16
        await assert_consistent(member)


@pytest.mark.sqlite
async def test_sqlite_concurrent_redemptions_never_overspend(sqlite_db, tenant_a_sqlite) -> None:
    with tenant_context(tenant_a_sqlite, STAFF):
        member = await make_member()
        await ledger.earn(member, 100, key="seed")

        async def attempt(i: int) -> bool:
            try:
                await ledger.debit(member, 7, key=f"redeem:{i}")
            except ledger.InsufficientPoints:
                return False
            return True

        results = await asyncio.gather(*(attempt(i) for i in range(32)))
        assert sum(results) == 14 and await balance(member) == 2
        await stored_value.top_up(member, "0.10", key="topup:1")
        await stored_value.top_up(member, "0.20", key="topup:2")
        spent = await stored_value.spend(
            member, "0.30", key="spend:1"
        )  # exact in Decimal, not float
        assert spent.balance_after == Decimal("0.00")
        await assert_consistent(member)


async def _concurrent_debits_drain_lots_in_expiry_order() -> None:
    """Five lots of 10 (expiring in 30, 10, never, 20 and 5 days), 20 debits of 3 at once:
    16 succeed, and whatever the interleaving every one took the oldest-expiring points
    left, so exactly the 2 points of the never-expiring lot remain."""
    member = await make_member()
    now = datetime.now(UTC)
    for i, days in enumerate((30, 10, None, 20, 5)):
        expires = now + timedelta(days=days) if days else None
        await ledger.earn(member, 10, key=f"lot:{i}", expires_at=expires)

    async def attempt(i: int) -> bool:
        try:
            await ledger.debit(member, 3, key=f"redeem:{i}")
        except ledger.InsufficientPoints:
            return False
        return True

    results = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert sum(results) == 16 and await balance(member) == 2
    lots = await scoped_select(PointLot, PointLot.expires_at, PointLot.remaining).where(
        PointLot.member == member
    )
    left = {
        round((lot["expires_at"] - now) / timedelta(days=1)) if lot["expires_at"] else None: (
            lot["remaining"]
        )
        for lot in lots
    }
    assert left == {5: 0, 10: 0, 20: 0, 30: 0, None: 2}
    draws = await scoped_select(LotDraw, LotDraw.entry, LotDraw.points).where(
        LotDraw.entry.member == member
    )
    per_entry: dict[int, int] = {}
    for draw in draws:
        per_entry[draw["entry"]] = per_entry.get(draw["entry"], 0) + draw["points"]
    assert sorted(per_entry.values()) == [3] * 16
    await assert_consistent(member)


async def test_concurrent_debits_drain_lots_in_expiry_order(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        await _concurrent_debits_drain_lots_in_expiry_order()


@pytest.mark.sqlite
async def test_sqlite_concurrent_debits_drain_lots_in_expiry_order(
    sqlite_db, tenant_a_sqlite
) -> None:
    with tenant_context(tenant_a_sqlite, STAFF):
        await _concurrent_debits_drain_lots_in_expiry_order()


@pytest.fixture
async def tenant_a_sqlite(sqlite_db) -> int:
    from tests.fixtures import make_world

    return (await make_world("sqlite-tea")).id


async def test_the_database_itself_refuses_a_negative_balance(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        with pytest.raises(Exception, match=r"check|violat"):
            await Member.update({Member.points: -1}).where(Member.id == member)


async def test_another_tenants_member_is_not_found(tenant_a: World, tenant_b: World) -> None:
    with tenant_context(tenant_b.id, STAFF):
        theirs = await make_member("B's member")
        entry = await ledger.earn(theirs, 500, key="b-seed")
    with tenant_context(tenant_a.id, STAFF):
        for call in (
            ledger.earn(theirs, 10, key="steal-1"),
            ledger.debit(theirs, 10, key="steal-2"),
            ledger.adjust(theirs, -10, key="steal-3", reason="x"),
            ledger.reverse(entry.id, key="steal-4", reason="x"),
            figures.audit_member(theirs),
            stored_value.top_up(theirs, "5", key="steal-5"),
        ):
            with pytest.raises(NotFound):
                await call
        assert (await figures.history(theirs)).total == 0
        assert await ledger.entry_by_key("b-seed") is None
        assert await figures.liability() == 0
    with tenant_context(tenant_b.id, STAFF):
        assert await balance(theirs) == 500
        assert (await figures.history(theirs)).total == 1


async def test_stored_value_is_decimal_and_never_negative(tenant_a: World) -> None:
    with tenant_context(tenant_a.id, STAFF):
        member = await make_member()
        top = await stored_value.top_up(member, "100.10", key="topup:1")
        assert top.balance_after == Decimal("100.10")
        spent = await stored_value.spend(member, Decimal("0.10"), key="spend:1")
        assert spent.balance_after == Decimal("100.00")
        with pytest.raises(stored_value.InsufficientValue):
            await stored_value.spend(member, "100.01", key="spend:2")
        for bad in ("0", "-1", "1.001", "abc"):
            with pytest.raises(DomainError):
                await stored_value.top_up(member, bad, key=f"topup:{bad}")
        with pytest.raises(TypeError):
            await stored_value.top_up(member, 1.5, key="topup:float")
        assert (await stored_value.top_up(member, "100.10", key="topup:1")).replayed
        assert (await stored_value.history(member)).total == 2


# One operation of the property test: (kind, points, expiry offset in days or None)
operations = st.lists(
    st.tuples(
        st.sampled_from(["earn", "debit", "reverse", "expire"]),
        st.integers(min_value=1, max_value=60),
        st.one_of(st.none(), st.integers(min_value=-3, max_value=3)),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations)
def test_any_sequence_keeps_balance_equal_to_entries_and_lots(tenant_a: World, ops) -> None:
    """Random earn/debit/reverse/expire sequences: after every step the cached balance equals
    the sum of entries and of open lots, and is never negative."""

    async def run() -> None:
        with tenant_context(tenant_a.id, STAFF):
            member = await make_member()
            debits: list[ledger.EntryOut] = []
            now = NOW
            for step, (kind, points, days) in enumerate(ops):
                key = f"p{member}:{step}"
                expires = None if days is None else now + timedelta(days=days)
                if kind == "earn":
                    await ledger.earn(member, points, key=key, expires_at=expires)
                elif kind == "debit":
                    try:
                        debits.append(await ledger.debit(member, points, key=key))
                    except ledger.InsufficientPoints:
                        assert await balance(member) < points
                elif kind == "reverse" and debits:
                    await ledger.reverse(debits.pop(0).id, key=key, reason="test")
                elif kind == "expire":
                    now += timedelta(days=1)
                    await ledger.expire_due(now)
                check = await figures.audit_member(member)
                assert check.ok, (ops, step, check)

    asyncio.run(run())


async def test_the_hourly_job_expires_points_for_every_tenant(
    tenant_a: World, tenant_b: World
) -> None:
    from loyalchat.ledger.expiry import expire_all_tenants

    past = datetime.now(UTC) - timedelta(minutes=1)
    members = {}
    for world, points in ((tenant_a, 30), (tenant_b, 45)):
        with tenant_context(world.id, STAFF):
            members[world.id] = await make_member()
            await ledger.earn(members[world.id], points, key="old", expires_at=past)
            await ledger.earn(members[world.id], 5, key="keep")
    assert await expire_all_tenants() == {tenant_a.id: 30, tenant_b.id: 45}
    assert await expire_all_tenants() == {}
    for world in (tenant_a, tenant_b):
        with tenant_context(world.id, STAFF):
            assert await balance(members[world.id]) == 5
