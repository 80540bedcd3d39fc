"""Receipts as the rest of the app sees them: one is received, read back, listed per member.

:func:`receive` stores the row ``received`` and queues the pipeline's actor
(:mod:`loyalchat.receipts.tasks`); reading, checks and the credit are
:mod:`loyalchat.receipts.pipeline`'s, staff decisions :mod:`loyalchat.receipts.review`'s.
Every function works on the current tenant: another tenant's receipt is ``NotFound``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from loyalchat.conversations.tables import Conversation
from loyalchat.domain import DomainError, NotFound
from loyalchat.media import store
from loyalchat.members.tables import Member
from loyalchat.receipts.tables import Receipt, ReceiptStatus
from loyalchat.scoping import new_row, scoped_insert, scoped_select

__all__ = ["ReceiptOut", "get_receipt", "member_receipts", "receive", "set_enqueue"]

log = logging.getLogger(__name__)

MAX_PAGE = 200

# Set by loyalchat.receipts.tasks when the actor exists in this process (a broker is set up).
_enqueue: Callable[[int], Any] | None = None


def set_enqueue(send: Callable[[int], Any] | None) -> None:
    """How :func:`receive` queues ``process_receipt(receipt_id)`` (the tasks module sets it)."""
    global _enqueue
    _enqueue = send


@dataclass(frozen=True, slots=True)
class ReceiptOut:
    """One receipt photo and what became of it (the API, the console and the bot read it)."""

    id: int
    member_id: int | None
    member_no: str
    conversation_id: int | None
    channel: str
    branch: str
    media_key: str
    sha256: str
    phash: str
    status: str
    merchant: str
    receipt_no: str
    receipt_date: date | None
    total: Decimal | None
    total_confidence: float
    member_amount: Decimal | None
    amount: Decimal | None
    points: int
    entry_id: int | None
    fields: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    ask_expires_at: datetime | None = None
    decided_by: str = ""
    decided_at: datetime | None = None
    note: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return ReceiptStatus(self.status).is_final

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: money as decimal strings, dates and times ISO 8601."""

        def money(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:.2f}"

        def when(value: date | datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "member_id": self.member_id,
            "member_no": self.member_no,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "branch": self.branch,
            "media_key": self.media_key,
            "sha256": self.sha256,
            "phash": self.phash,
            "status": self.status,
            "merchant": self.merchant,
            "receipt_no": self.receipt_no,
            "receipt_date": when(self.receipt_date),
            "total": money(self.total),
            "total_confidence": round(float(self.total_confidence), 3),
            "member_amount": money(self.member_amount),
            "amount": money(self.amount),
            "points": self.points,
            "entry_id": self.entry_id,
            "fields": self.fields,
            "checks": self.checks,
            "reasons": self.reasons,
            "ask_expires_at": when(self.ask_expires_at),
            "decided_by": self.decided_by,
            "decided_at": when(self.decided_at),
            "note": self.note,
            "created_at": when(self.created_at),
            "updated_at": when(self.updated_at),
        }


def _json(value: Any, empty: Any) -> Any:
    return value if isinstance(value, type(empty)) else empty


