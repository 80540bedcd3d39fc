"""Points for a purchase: pure arithmetic over a tenant's earning rules (no database).

The rules (plain :class:`RuleSpec` values, built from rows by ``rules.service``) apply in
this order, for an ``amount`` (``Decimal``, never float) spent on the date ``on``:

1. A rule counts only if it is ``active``, ``on`` lies within ``starts_on``..``ends_on``
   (both inclusive; ``None`` leaves that end open) and ``amount >= min_spend`` (when set).
   Campaign rules must also match ``on``'s ISO weekday (1 = Monday .. 7 = Sunday) when
   their ``weekdays`` list is not empty; base rules ignore ``weekdays``.
2. Base rules give points:

   - ``ratio``: ``amount * points_per_unit``, rounded to a whole number by the rule's
     ``rounding`` (``down`` = ROUND_DOWN, ``half_up`` = ROUND_HALF_UP, ``up`` = ROUND_UP);
   - ``threshold``: ``floor(amount / step_amount) * step_points`` ("every HK$1,000 spent
     earns 100 points": HK$999.99 earns 0, HK$1,000.00 earns 100, HK$2,500 earns 200).

   A rule's ``per_receipt_cap`` limits what that rule gives. The base points are the sum.
3. Campaign rules multiply the base points; several multiply together, and the result is
   rounded down once (``floor(base * m1 * m2 ...)``). Each campaign's line shows the extra
   points it adds (``floor(base * m1..mi) - floor(base * m1..mi-1)``, in the order given),
   so the lines always add up to the total before the daily cap. A campaign's
   ``per_receipt_cap`` limits the extra points that campaign adds.
4. The tenant's daily cap (``PointsPolicy.daily_cap``, when given) limits the result to
   ``max(0, daily_cap - earned_today)``.

A zero or negative amount earns 0 points (the purchase service refuses such amounts
before they get here). ``capped_by`` says which cap took points away: ``"daily"`` when the
daily cap did, else ``"rule"`` when a rule's cap did, else ``None``.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from loyalchat.rules.tables import Rounding, RuleKind

_ROUNDING = {
    Rounding.down: ROUND_DOWN,
    Rounding.half_up: ROUND_HALF_UP,
    Rounding.up: ROUND_UP,
}
_ONE = Decimal(1)
_BASE_KINDS = (RuleKind.ratio, RuleKind.threshold)


def _decimal(value: Any, what: str) -> Decimal:
    """``value`` as a Decimal; floats (and anything else inexact) are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number")
    return value


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One earning rule as the calculator sees it (a row of ``EarningRule``, or a draft)."""

    name: Mapping[str, str] | str  # {zh-Hant, zh-Hans, en}; a plain string before that
    kind: RuleKind
    id: int | None = None
    active: bool = True
    points_per_unit: Decimal = Decimal(0)
    rounding: Rounding = Rounding.down
    step_amount: Decimal | None = None
    step_points: int = 0
    min_spend: Decimal | None = None
    per_receipt_cap: int | None = None
    multiplier: Decimal = _ONE
    starts_on: date | None = None
    ends_on: date | None = None
    weekdays: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Frozen dataclass: normalise through object.__setattr__ so strings from rows work.
        object.__setattr__(self, "kind", RuleKind(self.kind))
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "weekdays", tuple(int(d) for d in self.weekdays))
        for name in ("points_per_unit", "multiplier"):
            _decimal(getattr(self, name), name)
        for name in ("step_amount", "min_spend"):
            if getattr(self, name) is not None:
                _decimal(getattr(self, name), name)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RuleSpec:
        """Build from an ``EarningRule`` row (a dict from a select with JSON loaded)."""
        return cls(
            id=row.get("id"),
            name=row["name"],
            kind=row["kind"],
            active=bool(row.get("active", True)),
            points_per_unit=Decimal(row.get("points_per_unit") or 0),
            rounding=row.get("rounding") or Rounding.down,
            step_amount=_opt_decimal(row.get("step_amount")),
            step_points=int(row.get("step_points") or 0),
            min_spend=_opt_decimal(row.get("min_spend")),
            per_receipt_cap=row.get("per_receipt_cap"),
            multiplier=Decimal(row.get("multiplier") if row.get("multiplier") is not None else 1),
            starts_on=row.get("starts_on"),
            ends_on=row.get("ends_on"),
            weekdays=tuple(row.get("weekdays") or ()),
        )

    def in_effect(self, amount: Decimal, on: date) -> bool:
        """Does this rule count for ``amount`` spent on ``on`` (step 1 of the module doc)?"""
        if not self.active:
            return False
        if self.starts_on is not None and on < self.starts_on:
            return False
        if self.ends_on is not None and on > self.ends_on:
            return False
        if self.min_spend is not None and amount < self.min_spend:
            return False
        if self.kind == RuleKind.campaign and self.weekdays:
            return on.isoweekday() in self.weekdays
        return True


def _opt_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(frozen=True, slots=True)
class Line:
    """What one rule contributed: points for a base rule, extra points for a campaign."""

    rule_id: int | None
    name: Mapping[str, str] | str  # the rule's name (see RuleSpec.name)
    kind: RuleKind
    points: int
    capped: bool = False  # the rule's per_receipt_cap took points away
    multiplier: Decimal | None = None  # campaigns only

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (ledger entry details, API responses)."""
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "name": self.name if isinstance(self.name, str) else dict(self.name),
            "kind": self.kind.value,
            "points": self.points,
            "capped": self.capped,
        }
        if self.multiplier is not None:
            out["multiplier"] = str(self.multiplier)
        return out


