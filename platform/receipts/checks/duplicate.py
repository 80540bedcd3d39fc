"""Was this receipt used before, by anyone in this shop? Never only the sender's receipts.

Three looks, strongest first:

- the same file (``sha256``) as another receipt of the tenant that was credited or is
  still waiting (review, the member's answer, or sent earlier and in flight): fail;
- the same merchant, receipt number, date and total (when a number was read) as a
  credited receipt (its ``key:`` claim) or a waiting one: fail, "already used on <date>";
- a perceptual hash close to another receipt's with the same total
  (:func:`loyalchat.receipts.fingerprint.looks_alike`): a hint only (re-captures and
  other receipts of one shop overlap), so staff look.

Reads the database, writes nothing: the credit's own claims (``receipt_claim``, unique per
tenant) are what make a receipt count once when two arrive at the same moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from loyalchat.receipts.checks.base import CheckResult, ReceiptFacts, ShopProfile
from loyalchat.receipts.checks.dates import shop_zone
from loyalchat.receipts.checks.merchant import merchant_key, names_match
from loyalchat.receipts.fingerprint import REVIEW_DISTANCE, distance
from loyalchat.receipts.tables import Receipt, ReceiptClaim, ReceiptStatus
from loyalchat.scoping import scoped_select

# Receipts that count as "used": credited, or waiting for someone to decide.
HELD = (
    ReceiptStatus.credited.value,
    ReceiptStatus.needs_review.value,
    ReceiptStatus.awaiting_member.value,
)
IN_FLIGHT = (
    ReceiptStatus.received.value,
    ReceiptStatus.reading.value,
    ReceiptStatus.checking.value,
)
# How far back the perceptual hint looks (days), beyond the shop's window.
LOOKALIKE_DAYS = 60
MAX_LOOKALIKE_ROWS = 5000


def merchant_norm(merchant: str, names: Iterable[str]) -> str:
    """The merchant part of a receipt's key: the shop name it matched (so two photos that
    read the name slightly differently agree), else the name as read, folded."""
    for name in names:
        if merchant and names_match(merchant, name):
            return merchant_key(name)
    return merchant_key(merchant)


def receipt_number(text: str) -> str:
    return "".join(text.split()).upper()[:64]


def receipt_key(
    merchant: str, number: str, on: dt.date | None, total: Decimal | None, names: Iterable[str]
) -> str | None:
    """``key:<merchant>|<number>|<date>|<total>``, or None without a number, date or total."""
    number = receipt_number(number)
    if not number or on is None or total is None:
        return None
    key = f"key:{merchant_norm(merchant, names)}|{number}|{on.isoformat()}|{total:.2f}"
    return key[:255]


def sha_key(sha256: str) -> str:
    return f"sha:{sha256}"


def _used_on(row: dict[str, Any], shop: ShopProfile) -> str:
    """The day the other receipt was used, in the shop's time zone (as its member saw it)."""
    when = row.get("decided_at") or row.get("created_at")
    if not isinstance(when, dt.datetime):
        return ""
    return when.astimezone(shop_zone(shop)).date().isoformat()


def _printed_time(fields: Any) -> str:
    """``HH:MM`` of the time read on a stored receipt (``Receipt.fields``), or ""."""
    found = fields.get("time") if isinstance(fields, dict) else None
    value = found.get("value") if isinstance(found, dict) else None
    return value[:5] if isinstance(value, str) else ""


def _earlier_or_held(receipt_id: int | None):
    """Other receipts that were credited or wait for a decision, or came in before this one
    and are still being read (of two sent at once, the later one is the duplicate)."""
    held = Receipt.status.is_in(list(HELD))
    if receipt_id is None:
        return held
    return (Receipt.id != receipt_id) & (
        held | (Receipt.status.is_in(list(IN_FLIGHT)) & (Receipt.id < receipt_id))
    )


