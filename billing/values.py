"""Plain values a provider's event carries: ids, amounts and moments, checked and bounded.

Shared by :mod:`loyalchat.billing.payments` and :mod:`loyalchat.billing.lifecycle` (a
module of its own so neither imports the other for them)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _amount(value: Any, fallback: Decimal) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return fallback
    if not amount.is_finite() or amount < 0 or amount > Decimal("9999999999.99"):
        return fallback
    return amount.quantize(Decimal("0.01"))


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    number = _int(value)
    return datetime.fromtimestamp(number, UTC) if number else None
