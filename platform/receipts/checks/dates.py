"""Is the receipt recent? Its printed date against the tenant's window, in the shop's time.

"Today" is the day at the shop (its time zone) when the photo reached us, not on the
server. A date up to :data:`CLOCK_SLACK` ahead passes: a till's clock set a little fast,
or a receipt printed just after midnight while our clock says the day before; further
ahead is a misread or a forged date and fails. A date read with little confidence never
rejects by itself: it goes to review with the same reason.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalchat.receipts.checks.base import CheckResult, ReceiptFacts, ShopProfile

CLOCK_SLACK = dt.timedelta(days=1)
# Below this confidence a date that would reject the receipt sends it to review instead.
SURE_DATE = 0.5
DEFAULT_TIMEZONE = "Asia/Hong_Kong"


def shop_zone(shop: ShopProfile) -> ZoneInfo:
    try:
        return ZoneInfo(shop.timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def printed_at(receipt: ReceiptFacts, zone: ZoneInfo) -> tuple[dt.datetime, bool, float] | None:
    """(when, has a time, confidence) in the shop's zone, from what was read; None if no date."""
    fields = receipt.fields
    if fields.issued_at is not None:
        when = fields.issued_at.value
        when = when.astimezone(zone) if when.tzinfo else when.replace(tzinfo=zone)
        return when, True, fields.issued_at.confidence
    if fields.date is not None:
        when = dt.datetime.combine(fields.date.value, dt.time(), tzinfo=zone)
        return when, False, fields.date.confidence
    return None


class DateCheck:
    name = "date"
    label = "Receipt is recent"
    order = 20

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        zone = shop_zone(shop)
        found = printed_at(receipt, zone)
        if found is None:
            return CheckResult.warning("no_date")
        when, has_time, confidence = found
        now = (receipt.received_at or dt.datetime.now(dt.UTC)).astimezone(zone)
        # Without a printed time, the date's last moment is the fair comparison.
        latest = when if has_time else when + dt.timedelta(days=1)
        if latest > now + CLOCK_SLACK:
            return self._refuse(
                "future_date", confidence, f"printed {when.isoformat()}, now {now.isoformat()}"
            )
        days_old = (now.date() - when.date()).days
        if days_old > shop.window_days:
            return self._refuse(
                "too_old", confidence, f"{days_old} days old", days=shop.window_days
            )
        return CheckResult.ok(f"{days_old} days old")

    @staticmethod
    def _refuse(reason: str, confidence: float, detail: str, **params: object) -> CheckResult:
        if confidence < SURE_DATE:
            return CheckResult.warning(
                reason, f"{detail} (date read with {confidence:.2f})", **params
            )
        return CheckResult.failure(reason, detail, **params)
