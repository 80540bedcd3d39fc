"""Receipts waiting for review, for the console's review-queue tests.

A drawn receipt (tests/drawn_receipts.py) is stored in the shop's media store, with a
prepared copy for the OCR boxes, and a ``receipt`` row is written as the pipeline leaves
it (fields with confidences and boxes, checks, reasons), so the pages read real rows and
real pictures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from loyalchat.context import Actor, tenant_context
from loyalchat.media import store
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate
from loyalchat.receipts.tables import Receipt
from loyalchat.scoping import new_row, save_row
from tests.drawn_receipts import as_bytes, draw_receipt

LINES = (
    "DEMO CAFE",
    "示範咖啡",
    "日期 2026-12-01 12:30",
    "奶茶 x2      HK$ 36.00",
    "總計 HK$ 123.40",
    "多謝惠顧 Thank you",
)


def receipt_photo(lines: tuple[str, ...] = LINES, width: int = 560) -> bytes:
    return as_bytes(draw_receipt(lines, width=width), "PNG")


def read_fields(ocr_media_key: str, *, total: str = "123.40", day: str = "2026-12-01") -> dict:
    """``Receipt.fields`` as the pipeline writes it (boxes are fractions of the prepared
    image): the drawn receipt's lines, one per 52 px row of ``60 + 52 * 6`` px."""
    height = 60 + 52 * len(LINES)

    def box(row: int) -> list[float]:
        top = (30 + 52 * row) / height
        return [30 / 560, round(top, 4), 420 / 560, round(top + 40 / height, 4)]

    return {
        "merchant": {"value": "DEMO CAFE", "confidence": 0.97, "box": box(0)},
        "date": {"value": day, "confidence": 0.93, "box": box(2)},
        "total": {"value": total, "confidence": 0.55, "box": box(4)},
        "receipt_no": None,
        "currency": {"value": "HKD", "confidence": 0.9, "box": None},
        "total_label": "總計",
        "qr": [],
        "warnings": [],
        "engine": "rapidocr",
        "rotation": 0,
        "ocr_media_key": ocr_media_key,
        "lines": [
            {"text": text, "confidence": 0.9, "box": box(row)} for row, text in enumerate(LINES)
        ],
    }


async def member_of(tenant_id: int, name: str = "Chan Tai Man", phone: str = "") -> Any:
    with tenant_context(tenant_id, Actor("system")):
        return await members.create_member(MemberCreate(name=name, phone=phone))


async def plant_receipt(
    tenant_id: int,
    member_id: int | None,
    *,
    status: str = "needs_review",
    reasons: tuple[str, ...] = ("amount_over_review_limit",),
    total: str | None = "123.40",
    channel: str = "whatsapp",
    conversation_id: int | None = None,
    age: timedelta = timedelta(hours=2),
    photo: bytes | None = None,
    boxes: bool = True,
    decided_by: str = "",
    receipt_date: date | None = date(2026, 12, 1),
) -> int:
    """A receipt row of ``tenant_id`` as the pipeline leaves it, with its photo stored."""
    with tenant_context(tenant_id, Actor("system")):
        data = photo or receipt_photo()
        key = await store.save(data, kind="receipt")
        fields: dict[str, Any] = {}
        if boxes:
            # The prepared image is the photo itself here (already upright).
            fields = read_fields(key, total=total or "0")
        checks = [
            {"check": "merchant", "outcome": "pass", "reason": "", "detail": "", "params": {}},
            {"check": "date", "outcome": "pass", "reason": "", "detail": "", "params": {}},
            {
                "check": "amount",
                "outcome": "warn",
                "reason": "amount_over_review_limit",
                "detail": "over the review limit",
                "params": {"limit": "HK$100.00"},
            },
        ]
        created = datetime.now(UTC) - age
        row = new_row(
            Receipt,
            member=member_id,
            conversation=conversation_id,
            channel=channel,
            media_key=key,
            sha256=key,
            status=status,
            fields=fields,
            checks=checks,
            reasons=list(reasons),
            merchant="DEMO CAFE",
            receipt_date=receipt_date,
            total=Decimal(total) if total is not None else None,
            total_confidence=0.55,
            decided_by=decided_by,
            created_at=created,
            updated_at=created,
        )
        await save_row(row)
        return row.id
