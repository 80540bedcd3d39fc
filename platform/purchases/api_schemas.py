"""What the JSON API takes and shows for purchases and point adjustments, with OpenAPI examples.

Money travels as a decimal string (``ledger.api_schemas.Money``); the ledger entry a
purchase or an adjustment wrote is shown as ``ledger.api_schemas.LedgerEntry``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.openapi.spec import Example

from loyalchat.ledger.api_schemas import LedgerEntry, Money
from loyalchat.ledger.service import MAX_POINTS

NOT_BLANK = r"\S"  # at least one character that is not a space (a JSON schema pattern searches)


class PurchaseCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A purchase made by the member; the shop's earning rules decide the points."""

    amount: Money
    reference: Annotated[
        str,
        msgspec.Meta(
            description=(
                "The receipt or order number, not blank: a purchase is credited once per reference."
            ),
            examples=["POS-123"],
            min_length=1,
            max_length=100,
            extra_json_schema={"extra": {"pattern": NOT_BLANK}},
        ),
    ]


class AdjustmentCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A manual correction of the points balance (needs the manager role)."""

    points: Annotated[
        int,
        msgspec.Meta(
            description="Positive adds, negative takes away; not zero.",
            examples=[-50],
            ge=-MAX_POINTS,
            le=MAX_POINTS,
            extra_json_schema={"extra": {"not": {"const": 0}}},
        ),
    ]
    reason: Annotated[
        str,
        msgspec.Meta(
            description="Why, not blank.",
            examples=["Points credited twice on 12 May"],
            min_length=1,
            max_length=500,
            extra_json_schema={"extra": {"pattern": NOT_BLANK}},
        ),
    ]


class Purchase(msgspec.Struct, kw_only=True):
    """What a purchase earned. ``replayed``: this reference was credited before."""

    member_no: Annotated[str, msgspec.Meta(examples=["M000123"])]
    amount: Money
    reference: Annotated[str, msgspec.Meta(examples=["POS-123"])]
    points: Annotated[int, msgspec.Meta(description="Points earned.", examples=[100])]
    balance: Annotated[int, msgspec.Meta(description="The new points balance.", examples=[1350])]
    entry: LedgerEntry | None  # None when the purchase earned nothing
    calculation: Annotated[
        dict[str, Any], msgspec.Meta(description="How each earning rule contributed.")
    ]
    replayed: bool = False


PURCHASE_EXAMPLES = [
    Example(summary="HK$1,000 at the till", value={"amount": "1000.00", "reference": "POS-123"})
]
ADJUSTMENT_EXAMPLES = [
    Example(summary="Take back points", value={"points": -50, "reason": "Credited twice"}),
    Example(summary="Goodwill points", value={"points": 200, "reason": "Sorry for the wait"}),
]