class DuplicateCheck:
    name = "duplicate"
    label = "Receipt was not used before"
    order = 25

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        if found := await self._same_file(receipt, shop):
            return found
        if found := await self._same_key(receipt, shop):
            return found
        if found := await self._same_day_and_total(receipt):
            return found
        if found := await self._looks_alike(receipt):
            return found
        return CheckResult.ok()

    async def _same_file(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult | None:
        sha = receipt.image.sha256
        if not sha:
            return None
        other = (
            await scoped_select(Receipt, Receipt.id, Receipt.created_at, Receipt.decided_at)
            .where((Receipt.sha256 == sha) & _earlier_or_held(receipt.receipt_id))
            .order_by(Receipt.id)
            .first()
        )
        if other is None:
            return None
        return CheckResult.failure(
            "duplicate", f"same file as receipt {other['id']}", date=_used_on(other, shop)
        )

    async def _same_key(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult | None:
        fields = receipt.fields
        number = fields.receipt_number.value if fields.receipt_number else ""
        on = fields.date.value if fields.date else None
        total = fields.total.value if fields.total else None
        merchant = fields.merchant_name.value if fields.merchant_name else ""
        key = receipt_key(merchant, number, on, total, shop.names)
        if key is None:
            return None
        claim = (
            await scoped_select(ReceiptClaim, ReceiptClaim.receipt)
            .where(ReceiptClaim.key == key)
            .first()
        )
        candidates = []
        if claim is not None and claim["receipt"] != receipt.receipt_id:
            candidates = await scoped_select(
                Receipt, Receipt.id, Receipt.created_at, Receipt.decided_at
            ).where(Receipt.id == claim["receipt"])
        if not candidates:
            rows = await scoped_select(
                Receipt, Receipt.id, Receipt.merchant, Receipt.created_at, Receipt.decided_at
            ).where(
                (Receipt.receipt_no == receipt_number(number))
                & (Receipt.receipt_date == on)
                & (Receipt.total == total)
                & _earlier_or_held(receipt.receipt_id)
            )
            mine = merchant_norm(merchant, shop.names)
            candidates = [r for r in rows if merchant_norm(r["merchant"], shop.names) == mine]
        if not candidates:
            return None
        other = min(candidates, key=lambda row: row["id"])
        return CheckResult.failure(
            "duplicate",
            f"same number, date and total as receipt {other['id']}",
            date=_used_on(other, shop),
        )

    async def _same_day_and_total(self, receipt: ReceiptFacts) -> CheckResult | None:
        """No receipt number read: another receipt of the same day and total (and the
        same time, when both printed one) may be this one photographed again; staff look.
        (With a number, :meth:`_same_key` decides: two numbers are two receipts.)"""
        fields = receipt.fields
        if fields.receipt_number or fields.date is None or fields.total is None:
            return None
        total = fields.total.value
        if not isinstance(total, Decimal) or not total.is_finite():
            return None
        rows = await (
            scoped_select(Receipt, Receipt.id, Receipt.fields)
            .where(
                (Receipt.receipt_date == fields.date.value)
                & (Receipt.total == total)
                & _earlier_or_held(receipt.receipt_id)
            )
            .output(load_json=True)
        )
        mine = fields.time.value.strftime("%H:%M") if fields.time else ""
        for row in rows:
            theirs = _printed_time(row["fields"])
            if mine and theirs and mine != theirs:
                continue  # two purchases of the same amount on one day
            return CheckResult.warning(
                "looks_alike", f"same date and total as receipt {row['id']}, no number read"
            )
        return None

    async def _looks_alike(self, receipt: ReceiptFacts) -> CheckResult | None:
        """A photo close to another receipt's with the same total: staff look.

        The total must agree: one shop's receipts share a printed layout, and their
        perceptual hashes are often as close as two photos of one receipt (8-22 bits
        apart on the demo's), so the hash alone would send half a shop's receipts to
        review. A receipt whose total was not read goes to review anyway."""
        phash = receipt.image.phash
        total = receipt.fields.total.value if receipt.fields.total else None
        if not phash or not isinstance(total, Decimal) or not total.is_finite():
            return None
        since = (receipt.received_at or dt.datetime.now(dt.UTC)) - dt.timedelta(days=LOOKALIKE_DAYS)
        rows = (
            await scoped_select(Receipt, Receipt.id, Receipt.phash)
            .where(
                (Receipt.phash != "")
                & (Receipt.total == total)
                & (Receipt.created_at >= since)
                & _earlier_or_held(receipt.receipt_id)
            )
            .order_by(Receipt.id, ascending=False)
            .limit(MAX_LOOKALIKE_ROWS)
        )
        for row in rows:
            try:
                gap = distance(phash, row["phash"])
            except ValueError:  # a hash of another method (an older row)
                continue
            if gap <= REVIEW_DISTANCE:
                return CheckResult.warning(
                    "looks_alike", f"looks like receipt {row['id']} (distance {gap}, same total)"
                )
        return None
