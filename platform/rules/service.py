"""Earning rules and purchases; with ``rules.policy``, the only writer of the rules tables.

Every function works on the current tenant (``loyalchat.scoping``); another tenant's rule
is simply not found. The arithmetic lives in :mod:`loyalchat.rules.calculator`; this
module validates, stores, audits, and credits purchases through ``ledger.service``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec

from loyalchat import db, events
from loyalchat.bounds import DATE_RANGE_TEXT, in_date_range, storable_text
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.ledger import service as ledger
from loyalchat.members.tables import MemberStatus
from loyalchat.rules.calculator import Calculation, calculate
from loyalchat.rules.policy import expires_at, get_policy, set_policy, zone
from loyalchat.rules.schemas import PurchaseOut, RuleCreate, RuleOut, RuleUpdate
from loyalchat.rules.tables import EarningRule, ExpiryPolicy, Rounding, RuleKind
from loyalchat.scoping import new_row, save_row, scoped_delete, scoped_select, scoped_update
from loyalchat.tenants import audit

# The policy functions are part of this service's interface (docs/loyalty.md).
__all__ = [
    "adjust_points",
    "create_rule",
    "delete_rule",
    "expires_at",
    "get_policy",
    "get_rule",
    "list_rules",
    "preview",
    "record_purchase",
    "set_policy",
    "update_rule",
    "zone",
]

MAX_POINTS = 100_000_000  # caps and step points: the ledger's per-entry limit
MAX_AMOUNT = Decimal("999999999999.99")  # what Numeric(14, 2) holds
CENT = Decimal("0.01")
RULE_FIELDS = tuple(RuleCreate.__struct_fields__)


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(message, code="invalid_rule", field=field)


def _decimal_field(values: dict[str, Any], name: str, places: int, below: Decimal) -> None:
    """Check a Decimal column: no floats, finite, at most ``places`` decimals, < ``below``."""
    value = values[name]
    if value is None:
        return
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not float")
    if isinstance(value, int) and not isinstance(value, bool):
        value = values[name] = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _invalid(f"{name} must be a number", name)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise _invalid(f"{name} allows at most {places} decimal places", name)
    if abs(value) >= below:
        raise _invalid(f"{name} must be below {below:,}", name)


def _int_field(values: dict[str, Any], name: str, low: int, *, optional: bool = False) -> None:
    value = values[name]
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_POINTS:
        raise _invalid(f"{name} must be a whole number from {low} to {MAX_POINTS:,}", name)


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """The rule's column values, checked and normalised; raises ``invalid_rule``."""
    values = dict(values)
    name = values["name"].strip() if isinstance(values["name"], str) else ""
    storable_text(name, "name")
    if not 1 <= len(name) <= 120:
        raise _invalid("a rule needs a name of 1-120 characters", "name")
    values["name"] = name
    try:
        kind = values["kind"] = RuleKind(values["kind"])
        values["rounding"] = Rounding(values["rounding"])
    except ValueError as exc:
        raise _invalid(str(exc), "kind") from None
    _decimal_field(values, "points_per_unit", 4, Decimal(10) ** 8)
    _decimal_field(values, "step_amount", 2, Decimal(10) ** 12)
    _decimal_field(values, "min_spend", 2, Decimal(10) ** 12)
    _decimal_field(values, "multiplier", 2, Decimal(10) ** 4)
    _int_field(values, "step_points", 0)
    _int_field(values, "per_receipt_cap", 1, optional=True)
    if kind == RuleKind.ratio and not values["points_per_unit"] > 0:
        raise _invalid("a ratio rule needs points per unit above 0", "points_per_unit")
    if kind == RuleKind.threshold:
        if values["step_amount"] is None or not values["step_amount"] > 0:
            raise _invalid("a threshold rule needs a step amount above 0", "step_amount")
        if not values["step_points"] > 0:
            raise _invalid("a threshold rule needs step points above 0", "step_points")
    if kind == RuleKind.campaign and not values["multiplier"] > 0:
        raise _invalid("a campaign needs a multiplier above 0", "multiplier")
    if values["min_spend"] is not None and values["min_spend"] < 0:
        raise _invalid("the minimum spend cannot be negative", "min_spend")
    starts, ends = values["starts_on"], values["ends_on"]
    for field in ("starts_on", "ends_on"):
        day = values[field]
        if day is not None and (not isinstance(day, date) or not in_date_range(day)):
            # PostgreSQL would store year 1 or 9999 as -infinity/infinity.
            raise _invalid(f"{field} must be {DATE_RANGE_TEXT}", field)
    if starts is not None and ends is not None and ends < starts:
        raise _invalid("the end date must be on or after the start date", "ends_on")
    weekdays = values["weekdays"] or []
    if any(not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in weekdays):
        raise _invalid("weekdays are numbers from 1 (Monday) to 7 (Sunday)", "weekdays")
    if weekdays and kind != RuleKind.campaign:
        raise _invalid("weekdays apply to campaign rules only", "weekdays")
    values["weekdays"] = sorted(set(weekdays))
    return values


