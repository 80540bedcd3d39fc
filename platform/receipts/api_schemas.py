"""What the JSON API shows of a member's receipts (``GET /api/v1/members/{member_no}/receipts``).

The API speaks ``member_no`` (never internal ids of members or conversations), money as
decimal strings, and of the fields read only the values and their confidences: the OCR
boxes, lines and the prepared image are the review page's business.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

from loyalchat.members.api_schemas import MEMBER_NO
from loyalchat.receipts.service import ReceiptOut
from loyalchat.receipts.tables import ReceiptStatus

# The fields of Receipt.fields that hold {"value", "confidence", ...} (receipts.pipeline).
READ_FIELDS = (
    "merchant",
    "date",
    "time",
    "total",
    "currency",
    "receipt_no",
    "payment_method",
)
STATUSES = ", ".join(f'"{s.value}"' for s in ReceiptStatus)


class FieldRead(msgspec.Struct, kw_only=True):
    """One value read on the photo, with how sure the engine was (0 to 1)."""

    value: Annotated[str, msgspec.Meta(examples=["123.40"])]
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1, examples=[0.97])]


class CheckResult(msgspec.Struct, kw_only=True):
    """One receipt check's answer."""

    check: Annotated[str, msgspec.Meta(examples=["merchant"])]
    outcome: Annotated[str, msgspec.Meta(description='"pass", "warn" or "fail".')]
    reason: Annotated[str, msgspec.Meta(description="A reason code, or empty.")]
    detail: str


class Receipt(msgspec.Struct, kw_only=True):
    """A photo of a receipt a member sent, and what became of it."""

    id: int
    member_no: Annotated[str, MEMBER_NO]
    status: Annotated[str, msgspec.Meta(description=f"One of {STATUSES}.", examples=["credited"])]
    channel: Annotated[
        str,
        msgspec.Meta(description='How it came: "whatsapp", "wechat", "webchat"...'),
    ]
    branch: Annotated[str, msgspec.Meta(description="The store whose QR code the member scanned.")]
    merchant: Annotated[str, msgspec.Meta(examples=["DEMO CAFE"])]
    receipt_no: str
    date: Annotated[date | None, msgspec.Meta(description="The date printed on the receipt.")]
    total: Annotated[
        str | None,
        msgspec.Meta(description="The total read, a decimal string.", examples=["123.40"]),
    ]
    member_amount: Annotated[
        str | None, msgspec.Meta(description="The amount the member typed when asked.")
    ]
    amount: Annotated[
        str | None,
        msgspec.Meta(description="The amount credited, a decimal string.", examples=["123.40"]),
    ]
    points: Annotated[int, msgspec.Meta(description="Points credited.", examples=[123])]
    reasons: Annotated[
        list[str],
        msgspec.Meta(description="Reason codes behind the status.", examples=[["other_shop"]]),
    ]
    checks: list[CheckResult]
    fields: Annotated[
        dict[str, FieldRead],
        msgspec.Meta(description=f"The values read: {', '.join(READ_FIELDS)} (those found)."),
    ]
    warnings: Annotated[list[str], msgspec.Meta(description="What the reader was unsure of.")]
    decided_by: Annotated[
        str, msgspec.Meta(description="Who decided it after a review; empty: the pipeline.")
    ]
    decided_at: datetime | None
    note: str
    created_at: datetime
    updated_at: datetime


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _fields(fields: dict[str, Any]) -> dict[str, FieldRead]:
    out: dict[str, FieldRead] = {}
    for name in READ_FIELDS:
        item = fields.get(name)
        if isinstance(item, dict) and item.get("value") not in (None, ""):
            confidence = float(item.get("confidence") or 0.0)
            out[name] = FieldRead(
                value=str(item["value"]), confidence=min(max(confidence, 0.0), 1.0)
            )
    return out


def _checks(checks: list[Any]) -> list[CheckResult]:
    return [
        CheckResult(
            check=str(c.get("check", "")),
            outcome=str(c.get("outcome", "")),
            reason=str(c.get("reason") or ""),
            detail=str(c.get("detail") or ""),
        )
        for c in checks
        if isinstance(c, dict)
    ]


def receipt_json(receipt: ReceiptOut) -> Receipt:
    """A receipt as the API shows it."""
    warnings = receipt.fields.get("warnings")
    return Receipt(
        id=receipt.id,
        member_no=receipt.member_no,
        status=receipt.status,
        channel=receipt.channel,
        branch=receipt.branch,
        merchant=receipt.merchant,
        receipt_no=receipt.receipt_no,
        date=receipt.receipt_date,
        total=_money(receipt.total),
        member_amount=_money(receipt.member_amount),
        amount=_money(receipt.amount),
        points=receipt.points,
        reasons=[str(r) for r in receipt.reasons],
        checks=_checks(receipt.checks),
        fields=_fields(receipt.fields),
        warnings=[str(w) for w in warnings] if isinstance(warnings, list) else [],
        decided_by=receipt.decided_by,
        decided_at=receipt.decided_at,
        note=receipt.note,
        created_at=receipt.created_at or receipt.updated_at or datetime.now(UTC),
        updated_at=receipt.updated_at or receipt.created_at or datetime.now(UTC),
    )