def receipt_out(row: Mapping[str, Any]) -> ReceiptOut:
    """A row of :func:`receipt_query` (JSON loaded) as a :class:`ReceiptOut`."""
    return ReceiptOut(
        id=row["id"],
        member_id=row["member"],
        member_no=row.get("member_no") or "",
        conversation_id=row["conversation"],
        channel=row["channel"],
        branch=row["branch"],
        media_key=row["media_key"],
        sha256=row["sha256"],
        phash=row["phash"],
        status=row["status"],
        merchant=row["merchant"],
        receipt_no=row["receipt_no"],
        receipt_date=row["receipt_date"],
        total=row["total"],
        total_confidence=float(row["total_confidence"] or 0.0),
        member_amount=row["member_amount"],
        amount=row["amount"],
        points=row["points"],
        entry_id=row["entry"],
        fields=_json(row["fields"], {}),
        checks=_json(row["checks"], []),
        reasons=_json(row["reasons"], []),
        ask_expires_at=row["ask_expires_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        note=row["note"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def receipt_query():
    """The current tenant's receipts with their member's number, JSON columns loaded."""
    member_no = Receipt.member.member_no.as_alias("member_no")  # type: ignore[attr-defined]
    return scoped_select(Receipt, *Receipt.all_columns(), member_no).output(load_json=True)


async def get_receipt(receipt_id: int) -> ReceiptOut:
    """The current tenant's receipt ``receipt_id``; ``NotFound`` otherwise."""
    row = await receipt_query().where(Receipt.id == receipt_id).first()
    if row is None:
        raise NotFound("no such receipt", code="not_found")
    return receipt_out(row)


async def member_receipts(
    member_id: int, *, limit: int = 50, before_id: int | None = None
) -> list[ReceiptOut]:
    """A member's receipts, newest first; ``before_id`` pages on (ids below it)."""
    limit = max(1, min(int(limit), MAX_PAGE))
    query = receipt_query().where(Receipt.member == member_id)
    if before_id is not None:
        query = query.where(Receipt.id < before_id)
    rows = await query.order_by(Receipt.id, ascending=False).limit(limit)
    return [receipt_out(row) for row in rows]


async def receive(
    *,
    media_key: str,
    member_id: int | None,
    conversation_id: int | None = None,
    inbound_message_id: int | None = None,
    channel: str = "",
    branch: str = "",
) -> int:
    """Keep a receipt photo (already in the tenant's media store) and queue its reading.

    Idempotent on ``inbound_message_id``: the same chat message received again (a retried
    webhook) gives the same receipt id and queues nothing more. The row exists before any
    queue message, so a lost message only delays the receipt (the sweeper sends it again).
    """
    if not store.is_key(media_key):
        raise DomainError("not a media key", code="invalid_media_key")
    if member_id is not None:
        found = await scoped_select(Member, Member.id).where(Member.id == member_id).first()
        if found is None:
            raise NotFound("no such member", code="not_found")
    if conversation_id is not None:
        conversation = (
            await scoped_select(Conversation, Conversation.channel)
            .where(Conversation.id == conversation_id)
            .first()
        )
        if conversation is None:
            raise NotFound("no such conversation", code="not_found")
        channel = channel or conversation["channel"]
    row = new_row(
        Receipt,
        member=member_id,
        conversation=conversation_id,
        inbound_message=inbound_message_id,
        channel=(channel or "")[:32],
        branch=(branch or "")[:32],
        media_key=media_key,
        sha256=media_key,  # the media store's key is the sha256 of the bytes as received
        status=ReceiptStatus.received.value,
    )
    inserted = await (
        scoped_insert(Receipt, row).on_conflict(action="DO NOTHING").returning(Receipt.id)
    )
    if not inserted:
        existing = (
            await scoped_select(Receipt, Receipt.id)
            .where(Receipt.inbound_message == inbound_message_id)
            .first()
        )
        if existing is None:  # pragma: no cover - the conflict implies the row
            raise RuntimeError("receipt conflicted but is not there")
        return existing["id"]
    receipt_id = inserted[0]["id"]
    await enqueue(receipt_id)
    return receipt_id


async def enqueue(receipt_id: int) -> None:
    """Queue the pipeline for ``receipt_id``; an unreachable queue leaves it to the sweeper.

    Sent possibly before the caller's transaction commits: the actor retries a receipt it
    cannot see yet (:mod:`loyalchat.receipts.tasks`).
    """
    if _enqueue is None:
        log.warning("no receipt actor in this process; the sweeper will process %s", receipt_id)
        return
    try:
        await asyncio.to_thread(_enqueue, receipt_id)
    except Exception:  # Redis down, a broker error: the row is kept, the sweeper re-sends
        log.warning("could not enqueue receipt %s; the sweeper will", receipt_id, exc_info=True)
