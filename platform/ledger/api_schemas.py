"""What the JSON API takes and shows for points and stored value, with OpenAPI examples.

Money travels as a decimal string (``"1000.00"``): a JSON number is refused, because a
client's float may already have lost the cents (``loyalchat.api_errors``:
``amount_not_string``). Purchases and point adjustments have their types in
``purchases.api_schemas``.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec
from litestar.openapi.spec import Example

from loyalchat.domain import DomainError
from loyalchat.ledger.service import EntryOut
from loyalchat.ledger.stored_value import ValueEntryOut

# An amount above 0 with at most two decimal places, ASCII digits only (a full-width
# "１００" is not an amount): up to 12 digits before the point (Numeric(14, 2)) for a
# purchase, up to 1,000,000.00 (ledger.stored_value.MAX_AMOUNT) for stored value. The document
# states the pattern; parse_money() checks it, so a mismatch is 422 ``invalid_amount``.
PURCHASE_AMOUNT = r"^(?:[1-9][0-9]{0,11}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?))$"
STORED_VALUE_AMOUNT = (
    r"^(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,2})?|1000000(?:\.00?)?|0\.(?:0[1-9]|[1-9][0-9]?))$"
)
_PURCHASE_AMOUNT = re.compile(PURCHASE_AMOUNT, re.ASCII)


def _money(pattern: str, example: str, most: str) -> Any:
    return Annotated[
        str,
        msgspec.Meta(
            description=(
                "An amount of money as a decimal string (never a JSON number): above 0, "
                f"at most {most}, at most two decimal places."
            ),
            examples=[example],
            max_length=24,
            extra_json_schema={"extra": {"pattern": pattern}},
        ),
    ]


# How the API refuses money (``responses=`` entries for api_errors.error_responses).
MONEY_AS_NUMBER = (400, "amount_not_string")
INVALID_AMOUNT = (422, "invalid_amount")
# A reference already used with another amount (purchases, stored value).
REFERENCE_REUSED = (409, "reference_reused", {"amount": "7.00", "entry_id": 41})

Money = _money(PURCHASE_AMOUNT, "1000.00", "999,999,999,999.99")
StoredValueAmount = _money(STORED_VALUE_AMOUNT, "50.00", "1,000,000.00")


def parse_money(text: str) -> Decimal:
    """``"1000.00"`` -> ``Decimal("1000.00")``; ``invalid_amount`` for anything else.

    Matches the document's pattern the way a JSON schema does (a search); a stored-value
    amount past its cap is then refused by ``ledger.stored_value``.
    """
    if not _PURCHASE_AMOUNT.search(text):
        raise DomainError(f"not an amount: {text!r}", code="invalid_amount")
    try:
        return Decimal(text.strip())
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise DomainError(f"not an amount: {text!r}", code="invalid_amount") from exc


class StoredValueChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A top-up (money taken at the till) or a spend (the member pays with stored value)."""

    amount: StoredValueAmount
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    reference: Annotated[
        str,
        msgspec.Meta(
            description=(
                "The receipt or order number. A top-up or spend with a reference is applied "
                "once per reference, with or without Idempotency-Key: a repeat answers 200 "
                "with the first entry; another amount is 409 reference_reused."
            ),
            examples=["POS-124"],
            max_length=100,
        ),
    ] = ""


class LedgerEntry(msgspec.Struct, kw_only=True):
    """One change of a member's points: who, when, why."""

    id: int
    kind: Annotated[
        str,
        msgspec.Meta(
            description='"earn", "redeem", "adjust", "expire" or "reverse".', examples=["earn"]
        ),
    ]
    points: Annotated[int, msgspec.Meta(examples=[100])]
    balance_after: Annotated[int, msgspec.Meta(examples=[1350])]
    reason: str
    reference: Annotated[str, msgspec.Meta(examples=["purchase:POS-123"])]
    actor: Annotated[str, msgspec.Meta(examples=["api_key:3"])]
    actor_label: Annotated[str, msgspec.Meta(examples=["Shop POS"])]
    created_at: datetime


def entry_json(entry: EntryOut) -> LedgerEntry:
    return LedgerEntry(
        id=entry.id,
        kind=entry.kind,
        points=entry.points,
        balance_after=entry.balance_after,
        reason=entry.reason,
        reference=entry.reference,
        actor=entry.actor,
        actor_label=entry.actor_label,
        created_at=entry.created_at,
    )


class StoredValueEntry(msgspec.Struct, kw_only=True):
    """One change of a member's stored value."""

    id: int
    kind: Annotated[
        str, msgspec.Meta(description='"topup", "spend", "grant" or "reverse".', examples=["topup"])
    ]
    amount: Annotated[str, msgspec.Meta(examples=["50.00"])]
    balance_after: Annotated[str, msgspec.Meta(examples=["150.00"])]
    reason: str
    reference: str
    actor_label: str
    created_at: datetime
    replayed: bool = False


def value_entry_json(entry: ValueEntryOut) -> StoredValueEntry:
    return StoredValueEntry(
        id=entry.id,
        kind=entry.kind,
        amount=f"{entry.amount:.2f}",
        balance_after=f"{entry.balance_after:.2f}",
        reason=entry.reason,
        reference=entry.reference,
        actor_label=entry.actor_label,
        created_at=entry.created_at,
        replayed=entry.replayed,
    )


TOP_UP_EXAMPLES = [
    Example(summary="HK$50 paid in cash", value={"amount": "50.00", "reference": "POS-125"})
]
SPEND_EXAMPLES = [
    Example(summary="Pay HK$38.50", value={"amount": "38.50", "reference": "POS-124"})
]
