"""Earning rules and the points policy: validation, storage, audit, expiry, isolation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import pytest

from loyalchat.context import Actor, tenant_context
from loyalchat.domain import DomainError, NotFound
from loyalchat.rules import service
from loyalchat.rules.schemas import PolicyIn, PolicyOut, RuleCreate, RuleUpdate
from loyalchat.rules.tables import ExpiryPolicy, Rounding, RuleKind
from loyalchat.tenants import audit

D = Decimal
HK = ZoneInfo("Asia/Hong_Kong")
STAFF = Actor("staff", 1, "Owner")


def ratio(**kw) -> RuleCreate:
    kw.setdefault("name", "Base")
    kw.setdefault("points_per_unit", D("1"))
    return RuleCreate(kind=RuleKind.ratio, **kw)


# --- rules: create, read, update, delete -----------------------------------------------


async def test_rule_lifecycle_with_audit(tenant_a) -> None:
    with tenant_context(tenant_a.id, STAFF):
        created = await service.create_rule(
            RuleCreate(
                name="  Weekend double  ",
                kind=RuleKind.campaign,
                multiplier=D("2"),
                weekdays=[7, 6, 6],
                starts_on=date(2025, 6, 1),
            )
        )
        assert created.name == {"zh-Hant": "", "zh-Hans": "", "en": "Weekend double"}
        assert created.weekdays == [6, 7]
        assert created.multiplier == D("2.00")
        assert await service.get_rule(created.id) == created

        updated = await service.update_rule(
            created.id, RuleUpdate(multiplier=D("3"), ends_on=date(2025, 6, 30))
        )
        assert (updated.multiplier, updated.ends_on, updated.weekdays) == (
            D("3"),
            date(2025, 6, 30),
            [6, 7],
        )
        cleared = await service.update_rule(created.id, RuleUpdate(starts_on=None))
        assert cleared.starts_on is None and cleared.ends_on == date(2025, 6, 30)

        await service.delete_rule(created.id)
        assert await service.list_rules() == []
        with pytest.raises(NotFound):
            await service.get_rule(created.id)

        actions = [row["action"] for row in await audit.recent()]
        assert actions[:4] == ["rule.delete", "rule.update", "rule.update", "rule.create"]
        update = (await audit.recent())[2]
        assert update["actor"] == "staff:1"
        assert "2.00" in str(update["before"]) and "3" in str(update["after"])


async def test_rules_decode_from_json_and_list_in_order(tenant_a) -> None:
    body = b'{"name": "Steps", "kind": "threshold", "step_amount": 1000.00, "step_points": 100}'
    with tenant_context(tenant_a.id, STAFF):
        steps = await service.create_rule(msgspec.json.decode(body, type=RuleCreate))
        base = await service.create_rule(ratio(rounding=Rounding.half_up, active=False))
        assert steps.step_amount == D("1000.00") and steps.kind is RuleKind.threshold
        assert [r.id for r in await service.list_rules()] == [steps.id, base.id]
        assert [r.id for r in await service.list_rules(active_only=True)] == [steps.id]


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (RuleCreate(name=" ", kind=RuleKind.ratio, points_per_unit=D(1)), "name", "name"),
        (RuleCreate(name="x" * 121, kind=RuleKind.ratio, points_per_unit=D(1)), "name", "name"),
        (RuleCreate(name="r", kind=RuleKind.ratio), "points_per_unit", "points per unit"),
        (
            RuleCreate(name="r", kind=RuleKind.ratio, points_per_unit=D("-1")),
            "points_per_unit",
            "above 0",
        ),
        (
            RuleCreate(name="r", kind=RuleKind.ratio, points_per_unit=D("0.00001")),
            "points_per_unit",
            "4 decimal places",
        ),
        (RuleCreate(name="t", kind=RuleKind.threshold, step_points=10), "step_amount", "step"),
        (
            RuleCreate(name="t", kind=RuleKind.threshold, step_amount=D("0"), step_points=10),
            "step_amount",
            "above 0",
        ),
        (
            RuleCreate(name="t", kind=RuleKind.threshold, step_amount=D("100")),
            "step_points",
            "step points",
        ),
        (
            RuleCreate(name="c", kind=RuleKind.campaign, multiplier=D("0")),
            "multiplier",
            "multiplier",
        ),
        (
            RuleCreate(name="c", kind=RuleKind.campaign, weekdays=[0, 1]),
            "weekdays",
            "1 (Monday)",
        ),
        (
            RuleCreate(name="c", kind=RuleKind.campaign, weekdays=[8]),
            "weekdays",
            "7 (Sunday)",
        ),
        (ratio(weekdays=[6]), "weekdays", "campaign"),
        (
            ratio(starts_on=date(2025, 6, 2), ends_on=date(2025, 6, 1)),
            "ends_on",
            "end date",
        ),
        (ratio(per_receipt_cap=0), "per_receipt_cap", "from 1"),
        (ratio(min_spend=D("-5")), "min_spend", "negative"),
        (ratio(min_spend=D("5.001")), "min_spend", "2 decimal places"),
    ],
)
async def test_invalid_rules_are_refused_with_a_clear_message(tenant_a, data, field, words):
    with tenant_context(tenant_a.id, STAFF):
        with pytest.raises(DomainError) as caught:
            await service.create_rule(data)
        assert caught.value.code == "invalid_rule"
        assert caught.value.extra["field"] == field
        assert words in caught.value.message
        assert await service.list_rules() == []


async def test_same_day_range_and_open_caps_are_fine(tenant_a) -> None:
    with tenant_context(tenant_a.id, STAFF):
        one_day = await service.create_rule(
            ratio(starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 1), per_receipt_cap=1)
        )
        assert one_day.per_receipt_cap == 1


async def test_an_update_that_breaks_a_rule_changes_nothing(tenant_a) -> None:
    with tenant_context(tenant_a.id, STAFF):
        rule = await service.create_rule(
            RuleCreate(name="Steps", kind=RuleKind.threshold, step_amount=D(100), step_points=5)
        )
        with pytest.raises(DomainError) as caught:
            await service.update_rule(rule.id, RuleUpdate(kind=RuleKind.ratio))
        assert caught.value.code == "invalid_rule"
        assert await service.get_rule(rule.id) == rule


async def test_float_rates_are_a_programming_error(tenant_a) -> None:
    with tenant_context(tenant_a.id, STAFF):
        with pytest.raises(TypeError):
            await service.create_rule(
                RuleCreate(name="r", kind=RuleKind.ratio, points_per_unit=0.1)  # type: ignore[arg-type]
            )


# --- policy ------------------------------------------------------------------------------


async def test_policy_defaults_then_set_and_change(tenant_a) -> None:
    with tenant_context(tenant_a.id, STAFF):
        default = await service.get_policy()
        assert (default.expiry, default.daily_cap, default.timezone) == (
            ExpiryPolicy.never,
            None,
            "Asia/Hong_Kong",
        )
        await service.set_policy(PolicyIn(expiry=ExpiryPolicy.rolling, expiry_months=6))
        changed = await service.set_policy(
            PolicyIn(expiry=ExpiryPolicy.yearly, expiry_month=3, expiry_day=31, daily_cap=500)
        )
        assert await service.get_policy() == changed
        assert (changed.expiry, changed.expiry_month, changed.expiry_day, changed.daily_cap) == (
            ExpiryPolicy.yearly,
            3,
            31,
            500,
        )
        sets = [r for r in await audit.recent() if r["action"] == "points_policy.set"]
        assert len(sets) == 2


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PolicyIn(expiry=ExpiryPolicy.rolling, expiry_months=0), "expiry_months"),
        (PolicyIn(expiry=ExpiryPolicy.rolling, expiry_months=121), "expiry_months"),
        (PolicyIn(expiry=ExpiryPolicy.yearly, expiry_month=13), "expiry_month"),
        (PolicyIn(expiry=ExpiryPolicy.yearly, expiry_month=2, expiry_day=29), "expiry_day"),
        (PolicyIn(expiry=ExpiryPolicy.yearly, expiry_month=4, expiry_day=31), "expiry_day"),
        (PolicyIn(expiry=ExpiryPolicy.yearly, expiry_month=1, expiry_day=0), "expiry_day"),
        (PolicyIn(daily_cap=0), "daily_cap"),
        (PolicyIn(expiry="monthly"), "expiry"),  # type: ignore[arg-type]
    ],
)
async def test_invalid_policies_are_refused(tenant_a, data, field) -> None:
    with tenant_context(tenant_a.id, STAFF):
        with pytest.raises(DomainError) as caught:
            await service.set_policy(data)
        assert (caught.value.code, caught.value.extra["field"]) == ("invalid_policy", field)


# --- expiry dates (pure) ------------------------------------------------------------------


def rolling(months: int, tz: str = "Asia/Hong_Kong") -> PolicyOut:
    return PolicyOut(expiry=ExpiryPolicy.rolling, expiry_months=months, timezone=tz)


def yearly(month: int, day: int, tz: str = "Asia/Hong_Kong") -> PolicyOut:
    return PolicyOut(expiry=ExpiryPolicy.yearly, expiry_month=month, expiry_day=day, timezone=tz)


def hk(*args: int) -> datetime:
    return datetime(*args, tzinfo=HK)


def test_never_expires() -> None:
    assert service.expires_at(datetime.now(UTC), PolicyOut()) is None


@pytest.mark.parametrize(
    ("earned", "months", "expected"),
    [
        (hk(2025, 1, 31, 15, 30), 1, hk(2025, 2, 28, 15, 30)),
        (hk(2024, 1, 31, 15, 30), 1, hk(2024, 2, 29, 15, 30)),
        (hk(2024, 2, 29, 9, 0), 12, hk(2025, 2, 28, 9, 0)),
        (hk(2025, 3, 31, 9, 0), 11, hk(2026, 2, 28, 9, 0)),
        (hk(2025, 8, 31, 9, 0), 1, hk(2025, 9, 30, 9, 0)),
        (hk(2025, 11, 15, 9, 0), 2, hk(2026, 1, 15, 9, 0)),
        (hk(2025, 12, 31, 23, 59), 120, hk(2035, 12, 31, 23, 59)),
    ],
)
def test_rolling_expiry_clamps_to_month_end(earned, months, expected) -> None:
    assert service.expires_at(earned, rolling(months)) == expected


def test_rolling_expiry_counts_months_in_the_tenant_time_zone() -> None:
    # 20:00 UTC on Jan 31 is already 04:00 on Feb 1 in Hong Kong: one month on is Mar 1.
    got = service.expires_at(datetime(2025, 1, 31, 20, 0, tzinfo=UTC), rolling(1))
    assert got == hk(2025, 3, 1, 4, 0)
    # In UTC itself it is Jan 31, so Feb 28.
    got = service.expires_at(datetime(2025, 1, 31, 20, 0, tzinfo=UTC), rolling(1, "UTC"))
    assert got == datetime(2025, 2, 28, 20, 0, tzinfo=UTC)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=HK)


@pytest.mark.parametrize(
    ("earned", "expected_day"),
    [
        (hk(2025, 6, 1, 12, 0), date(2025, 12, 31)),
        (hk(2025, 12, 30, 23, 59), date(2025, 12, 31)),
        # earned on the expiry day itself: lasts until next year's
        (hk(2025, 12, 31, 0, 0), date(2026, 12, 31)),
        (hk(2025, 12, 31, 23, 59), date(2026, 12, 31)),
        (hk(2026, 1, 1, 0, 0), date(2026, 12, 31)),
        # 15:59 UTC on Dec 30 is 23:59 Dec 30 in HK; 16:00 UTC on Dec 31 is Jan 1 in HK.
        (datetime(2025, 12, 30, 15, 59, tzinfo=UTC), date(2025, 12, 31)),
        (datetime(2025, 12, 31, 16, 0, tzinfo=UTC), date(2026, 12, 31)),
    ],
)
def test_yearly_expiry_is_the_next_such_day_strictly_after(earned, expected_day) -> None:
    assert service.expires_at(earned, yearly(12, 31)) == end_of(expected_day)


def test_yearly_expiry_mid_year_date() -> None:
    policy = yearly(3, 31)
    assert service.expires_at(hk(2025, 3, 30, 10, 0), policy) == end_of(date(2025, 3, 31))
    assert service.expires_at(hk(2025, 3, 31, 10, 0), policy) == end_of(date(2026, 3, 31))
    assert service.expires_at(hk(2025, 4, 1, 10, 0), policy) == end_of(date(2026, 3, 31))
    # In a leap year the next Feb 28 after Feb 28 is still a year later (Feb 29 is not it).
    assert service.expires_at(hk(2024, 2, 28, 10, 0), yearly(2, 28)) == end_of(date(2025, 2, 28))


def test_expiry_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError):
        service.expires_at(datetime(2025, 1, 1), rolling(1))


def test_expiry_falls_back_to_utc_for_an_unknown_zone() -> None:
    got = service.expires_at(datetime(2025, 1, 31, 20, tzinfo=UTC), rolling(1, "Nowhere/Land"))
    assert got == datetime(2025, 2, 28, 20, tzinfo=UTC)
    assert got - datetime(2025, 1, 31, 20, tzinfo=UTC) == timedelta(days=28)


# --- preview ----------------------------------------------------------------------------


async def test_preview_uses_active_rules_and_ignores_the_daily_cap(tenant_a) -> None:
    with tenant_context(tenant_a.id, STAFF):
        await service.set_policy(PolicyIn(daily_cap=50))
        await service.create_rule(ratio())
        await service.create_rule(
            RuleCreate(name="Steps", kind=RuleKind.threshold, step_amount=D(1000), step_points=100)
        )
        await service.create_rule(
            RuleCreate(name="Sat", kind=RuleKind.campaign, multiplier=D(2), weekdays=[6])
        )
        await service.create_rule(ratio(active=False, points_per_unit=D(100)))
        monday = await service.preview(D("1000.00"), on=date(2025, 6, 2))
        saturday = await service.preview(D("1000.00"), on=date(2025, 6, 7))
        assert (monday.points, monday.capped_by) == (1100, None)
        assert saturday.points == 2200
        assert [line.name["en"] for line in saturday.lines] == ["Base", "Steps", "Sat"]
        assert (await service.preview(D("999.99"), on=date(2025, 6, 2))).points == 999


# --- two tenants ------------------------------------------------------------------------


async def test_a_tenant_cannot_see_or_touch_anothers_rules(tenant_a, tenant_b) -> None:
    with tenant_context(tenant_b.id, STAFF):
        b_rule = await service.create_rule(ratio(name="Bravo"))
        await service.set_policy(PolicyIn(daily_cap=10))
    with tenant_context(tenant_a.id, STAFF):
        a_rule = await service.create_rule(ratio(name="Alpha"))
        assert [r.id for r in await service.list_rules()] == [a_rule.id]
        with pytest.raises(NotFound):
            await service.get_rule(b_rule.id)
        with pytest.raises(NotFound):
            await service.update_rule(b_rule.id, RuleUpdate(name="Hijacked"))
        with pytest.raises(NotFound):
            await service.delete_rule(b_rule.id)
        assert (await service.get_policy()).daily_cap is None
        assert (await service.preview(D("10.00"), on=date(2025, 6, 2))).points == 10
    with tenant_context(tenant_b.id, STAFF):
        assert await service.get_rule(b_rule.id) == b_rule
        assert (await service.get_policy()).daily_cap == 10
