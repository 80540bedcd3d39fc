"""Decisions on receipts the pipeline could not make alone: staff's, and the member's answer.

Staff approve (with a corrected amount or date), reject with a reason, or ask for a
clearer photo; each decision is one conditional move from ``needs_review`` or
``awaiting_member`` (a second click finds the receipt decided: ``already_decided``), is
written to the audit log in the same transaction, and the member is told in their
language. An approval credits like the pipeline (:mod:`loyalchat.receipts.credit`): its
claims make a receipt count once, so approving a copy of a credited receipt is refused
(``duplicate``, naming the other receipt).

:func:`member_answer` reads the member's reply to "Reply 1 to confirm or type the right
amount" (the bot's ``receipt_amount`` step); :func:`expire_questions` sends the receipts
whose member did not answer in time to review.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from loyalchat import db
from loyalchat.bot import words
from loyalchat.context import cross_tenant, tenant_context
from loyalchat.domain import Conflict, DomainError, NotFound
from loyalchat.i18n import N_
from loyalchat.receipts import replies
from loyalchat.receipts.checks.amount import ABSURD
from loyalchat.receipts.credit import Credited, Duplicate, Moved, credit
from loyalchat.receipts.reading.parse.amounts import find_amounts
from loyalchat.receipts.service import ReceiptOut, get_receipt
from loyalchat.receipts.settings import get_receipt_settings
from loyalchat.receipts.shop import claim_keys, shop_profile
from loyalchat.receipts.tables import Receipt, ReceiptStatus
from loyalchat.scoping import scoped_update, unscoped
from loyalchat.tenants import audit
from loyalchat.tenants.service import current_tenant

__all__ = [
    "REJECT_REASONS",
    "approve",
    "ask_clearer_photo",
    "expire_questions",
    "member_answer",
    "reject",
]

log = logging.getLogger(__name__)

S = ReceiptStatus
DECIDABLE = (S.needs_review.value, S.awaiting_member.value)

# Staff's reasons, as the member reads them (the console shows the same texts).
REJECT_REASONS: dict[str, str] = {
    "other_shop": N_("This receipt is from another shop."),
    "duplicate": N_("This receipt was already used."),
    "too_old": N_("This receipt is too old for points."),
    "unreadable": N_("We could not read this receipt."),
    "not_a_receipt": N_("This photo is not a receipt."),
    "other": N_("The shop could not accept this receipt."),
}


def _already(receipt: ReceiptOut) -> Conflict:
    by = receipt.decided_by or "the receipt pipeline"
    return Conflict(
        f"this receipt was already decided ({receipt.status}) by {by}",
        code="already_decided",
        decided_by=receipt.decided_by,
        status_now=receipt.status,
    )


async def _decidable(receipt_id: int) -> ReceiptOut:
    receipt = await get_receipt(receipt_id)  # NotFound for another tenant's id
    if receipt.status not in DECIDABLE:
        raise _already(receipt)
    return receipt


def _checked_amount(amount: Any) -> Decimal:
    if isinstance(amount, float | bool) or not isinstance(amount, Decimal | int):
        raise DomainError("the amount must be a decimal number", code="invalid_amount")
    amount = Decimal(amount)
    if (
        not amount.is_finite()
        or not 0 < amount < ABSURD
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise DomainError(
            f"the amount is above 0, below {ABSURD}, with at most 2 decimals", code="invalid_amount"
        )
    return amount.quantize(Decimal("0.01"))


async def _keys(receipt: ReceiptOut, amount: Decimal, on: date | None) -> list[str]:
    profile = shop_profile(await current_tenant(), await get_receipt_settings())
    return claim_keys(
        sha256=receipt.sha256,
        merchant=receipt.merchant,
        receipt_no=receipt.receipt_no,
        on=on,
        total=amount,
        names=profile.names,
    )


async def approve(
    receipt_id: int,
    *,
    by: str,
    amount: Decimal | None = None,
    on: date | None = None,
    note: str = "",
) -> ReceiptOut:
    """Credit a receipt staff checked: ``amount`` (default: what the member typed, else the
    total read) on ``on`` (default: the date read). ``duplicate`` when another credited
    receipt holds its photo or its number, date and total (``receipt_id`` names it)."""
    receipt = await _decidable(receipt_id)
    if receipt.member_id is None:
        raise DomainError("this receipt has no member to credit", code="no_member")
    chosen = amount if amount is not None else (receipt.member_amount or receipt.total)
    if chosen is None:
        raise DomainError("say the amount of this receipt", code="amount_required")
    chosen = _checked_amount(chosen)
    on = on or receipt.receipt_date
    keys = await _keys(receipt, chosen, on)
    try:
        async with db.write_transaction():
            result = await credit(
                receipt_id,
                held=receipt.status,
                member_id=receipt.member_id,
                amount=chosen,
                on=on,
                keys=keys,
                values={
                    Receipt.decided_by: by[:200],
                    Receipt.note: note[:2000],
                    Receipt.reasons: [],
                    Receipt.receipt_date: on,
                },
            )
            if isinstance(result, Credited):
                await audit.record(
                    "receipt.approve",
                    f"receipt:{receipt_id}",
                    before={"status": receipt.status, "total": _text(receipt.total)},
                    after={
                        "status": S.credited.value,
                        "amount": _text(result.amount),
                        "points": result.points,
                        "date": on.isoformat() if on else None,
                        "by": by,
                        "note": note,
                    },
                )
    except Moved:
        raise _already(await get_receipt(receipt_id)) from None
    if isinstance(result, Duplicate):
        raise DomainError(
            f"receipt {result.other_id} was already credited for this receipt",
            code="duplicate",
            receipt_id=result.other_id,
        )
    who = await replies.audience(receipt.conversation_id, receipt.member_id)
    text = await replies.credited_text(who, result.amount, result.points, result.balance)
    await replies.tell(who, text, key=f"receipt:{receipt_id}:credited")
    return await get_receipt(receipt_id)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


async def _close(
    receipt: ReceiptOut, *, by: str, reasons: list[str], note: str, action: str
) -> bool:
    """Move a decidable receipt to ``rejected`` with the audit row, in one transaction."""
    now = datetime.now(UTC)
    async with db.write_transaction():
        moved = (
            await scoped_update(
                Receipt,
                {
                    Receipt.status: S.rejected.value,
                    Receipt.reasons: reasons,
                    Receipt.decided_by: by[:200],
                    Receipt.decided_at: now,
                    Receipt.note: note[:2000],
                    Receipt.updated_at: now,
                },
                use_auto_update=False,
            )
            .where((Receipt.id == receipt.id) & Receipt.status.is_in(list(DECIDABLE)))
            .returning(Receipt.id)
        )
        if moved:
            await audit.record(
                action,
                f"receipt:{receipt.id}",
                before={"status": receipt.status},
                after={"status": S.rejected.value, "reasons": reasons, "by": by, "note": note},
            )
    return bool(moved)


async def reject(receipt_id: int, *, by: str, reason: str, note: str = "") -> ReceiptOut:
    """Refuse a receipt with one of :data:`REJECT_REASONS`; the member is told it."""
    if reason not in REJECT_REASONS:
        raise DomainError(
            f"reason is one of {', '.join(REJECT_REASONS)}", code="invalid_reason", field="reason"
        )
    receipt = await _decidable(receipt_id)
    if not await _close(receipt, by=by, reasons=[reason], note=note, action="receipt.reject"):
        raise _already(await get_receipt(receipt_id))
    who = await replies.audience(receipt.conversation_id, receipt.member_id)
    text = who.say(replies.REJECTED, reason=who.say(REJECT_REASONS[reason]))
    await replies.tell(who, text, key=f"receipt:{receipt_id}:rejected")
    return await get_receipt(receipt_id)


async def ask_clearer_photo(receipt_id: int, *, by: str) -> ReceiptOut:
    """Close the receipt (``rejected``, reason ``clearer_photo``) and ask the member for a
    clearer photo, which arrives as a new receipt (this one no longer counts as a copy)."""
    receipt = await _decidable(receipt_id)
    closed = await _close(
        receipt, by=by, reasons=["clearer_photo"], note="", action="receipt.ask_clearer_photo"
    )
    if not closed:
        raise _already(await get_receipt(receipt_id))
    who = await replies.audience(receipt.conversation_id, receipt.member_id)
    await replies.tell(who, who.say(replies.CLEARER_PHOTO), key=f"receipt:{receipt_id}:clearer")
    return await get_receipt(receipt_id)


def typed_amount(text: str) -> Decimal | None:
    """The one amount a member typed ("123.4", "HK$ 123.40"), or None."""
    found = [a.value for a in find_amounts(text or "")]
    if len(found) != 1:
        return None
    try:
        return _checked_amount(found[0].quantize(Decimal("0.01")))
    except DomainError:
        return None


async def member_answer(receipt_id: int, text: str) -> list[str] | None:
    """The bot's replies to the member's answer about receipt ``receipt_id``'s total; None
    when the receipt no longer waits for one (the bot reads the message as usual).

    "1" (or yes) credits the total read; the same amount typed too; another amount sends
    the receipt to review with both figures; anything else asks again.
    """
    try:
        receipt = await get_receipt(receipt_id)
    except NotFound:
        return None
    if receipt.status != S.awaiting_member.value or receipt.total is None:
        return None
    who = await replies.audience(receipt.conversation_id, receipt.member_id)
    confirmed = words.clean(text) == "1" or words.yes_or_no(text) is True
    typed = None if confirmed else typed_amount(text)
    if not confirmed and typed is None:
        shown = replies.money(receipt.total, who.currency)
        return [who.say(replies.ASK_AGAIN, amount=shown)]
    if confirmed or typed == receipt.total:
        return await _confirmed(receipt, who)
    rules = await get_receipt_settings()
    moved = (
        await scoped_update(
            Receipt,
            {
                Receipt.status: S.needs_review.value,
                Receipt.member_amount: typed,
                Receipt.reasons: ["amount_disputed"],
                Receipt.updated_at: datetime.now(UTC),
            },
            use_auto_update=False,
        )
        .where((Receipt.id == receipt_id) & (Receipt.status == S.awaiting_member.value))
        .returning(Receipt.id)
    )
    if not moved:
        return None
    shown = replies.money(typed, who.currency)  # type: ignore[arg-type]
    return [who.say(replies.AMOUNT_TO_REVIEW, amount=shown, hours=rules.review_hours)]


async def _confirmed(receipt: ReceiptOut, who: replies.Audience) -> list[str] | None:
    assert receipt.total is not None and receipt.member_id is not None
    keys = await _keys(receipt, receipt.total, receipt.receipt_date)
    try:
        result = await credit(
            receipt.id,
            held=S.awaiting_member.value,
            member_id=receipt.member_id,
            amount=receipt.total,
            on=receipt.receipt_date,
            keys=keys,
            values={Receipt.member_amount: receipt.total, Receipt.reasons: []},
        )
    except Moved:
        return None
    except DomainError as exc:  # the earning rules refused (a merged member): staff decide
        log.warning("receipt %s not credited on the member's answer: %s", receipt.id, exc)
        await scoped_update(
            Receipt,
            {
                Receipt.status: S.needs_review.value,
                Receipt.reasons: [exc.code],
                Receipt.updated_at: datetime.now(UTC),
            },
            use_auto_update=False,
        ).where((Receipt.id == receipt.id) & (Receipt.status == S.awaiting_member.value))
        rules = await get_receipt_settings()
        return [who.say(replies.IN_REVIEW, hours=rules.review_hours)]
    if isinstance(result, Duplicate):
        used = result.used_on
        await scoped_update(
            Receipt,
            {
                Receipt.status: S.rejected.value,
                Receipt.reasons: ["duplicate"],
                Receipt.decided_at: datetime.now(UTC),
                Receipt.updated_at: datetime.now(UTC),
            },
            use_auto_update=False,
        ).where((Receipt.id == receipt.id) & (Receipt.status == S.awaiting_member.value))
        reason = (
            who.say(replies.DUPLICATE, date=replies.day(used, who.locale))
            if used
            else who.say(REJECT_REASONS["duplicate"])
        )
        return [who.say(replies.REJECTED, reason=reason)]
    return [await replies.credited_text(who, result.amount, result.points, result.balance)]


async def expire_questions(now: datetime | None = None, *, limit: int = 500) -> int:
    """Receipts of every tenant whose member did not answer by ``ask_expires_at`` go to
    review (reason ``no_answer``); the member is told. Returns how many moved."""
    now = now or datetime.now(UTC)
    with cross_tenant("receipt questions past their time, of every tenant"):
        table = unscoped(Receipt)
        rows = (
            await table.select(table.id, table.tenant)
            .where((table.status == S.awaiting_member.value) & (table.ask_expires_at < now))
            .order_by(table.ask_expires_at)
            .limit(limit)
        )
    moved = 0
    for row in rows:
        with tenant_context(row["tenant"]):
            moved += await _expire_one(row["id"])
    return moved


async def _expire_one(receipt_id: int) -> int:
    changed = (
        await scoped_update(
            Receipt,
            {
                Receipt.status: S.needs_review.value,
                Receipt.reasons: ["no_answer"],
                Receipt.updated_at: datetime.now(UTC),
            },
            use_auto_update=False,
        )
        .where((Receipt.id == receipt_id) & (Receipt.status == S.awaiting_member.value))
        .returning(Receipt.conversation, Receipt.member)
    )
    if not changed:
        return 0
    rules = await get_receipt_settings()
    who = await replies.audience(changed[0]["conversation"], changed[0]["member"])
    text = who.say(replies.IN_REVIEW, hours=rules.review_hours)
    await replies.tell(who, text, key=f"receipt:{receipt_id}:review")
    return 1
