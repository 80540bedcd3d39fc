"""The earning-rules arithmetic: pure, Decimal only, no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalchat.rules.calculator import Calculation, RuleSpec, calculate
from loyalchat.rules.tables import Rounding, RuleKind

D = Decimal
MONDAY = date(2025, 6, 2)
SATURDAY = date(2025, 6, 7)
SUNDAY = date(2025, 6, 8)


def ratio(per_unit: str = "1", rounding: Rounding = Rounding.down, **kw) -> RuleSpec:
    return RuleSpec(
        name=kw.pop("name", "ratio"),
        kind=RuleKind.ratio,
        points_per_unit=D(per_unit),
        rounding=rounding,
        **kw,
    )


def threshold(step: str = "1000", points: int = 100, **kw) -> RuleSpec:
    return RuleSpec(
        name=kw.pop("name", "steps"),
        kind=RuleKind.threshold,
        step_amount=D(step),
        step_points=points,
        **kw,
    )


def campaign(multiplier: str = "2", **kw) -> RuleSpec:
    return RuleSpec(
        name=kw.pop("name", "campaign"), kind=RuleKind.campaign, multiplier=D(multiplier), **kw
    )


def points(rules: list[RuleSpec], amount: str, on: date = MONDAY, **kw) -> int:
    return calculate(rules, D(amount), on, **kw).points


# --- ratio and rounding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "amount", "expected"),
    [
        (Rounding.down, "10.99", 10),
        (Rounding.up, "10.01", 11),
        (Rounding.up, "10.00", 10),
        (Rounding.half_up, "10.49", 10),
        (Rounding.half_up, "10.50", 11),
        (Rounding.down, "0.99", 0),
        (Rounding.up, "0.01", 1),
    ],
)
def test_ratio_rounds_by_its_mode(rounding: Rounding, amount: str, expected: int) -> None:
    assert points([ratio("1", rounding)], amount) == expected


def test_half_up_at_exactly_half_a_point() -> None:
    # HK$5 at 0.1 point per dollar is exactly 0.5 points: half_up gives 1, down gives 0.
    assert points([ratio("0.1", Rounding.half_up)], "5.00") == 1
    assert points([ratio("0.1", Rounding.down)], "5.00") == 0
    assert points([ratio("0.1", Rounding.half_up)], "4.99") == 0
    assert points([ratio("0.1", Rounding.up)], "0.01") == 1


def test_one_cent_steps_around_a_point_boundary() -> None:
    rule = ratio("0.5", Rounding.down)
    assert [points([rule], a) for a in ("1.98", "1.99", "2.00", "2.01")] == [0, 0, 1, 1]


def test_fractional_points_per_unit_stay_exact() -> None:
    # 0.1 * 3 is 0.30000000000000004 in binary floats; Decimal must give exactly 3 points.
    assert points([ratio("0.1", Rounding.up)], "30.00") == 3
    assert points([ratio("0.0001", Rounding.down)], "99999.99") == 9


def test_huge_amounts_are_exact() -> None:
    amount = "123456789012345678901234567890.99"
    assert points([ratio("1.5")], amount) == 185185183518518518351851851836
    assert points([threshold("1000", 100)], amount) == 12345678901234567890123456700
    assert points([ratio("1")], "1E+80") == 10**80


# --- thresholds -------------------------------------------------------------------------


def test_threshold_counts_whole_steps_only() -> None:
    rule = threshold("1000", 100)
    assert points([rule], "999.99") == 0
    assert points([rule], "1000.00") == 100
    assert points([rule], "1999.99") == 100
    assert points([rule], "2500.00") == 200


def test_threshold_with_cent_step() -> None:
    assert points([threshold("0.01", 1)], "12.34") == 1234


# --- min spend, caps and several base rules --------------------------------------------


def test_min_spend_is_inclusive() -> None:
    rule = ratio("1", min_spend=D("100.00"))
    assert points([rule], "99.99") == 0
    assert points([rule], "100.00") == 100


def test_per_receipt_cap_limits_that_rule_only() -> None:
    capped = ratio("1", per_receipt_cap=50, name="capped")
    steps = threshold("100", 10)
    calc = calculate([capped, steps], D("300.00"), MONDAY)
    assert calc.points == 50 + 30
    assert calc.capped_by == "rule"
    assert [(line.name, line.points, line.capped) for line in calc.lines] == [
        ("capped", 50, True),
        ("steps", 30, False),
    ]


def test_base_points_add_up_and_inactive_rules_do_not_count() -> None:
    rules = [ratio("1"), threshold("1000", 100), ratio("5", active=False)]
    calc = calculate(rules, D("2000.00"), MONDAY)
    assert calc.base_points == calc.points == 2000 + 200
    assert calc.capped_by is None
    assert len(calc.lines) == 2


# --- campaigns --------------------------------------------------------------------------


def test_campaign_multiplies_base_points() -> None:
    calc = calculate([ratio("1"), campaign("2")], D("150.00"), MONDAY)
    assert (calc.base_points, calc.multiplier, calc.points) == (150, D(2), 300)
    assert [line.points for line in calc.lines] == [150, 150]


def test_several_campaigns_multiply_together_and_round_down_once() -> None:
    rules = [ratio("1"), campaign("1.5", name="a"), campaign("1.5", name="b")]
    calc = calculate(rules, D("101.00"), MONDAY)
    # floor(101 * 2.25) = floor(227.25) = 227; lines add up to the total.
    assert calc.multiplier == D("2.25")
    assert calc.points == 227
    assert sum(line.points for line in calc.lines) == 227


def test_campaign_alone_gives_nothing() -> None:
    assert points([campaign("3")], "500.00") == 0


def test_weekday_only_campaign() -> None:
    weekend = campaign("2", weekdays=(6, 7))
    rules = [ratio("1"), weekend]
    assert points(rules, "100.00", MONDAY) == 100
    assert points(rules, "100.00", SATURDAY) == 200
    assert points(rules, "100.00", SUNDAY) == 200


def test_date_range_is_inclusive_at_both_ends() -> None:
    june = campaign("2", starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 30))
    rules = [ratio("1"), june]
    assert points(rules, "10.00", date(2025, 5, 31)) == 10
    assert points(rules, "10.00", date(2025, 6, 1)) == 20
    assert points(rules, "10.00", date(2025, 6, 30)) == 20
    assert points(rules, "10.00", date(2025, 7, 1)) == 10


def test_base_rule_date_range_and_open_ends() -> None:
    from_june = ratio("1", starts_on=date(2025, 6, 1))
    until_june = threshold("10", 1, ends_on=date(2025, 6, 30))
    assert points([from_june, until_june], "100.00", date(2025, 5, 31)) == 10
    assert points([from_june, until_june], "100.00", date(2025, 6, 15)) == 110
    assert points([from_june, until_june], "100.00", date(2030, 1, 1)) == 100


def test_campaign_min_spend_and_cap() -> None:
    big_spender = campaign("3", min_spend=D("500.00"), per_receipt_cap=200)
    rules = [ratio("1"), big_spender]
    assert points(rules, "499.99", MONDAY) == 499
    calc = calculate(rules, D("500.00"), MONDAY)
    assert calc.points == 500 + 200  # the campaign would add 1000, capped at 200
    assert calc.capped_by == "rule"


# --- daily cap --------------------------------------------------------------------------


def test_daily_cap_partially_used() -> None:
    calc = calculate([ratio("1")], D("300.00"), MONDAY, earned_today=800, daily_cap=1000)
    assert (calc.points, calc.base_points, calc.capped_by) == (200, 300, "daily")


def test_daily_cap_already_reached_or_passed() -> None:
    assert points([ratio("1")], "300.00", earned_today=1000, daily_cap=1000) == 0
    assert points([ratio("1")], "300.00", earned_today=1500, daily_cap=1000) == 0


def test_daily_cap_not_reached_leaves_points_alone() -> None:
    calc = calculate([ratio("1")], D("300.00"), MONDAY, earned_today=100, daily_cap=1000)
    assert (calc.points, calc.capped_by) == (300, None)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0", "0.00", "-10.00"])
def test_zero_and_negative_amounts_earn_nothing(amount: str) -> None:
    calc = calculate([ratio("1"), threshold("1", 1)], D(amount), MONDAY)
    assert (calc.points, calc.base_points, calc.lines) == (0, 0, ())


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        calculate([ratio("1")], 10.5, MONDAY)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RuleSpec(name="x", kind=RuleKind.ratio, points_per_unit=0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        calculate([ratio("1")], D("NaN"), MONDAY)


def test_calculation_round_trips_through_json_form() -> None:
    rules = [ratio("1", per_receipt_cap=90), campaign("1.5", weekdays=(1,))]
    calc = calculate(rules, D("100.00"), MONDAY, earned_today=0, daily_cap=120)
    assert Calculation.from_dict(calc.as_dict()) == calc
    assert calc.as_dict()["amount"] == "100.00"


def test_rule_spec_from_row() -> None:
    row = {
        "id": 7,
        "name": "Weekend",
        "kind": "campaign",
        "active": True,
        "points_per_unit": D("0"),
        "rounding": "down",
        "step_amount": None,
        "step_points": 0,
        "min_spend": None,
        "per_receipt_cap": None,
        "multiplier": D("2.00"),
        "starts_on": None,
        "ends_on": None,
        "weekdays": [6, 7],
    }
    spec = RuleSpec.from_row(row)
    assert spec.kind is RuleKind.campaign and spec.weekdays == (6, 7) and spec.id == 7


# --- properties -------------------------------------------------------------------------

amounts = st.decimals(min_value=D("-100"), max_value=D("1000000"), places=2)
ratio_rules = st.builds(
    lambda per_unit, rounding: ratio(str(per_unit), rounding),
    st.decimals(min_value=D("0.0001"), max_value=D("100"), places=4),
    st.sampled_from(list(Rounding)),
)
threshold_rules = st.builds(
    lambda step, pts: threshold(str(step), pts),
    st.decimals(min_value=D("0.01"), max_value=D("10000"), places=2),
    st.integers(min_value=1, max_value=10_000),
)
campaign_rules = st.builds(
    lambda m: campaign(str(m)), st.decimals(min_value=D("0.01"), max_value=D("10"), places=2)
)


@given(
    rules=st.lists(st.one_of(ratio_rules, threshold_rules, campaign_rules), max_size=5),
    a=amounts,
    b=amounts,
)
def test_points_never_negative_and_monotonic_in_amount(rules, a, b) -> None:
    low, high = sorted((a, b))
    p_low = calculate(rules, low, MONDAY).points
    p_high = calculate(rules, high, MONDAY).points
    assert 0 <= p_low <= p_high


@given(
    rules=st.lists(st.one_of(ratio_rules, threshold_rules, campaign_rules), max_size=5),
    amount=amounts,
    earned=st.integers(min_value=0, max_value=10_000),
    cap=st.none() | st.integers(min_value=1, max_value=10_000),
)
def test_daily_cap_holds_and_lines_add_up(rules, amount, earned, cap) -> None:
    calc = calculate(rules, amount, MONDAY, earned_today=earned, daily_cap=cap)
    uncapped = calculate(rules, amount, MONDAY)
    assert calc.points >= 0
    if cap is not None:
        assert calc.points <= max(0, cap - earned)
    assert calc.points <= uncapped.points
    # Without caps, the lines explain the whole total (campaign lines may be negative
    # for a multiplier below 1).
    assert sum(line.points for line in uncapped.lines) == uncapped.points