def _rule_out(row: dict[str, Any]) -> RuleOut:
    return msgspec.convert({k: v for k, v in row.items() if k != "tenant"}, RuleOut)


def _audit_view(rule: RuleOut) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


async def _rule_row(rule_id: int) -> dict[str, Any]:
    row = (
        await scoped_select(EarningRule)
        .where(EarningRule.id == rule_id)
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("earning rule not found", code="not_found")
    return row


async def list_rules(active_only: bool = False) -> list[RuleOut]:
    """The tenant's rules, oldest first (the order the calculator applies campaigns in)."""
    query = scoped_select(EarningRule).order_by(EarningRule.id).output(load_json=True)
    if active_only:
        query = query.where(EarningRule.active == True)  # noqa: E712 (a column expression)
    return [_rule_out(row) for row in await query]


async def get_rule(rule_id: int) -> RuleOut:
    """One rule of the current tenant; ``NotFound`` otherwise."""
    return _rule_out(await _rule_row(rule_id))


async def create_rule(data: RuleCreate) -> RuleOut:
    """Validate and store a new rule (``invalid_rule`` with a message saying what is wrong)."""
    values = _validated(msgspec.structs.asdict(data))
    async with db.write_transaction():
        row = new_row(EarningRule, **{k: _column_value(v) for k, v in values.items()})
        await save_row(row)
        rule = await get_rule(row.id)
        await audit.record("rule.create", f"earning_rule:{rule.id}", after=_audit_view(rule))
    return rule


async def update_rule(rule_id: int, data: RuleUpdate) -> RuleOut:
    """Change the fields ``data`` sets; the whole rule is validated again."""
    async with db.write_transaction():
        before = _rule_out(await _rule_row(rule_id))
        values = _audit_view(before)
        values.update(
            {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        )
        values = _validated(values)
        changes = {getattr(EarningRule, k): _column_value(v) for k, v in values.items()}
        changes[EarningRule.updated_at] = datetime.now(UTC)
        await scoped_update(EarningRule, changes).where(EarningRule.id == rule_id)
        rule = await get_rule(rule_id)
        await audit.record(
            "rule.update",
            f"earning_rule:{rule_id}",
            before=_audit_view(before),
            after=_audit_view(rule),
        )
    return rule


async def delete_rule(rule_id: int) -> None:
    """Delete a rule of the current tenant; ``NotFound`` when it is not ours."""
    async with db.write_transaction():
        before = await get_rule(rule_id)
        await scoped_delete(EarningRule).where(EarningRule.id == rule_id)
        await audit.record("rule.delete", f"earning_rule:{rule_id}", before=_audit_view(before))


def _column_value(value: Any) -> Any:
    # Enums go to the database as their plain string values.
    return value.value if isinstance(value, (RuleKind, Rounding, ExpiryPolicy)) else value


async def preview(amount: Decimal, on: date | None = None) -> Calculation:
    """What ``amount`` would earn on ``on`` (default: today) under the active rules.

    For the console's calculator: the daily cap is left out (it depends on the member).
    """
    policy = await get_policy()
    on = on or datetime.now(zone(policy)).date()
    rules = [rule.spec() for rule in await list_rules(active_only=True)]
    return calculate(rules, amount, on)


# --- purchases -----------------------------------------------------------------------


def _checked_amount(amount: Decimal) -> Decimal:
    if isinstance(amount, float) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    if isinstance(amount, bool):
        raise TypeError("amount must be a Decimal, not bool")
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0:
        raise DomainError("the amount must be above 0", code="invalid_amount")
    if amount != amount.quantize(CENT):
        raise DomainError("the amount has at most 2 decimal places", code="invalid_amount")
    if amount > MAX_AMOUNT:
        raise DomainError(f"the amount must be at most {MAX_AMOUNT:,}", code="invalid_amount")
    return amount.quantize(CENT)


def _replay(entry: ledger.EntryOut, member_id: int, amount: Decimal | None) -> PurchaseOut:
    """The first result for this key. ``amount``: the purchase's own (reference-keyed)
    amount, which must match the first one: a till retrying "POS-9" for another amount is
    another sale under a reused reference, and replaying would hide that it was not credited."""
    if entry.member_id != member_id:
        raise Conflict(
            "this idempotency key was already used for another member",
            code="idempotency_conflict",
        )
    if entry.kind != "earn" or "calculation" not in entry.details:
        raise Conflict(
            "this idempotency key was already used for something else",
            code="idempotency_conflict",
        )
    first_amount = Decimal(entry.details.get("amount", "0"))
    if amount is not None and first_amount != amount:
        raise Conflict(
            f"this reference was already used for {first_amount:.2f}",
            code="reference_reused",
            amount=f"{first_amount:.2f}",
            entry_id=entry.id,
        )
    calculation = Calculation.from_dict(entry.details["calculation"])
    return PurchaseOut(entry.points, entry.balance_after, entry.id, calculation, replayed=True)


async def record_purchase(
    member_id: int,
    amount: Decimal,
    *,
    reference: str,
    key: str | None = None,
    on: date | None = None,
) -> PurchaseOut:
    """Credit a purchase of ``amount`` (on ``on``, default today) through the earning rules.

    One write transaction: lock the member, replay if ``key`` (default
    ``purchase:<reference>``) was used, else compute the points with what the member
    earned today (tenant time zone) against the daily cap, and credit them with
    ``ledger.earn``. A purchase that earns 0 points returns a result without an entry
    (and so is not idempotent: a retry calculates again).
    """
    amount = _checked_amount(amount)
    reference = reference.strip() if isinstance(reference, str) else ""
    if not 1 <= len(reference) <= 100:
        raise DomainError("a reference of 1-100 characters is required", code="invalid_reference")
    # Keyed by its reference, a purchase replays only for the same amount (see _replay).
    same_amount = None if key else amount
    key = key or f"purchase:{reference}"
    policy = await get_policy()
    tz = zone(policy)
    now = datetime.now(UTC)
    today = now.astimezone(tz).date()
    rules = [rule.spec() for rule in await list_rules(active_only=True)]
    nested = db.current_engine().current_transaction.get() is not None
    try:
        async with db.write_transaction():
            member = await ledger.lock_member(member_id)
            if (existing := await ledger.entry_by_key(key)) is not None:
                return _replay(existing, member_id, same_amount)
            if member["status"] == MemberStatus.merged.value:
                # Its points moved to the kept member; crediting it would strand them.
                raise DomainError(
                    "this member was merged into another member", code="member_merged"
                )
            earned = await ledger.earned_on(member_id, today, tz)
            calc = calculate(
                rules, amount, on or today, earned_today=earned, daily_cap=policy.daily_cap
            )
            if calc.points == 0:
                return PurchaseOut(0, member["points"], None, calc)
            entry = await ledger.earn(
                member_id,
                calc.points,
                key=key,
                reason="purchase",
                reference=f"purchase:{reference}",
                details={
                    "amount": str(amount),
                    "lines": [line.as_dict() for line in calc.lines],
                    "calculation": calc.as_dict(),
                },
                expires_at=expires_at(now, policy),
            )
    except Exception as exc:
        # The same key used at the same moment for another member: the loser replays. In
        # a caller's transaction the failed statement spoilt it: only the caller can retry.
        if nested or not db.is_unique_violation(exc):
            raise
        existing = await ledger.entry_by_key(key)
        if existing is None:
            raise
        return _replay(existing, member_id, same_amount)
    if not entry.replayed:
        await events.emit(
            "points_credited",
            {
                "member_id": member_id,
                "entry_id": entry.id,
                "points": calc.points,
                "balance": entry.balance_after,
                "amount": str(amount),
                "reference": entry.reference,
            },
        )
    return PurchaseOut(calc.points, entry.balance_after, entry.id, calc, entry.replayed)


async def adjust_points(member_id: int, points: int, *, key: str, reason: str) -> ledger.EntryOut:
    """A manual adjustment by staff; points added expire like earned points (the policy)."""
    expiry = expires_at(datetime.now(UTC), await get_policy()) if points > 0 else None
    return await ledger.adjust(member_id, points, key=key, reason=reason, expires_at=expiry)