@dataclass(frozen=True, slots=True)
class Calculation:
    """The result of :func:`calculate`: ``points`` is what the member is credited."""

    amount: Decimal
    on: date
    points: int
    base_points: int
    multiplier: Decimal = _ONE
    capped_by: str | None = None  # None | "rule" | "daily"
    lines: tuple[Line, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form: Decimals as strings, the date in ISO format."""
        return {
            "amount": str(self.amount),
            "on": self.on.isoformat(),
            "points": self.points,
            "base_points": self.base_points,
            "multiplier": str(self.multiplier),
            "capped_by": self.capped_by,
            "lines": [line.as_dict() for line in self.lines],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calculation:
        """The inverse of :meth:`as_dict` (e.g. from a ledger entry's details)."""
        lines = tuple(
            Line(
                rule_id=line.get("rule_id"),
                name=line.get("name", ""),
                kind=RuleKind(line["kind"]),
                points=int(line["points"]),
                capped=bool(line.get("capped", False)),
                multiplier=_opt_decimal(line.get("multiplier")),
            )
            for line in data.get("lines", ())
        )
        return cls(
            amount=Decimal(data["amount"]),
            on=date.fromisoformat(data["on"]),
            points=int(data["points"]),
            base_points=int(data["base_points"]),
            multiplier=Decimal(data.get("multiplier", "1")),
            capped_by=data.get("capped_by"),
            lines=lines,
        )


def _base_points(rule: RuleSpec, amount: Decimal) -> int:
    if rule.kind == RuleKind.ratio:
        raw = amount * rule.points_per_unit
        return int(raw.quantize(_ONE, rounding=_ROUNDING[rule.rounding]))
    # threshold: whole steps only; a rule without a usable step gives nothing
    if not rule.step_amount or rule.step_amount <= 0:
        return 0
    steps = (amount / rule.step_amount).to_integral_value(rounding=ROUND_FLOOR)
    return int(steps) * rule.step_points


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _capped(points: int, cap: int | None) -> tuple[int, bool]:
    if cap is not None and points > cap:
        return cap, True
    return points, False


def calculate(
    rules: Iterable[RuleSpec],
    amount: Decimal,
    on: date,
    *,
    earned_today: int = 0,
    daily_cap: int | None = None,
) -> Calculation:
    """Points for spending ``amount`` on ``on`` under ``rules`` (see the module docstring).

    ``earned_today`` is what the member already earned that day; ``daily_cap`` the
    tenant's limit (``None`` = none). Raises ``TypeError`` for a float amount.
    """
    amount = _decimal(amount, "amount")
    if not isinstance(on, date):
        raise TypeError("on must be a date")
    rules = list(rules)
    for rule in rules:
        if not isinstance(rule, RuleSpec):
            raise TypeError(f"rules must be RuleSpec values, not {type(rule).__name__}")
    if amount <= 0:
        return Calculation(amount=amount, on=on, points=0, base_points=0)

    # Enough digits for any amount a caller can type: quantize must never overflow.
    with decimal.localcontext() as ctx:
        ctx.prec = 60 + len(amount.as_tuple().digits) + max(0, amount.adjusted())
        return _calculate(rules, amount, on, earned_today, daily_cap)


def _calculate(
    rules: Sequence[RuleSpec],
    amount: Decimal,
    on: date,
    earned_today: int,
    daily_cap: int | None,
) -> Calculation:
    lines: list[Line] = []
    rule_capped = False
    base = 0
    for rule in rules:
        if rule.kind not in _BASE_KINDS or not rule.in_effect(amount, on):
            continue
        points, capped = _capped(_base_points(rule, amount), rule.per_receipt_cap)
        rule_capped |= capped
        base += points
        lines.append(Line(rule.id, rule.name, rule.kind, points, capped))

    multiplier = _ONE
    total = base
    previous = base  # floor(base * multipliers so far), before any campaign cap
    for rule in rules:
        if rule.kind != RuleKind.campaign or not rule.in_effect(amount, on):
            continue
        multiplier *= rule.multiplier
        running = _floor(base * multiplier)
        extra, capped = _capped(running - previous, rule.per_receipt_cap)
        previous = running
        rule_capped |= capped
        total += extra
        lines.append(Line(rule.id, rule.name, rule.kind, extra, capped, rule.multiplier))

    points = max(0, total)
    capped_by = "rule" if rule_capped else None
    if daily_cap is not None:
        allowed = max(0, daily_cap - max(0, earned_today))
        if points > allowed:
            points, capped_by = allowed, "daily"
    return Calculation(
        amount=amount,
        on=on,
        points=points,
        base_points=base,
        multiplier=multiplier,
        capped_by=capped_by,
        lines=tuple(lines),
    )
