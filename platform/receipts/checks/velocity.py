"""Is this member sending receipts unusually fast? A burst goes to staff, never rejected.

Counts the member's receipts (every status: a burst of refused ones is a sign too) in the
hour before this one and on the shop's day (its time zone), this one included, against the
tenant's ``per_hour`` and ``per_day`` (``shop.config["velocity"]``).
"""

from __future__ import annotations

import datetime as dt

from loyalchat.receipts.checks.base import CheckResult, ReceiptFacts, ShopProfile
from loyalchat.receipts.checks.dates import shop_zone
from loyalchat.receipts.tables import Receipt
from loyalchat.scoping import scoped_count

DEFAULT_PER_HOUR = 3
DEFAULT_PER_DAY = 6


class VelocityCheck:
    name = "velocity"
    label = "Member is not sending receipts unusually fast"
    order = 35

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        if receipt.member_id is None:
            return CheckResult.ok("no member")
        limits = shop.config.get("velocity") or {}
        per_hour = int(limits.get("per_hour", DEFAULT_PER_HOUR))
        per_day = int(limits.get("per_day", DEFAULT_PER_DAY))
        now = receipt.received_at or dt.datetime.now(dt.UTC)
        zone = shop_zone(shop)
        local = now.astimezone(zone)
        midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
        mine = Receipt.member == receipt.member_id
        if receipt.receipt_id is not None:
            mine = mine & (Receipt.id <= receipt.receipt_id)
        in_hour = await scoped_count(Receipt).where(
            mine & (Receipt.created_at > now - dt.timedelta(hours=1)) & (Receipt.created_at <= now)
        )
        if in_hour > per_hour:
            return CheckResult.warning(
                "velocity", f"{in_hour} receipts in an hour (limit {per_hour})"
            )
        in_day = await scoped_count(Receipt).where(
            mine & (Receipt.created_at >= midnight) & (Receipt.created_at <= now)
        )
        if in_day > per_day:
            return CheckResult.warning("velocity", f"{in_day} receipts today (limit {per_day})")
        return CheckResult.ok(f"{in_hour} this hour, {in_day} today")
