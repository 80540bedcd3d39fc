"""Input and output types of the rules service.

Inputs are msgspec Structs, so the JSON API and console forms can decode straight into
them (``msgspec.json.decode(body, type=RuleCreate)`` reads numbers as exact Decimals).
Money and rates are ``Decimal``; points are ``int``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from loyalchat.rules.calculator import RuleSpec
from loyalchat.rules.tables import ExpiryPolicy, Rounding, RuleKind

MAX_NAME = 120  # each language
_Language = Literal["zh-Hant", "zh-Hans", "en"]
RuleName = Annotated[
    dict[_Language, Annotated[str, msgspec.Meta(max_length=MAX_NAME)]]
    | Annotated[str, msgspec.Meta(max_length=MAX_NAME)],
    msgspec.Meta(description="A text, or {zh-Hant, zh-Hans, en}; at least one language not blank."),
]


class RuleCreate(msgspec.Struct, kw_only=True):
    """A new earning rule. Which fields matter depends on ``kind`` (see calculator).

    ``name``: a text (stored in the one language it is written in) or ``{zh-Hant, zh-Hans,
    en}``; an empty Chinese script is made from the other.
    """

    name: RuleName
    kind: RuleKind
    active: bool = True
    points_per_unit: Decimal = Decimal(0)  # ratio: points per currency unit
    rounding: Rounding = Rounding.down  # ratio
    step_amount: Decimal | None = None  # threshold: every step_amount spent...
    step_points: int = 0  # ...earns step_points
    min_spend: Decimal | None = None  # any rule: applies from this amount up
    per_receipt_cap: int | None = None  # any rule: at most this many points per purchase
    multiplier: Decimal = Decimal(1)  # campaign
    starts_on: date | None = None  # any rule: first day (inclusive)
    ends_on: date | None = None  # any rule: last day (inclusive)
    weekdays: list[int] = msgspec.field(default_factory=list)  # campaign: ISO 1-7, [] = all


class RuleUpdate(msgspec.Struct, kw_only=True):
    """A partial change: fields left UNSET keep their value; ``None`` clears optional ones."""

    name: RuleName | UnsetType = UNSET
    kind: RuleKind | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    points_per_unit: Decimal | UnsetType = UNSET
    rounding: Rounding | UnsetType = UNSET
    step_amount: Decimal | UnsetType | None = UNSET
    step_points: int | UnsetType = UNSET
    min_spend: Decimal | UnsetType | None = UNSET
    per_receipt_cap: int | UnsetType | None = UNSET
    multiplier: Decimal | UnsetType = UNSET
    starts_on: date | UnsetType | None = UNSET
    ends_on: date | UnsetType | None = UNSET
    weekdays: list[int] | UnsetType = UNSET


class RuleOut(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    name: dict[str, str]  # {zh-Hant, zh-Hans, en}: show it with loyalchat.rewards.text.pick
    kind: RuleKind
    active: bool
    points_per_unit: Decimal
    rounding: Rounding
    step_amount: Decimal | None
    step_points: int
    min_spend: Decimal | None
    per_receipt_cap: int | None
    multiplier: Decimal
    starts_on: date | None
    ends_on: date | None
    weekdays: list[int]
    created_at: datetime
    updated_at: datetime

    def spec(self) -> RuleSpec:
        """This rule as the calculator takes it."""
        return RuleSpec(
            id=self.id,
            name=self.name,
            kind=self.kind,
            active=self.active,
            points_per_unit=self.points_per_unit,
            rounding=self.rounding,
            step_amount=self.step_amount,
            step_points=self.step_points,
            min_spend=self.min_spend,
            per_receipt_cap=self.per_receipt_cap,
            multiplier=self.multiplier,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            weekdays=tuple(self.weekdays),
        )


class PolicyIn(msgspec.Struct, kw_only=True):
    """The tenant's points policy: when earned points expire, and the daily cap."""

    expiry: ExpiryPolicy = ExpiryPolicy.never
    expiry_months: int = 12  # rolling: months after earning (1-120)
    expiry_month: int = 12  # yearly: month (1-12)...
    expiry_day: int = 31  # ...and day of the yearly expiry (Feb 29 not allowed)
    daily_cap: int | None = None  # points one member may earn per day; None = no cap


class PolicyOut(msgspec.Struct, kw_only=True, frozen=True):
    """The policy in force; ``timezone`` is the tenant's (yearly expiry and "today")."""

    expiry: ExpiryPolicy = ExpiryPolicy.never
    expiry_months: int = 12
    expiry_month: int = 12
    expiry_day: int = 31
    daily_cap: int | None = None
    timezone: str = "Asia/Hong_Kong"
