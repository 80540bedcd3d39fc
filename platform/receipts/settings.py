"""Each tenant's receipt settings: its receipt profile (what its receipts print) and the
thresholds the checks and the pipeline use. One row per tenant; no row means defaults.

The pipeline reads them with :func:`get_receipt_settings`; the console's receipt profile
page and onboarding save them with :func:`save_receipt_settings` (validated, audited).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from loyalchat import db
from loyalchat.context import require_tenant
from loyalchat.domain import DomainError
from loyalchat.extensions.receipts import ReceiptProfile
from loyalchat.receipts.profile import profile_from_dict, profile_to_dict
from loyalchat.receipts.tables import ReceiptSettings
from loyalchat.scoping import new_row, scoped_insert, scoped_select
from loyalchat.tenants import audit
from loyalchat.tenants.tables import Tenant

MAX_LIMIT = Decimal("1000000")  # HK$1,000,000: no single shop receipt is above it
# (name, lowest, highest) of the whole-number settings.
BOUNDS = {
    "window_days": (1, 90),
    "ask_hours": (1, 72),
    "review_hours": (1, 168),
    "per_hour": (1, 100),
    "per_day": (1, 500),
}


@dataclass(frozen=True)
class ReceiptRules:
    """A tenant's receipt settings as the pipeline uses them."""

    profile: ReceiptProfile = field(default_factory=ReceiptProfile)
    window_days: int = 7
    review_limit: Decimal | None = None
    confirm_below: float = 0.8
    ask_hours: int = 12
    review_hours: int = 24
    per_hour: int = 3
    per_day: int = 6

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (money as a decimal string), for the audit log and the API."""
        data = asdict(self)
        data["profile"] = profile_to_dict(self.profile)
        data["review_limit"] = None if self.review_limit is None else str(self.review_limit)
        return data


async def get_receipt_settings() -> ReceiptRules:
    """The current tenant's settings; the profile's time zone and currency default to the
    tenant's own when the profile does not name them."""
    tenant = (
        await Tenant.select(Tenant.timezone, Tenant.currency)
        .where(Tenant.id == require_tenant())
        .first()
    )
    row = await scoped_select(ReceiptSettings).output(load_json=True).first()
    stored = dict(row["profile"] or {}) if row else {}
    if tenant:
        stored.setdefault("timezone", tenant["timezone"])
        stored.setdefault("currency", tenant["currency"])
    try:
        profile = profile_from_dict(stored)
    except (ValueError, TypeError, InvalidOperation, IndexError):
        profile = profile_from_dict({k: stored[k] for k in ("timezone", "currency")})
    if row is None:
        return ReceiptRules(profile=profile)
    return ReceiptRules(
        profile=profile,
        window_days=row["window_days"],
        review_limit=row["review_limit"],
        confirm_below=float(row["confirm_below"]),
        ask_hours=row["ask_hours"],
        review_hours=row["review_hours"],
        per_hour=row["per_hour"],
        per_day=row["per_day"],
    )


def validated(rules: ReceiptRules) -> ReceiptRules:
    """``rules`` checked, or a :class:`DomainError` naming the field."""
    for name, (low, high) in BOUNDS.items():
        value = getattr(rules, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise DomainError(
                f"{name} is a whole number from {low} to {high}", code="invalid_setting", field=name
            )
    if not 0.0 <= float(rules.confirm_below) <= 1.0:
        raise DomainError(
            "confirm_below is a confidence from 0 to 1",
            code="invalid_setting",
            field="confirm_below",
        )
    limit = rules.review_limit
    if limit is not None and (
        not isinstance(limit, Decimal) or not limit.is_finite() or not 0 < limit <= MAX_LIMIT
    ):
        raise DomainError(
            f"the review limit is an amount above 0 and up to {MAX_LIMIT}, or none",
            code="invalid_setting",
            field="review_limit",
        )
    low_high = rules.profile.amount_range
    if low_high is not None and not (0 <= low_high[0] <= low_high[1] <= MAX_LIMIT):
        raise DomainError(
            "the amount range runs from a low amount to a higher one",
            code="invalid_setting",
            field="amount_range",
        )
    return replace(
        rules,
        review_limit=None if limit is None else limit.quantize(Decimal("0.01")),
        confirm_below=round(float(rules.confirm_below), 3),
    )


async def save_receipt_settings(
    rules: ReceiptRules, *, action: str = "receipt_settings.set"
) -> ReceiptRules:
    """Store the tenant's settings (one statement, insert or update) and audit the change."""
    rules = validated(rules)
    values = {
        "profile": profile_to_dict(rules.profile),
        "window_days": rules.window_days,
        "review_limit": rules.review_limit,
        "confirm_below": rules.confirm_below,
        "ask_hours": rules.ask_hours,
        "review_hours": rules.review_hours,
        "per_hour": rules.per_hour,
        "per_day": rules.per_day,
    }
    async with db.write_transaction():
        before = await get_receipt_settings()
        row = new_row(ReceiptSettings, updated_at=datetime.now(UTC), **values)
        columns = [getattr(ReceiptSettings, k) for k in values] + [ReceiptSettings.updated_at]
        await scoped_insert(ReceiptSettings, row).on_conflict(
            target=ReceiptSettings.tenant, action="DO UPDATE", values=columns
        )
        after = await get_receipt_settings()
        await audit.record(
            action, "receipt_settings", before=before.as_dict(), after=after.as_dict()
        )
    return after
