"""Purchases, point adjustments and member merges: the loyalty work above the ledger.

This domain sits above members, ledger, rules and rewards and asks each through its own
service: the rules calculate (``rules.calculator``, pure), the ledger moves points
(``ledger.service``), members and rewards move their own rows. Nothing below imports it.
Every function works on the current tenant (``loyalchat.scoping``); results carry what
a caller shows, so no controller reads again what was just written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from loyalchat import db, events
from loyalchat.domain import Conflict, DomainError
from loyalchat.ledger import figures
from loyalchat.ledger import service as ledger
from loyalchat.members import merge as member_merge
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberOut
from loyalchat.members.tables import MemberStatus
from loyalchat.purchases.schemas import PurchaseOut
from loyalchat.rewards import service as rewards
from loyalchat.rules import service as rules
from loyalchat.rules.calculator import Calculation, calculate
from loyalchat.rules.policy import expires_at, get_policy, zone
from loyalchat.tenants import audit

__all__ = ["adjust_points", "merge_members", "record_purchase"]

MAX_AMOUNT = Decimal("999999999999.99")  # what Numeric(14, 2) holds
CENT = Decimal("0.01")
REFERENCE_PREFIX = "purchase:"


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
    return PurchaseOut(
        points=entry.points,
        balance=entry.balance_after,
        entry=entry,
        calculation=Calculation.from_dict(entry.details["calculation"]),
        amount=first_amount,
        reference=entry.reference.removeprefix(REFERENCE_PREFIX),
        replayed=True,
    )


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
    key = key or f"{REFERENCE_PREFIX}{reference}"
    policy = await get_policy()
    tz = zone(policy)
    now = datetime.now(UTC)
    today = now.astimezone(tz).date()
    rules_in_force = [rule.spec() for rule in await rules.list_rules(active_only=True)]
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
            earned = await figures.earned_on(member_id, today, tz)
            calc = calculate(
                rules_in_force, amount, on or today, earned_today=earned, daily_cap=policy.daily_cap
            )
            if calc.points == 0:
                return PurchaseOut(0, member["points"], None, calc, amount, reference)
            entry = await ledger.earn(
                member_id,
                calc.points,
                key=key,
                reason="purchase",
                reference=f"{REFERENCE_PREFIX}{reference}",
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
    return PurchaseOut(
        calc.points, entry.balance_after, entry, calc, amount, reference, entry.replayed
    )


async def adjust_points(member_id: int, points: int, *, key: str, reason: str) -> ledger.EntryOut:
    """A manual adjustment by staff; points added expire like earned points (the policy).

    The entry carries the new balance (``balance_after``) and ``replayed``.
    """
    expiry = expires_at(datetime.now(UTC), await get_policy()) if points > 0 else None
    return await ledger.adjust(member_id, points, key=key, reason=reason, expires_at=expiry)


async def merge_members(keep_no: str, absorb_no: str, reason: str) -> MemberOut:
    """Fold member ``absorb_no`` into ``keep_no``; returns the kept member as merged.

    One transaction: both members locked (lowest id first), the kept member takes the
    absorbed one's identities and empty profile fields (``members.merge``), its reward
    grants (``rewards.service.move_grants``), its points and stored value
    (``ledger.service.transfer_all``: lots keep their expiry); the absorbed member stays
    as ``status="merged"`` pointing at the kept one, its wallet links revoked.

    Raises ``DomainError`` with code ``reason_required``, ``invalid_merge`` (a member into
    itself) or ``member_merged`` (either one already merged); ``NotFound`` for a number
    that is not the current tenant's.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("say why these members are merged", code="reason_required")
    keep_id = (await members.get_member(keep_no)).id
    absorb_id = (await members.get_member(absorb_no)).id
    if keep_id == absorb_id:
        raise DomainError("a member cannot be merged into itself", code="invalid_merge")

    async with db.write_transaction():
        keep, absorb = await member_merge.lock_pair(keep_id, absorb_id)
        folded = await member_merge.fold_into(keep, absorb)
        grants = await rewards.move_grants(absorb_id, keep_id)
        points = await ledger.transfer_all(
            absorb_id, keep_id, key_prefix=f"merge:{absorb_id}", reason=reason
        )
        await member_merge.mark_merged(absorb_id, keep_id)
        await audit.record(
            "member.merge",
            f"member:{keep_id}",
            before={"absorbed": absorb["member_no"], **folded.before},
            after={
                "reason": reason,
                "identities": folded.identities,
                "grants": grants,
                "points": points,
                **folded.after,
            },
        )
        kept = await members.get_member_by_id(keep_id)
    await events.emit(
        "member_merged",
        {"member_id": keep_id, "member_no": keep["member_no"], "absorbed_no": absorb["member_no"]},
    )
    return kept
