"""The receipt review queue as staff see it: filtered lists, counts per status, neighbours.

Read-only queries on the ``receipt`` table (decisions are ``receipts.review``). They live
here rather than in the page so the console home, the queue page and the tests ask the
same questions. Everything goes through ``loyalchat.scoping``: another shop's receipts
are never counted or listed.

The queue proper (``needs_review``, ``awaiting_member``) is served oldest first: the
receipt that has waited longest is the next to decide. Decided receipts (credited,
rejected, all) are history and come newest first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from loyalchat.domain import Page
from loyalchat.receipts.tables import IN_FLIGHT, Receipt, ReceiptStatus
from loyalchat.scoping import scoped_count, scoped_select

# The status tabs of the queue page, in order; "all" is every status.
STATUS_TABS = (
    ReceiptStatus.needs_review.value,
    ReceiptStatus.awaiting_member.value,
    ReceiptStatus.credited.value,
    ReceiptStatus.rejected.value,
    "all",
)
DEFAULT_STATUS = ReceiptStatus.needs_review.value
# Waiting for someone: served oldest first (see the module docstring).
WAITING = (ReceiptStatus.needs_review.value, ReceiptStatus.awaiting_member.value)
# Still with the pipeline: nothing for staff to decide yet.
IN_PIPELINE = tuple(status.value for status in IN_FLIGHT)
REASON_CODE = re.compile(r"[a-z0-9_.-]{1,40}", re.ASCII)
CHANNEL_CODE = re.compile(r"[a-z0-9_-]{1,32}", re.ASCII)
MEMBER_NO_MAX = 32
# The same text on PostgreSQL (json cast to text) and SQLite.
_REASON_LIKE = 'CAST("receipt"."reasons" AS TEXT) LIKE {} ESCAPE \'\\\''

_COLUMNS = (
    Receipt.id,
    Receipt.member,
    Receipt.member.member_no.as_alias("member_no"),
    Receipt.member.name.as_alias("member_name"),
    Receipt.conversation,
    Receipt.channel,
    Receipt.branch,
    Receipt.media_key,
    Receipt.status,
    Receipt.reasons,
    Receipt.checks,
    Receipt.merchant,
    Receipt.receipt_date,
    Receipt.total,
    Receipt.total_confidence,
    Receipt.member_amount,
    Receipt.amount,
    Receipt.points,
    Receipt.decided_by,
    Receipt.decided_at,
    Receipt.created_at,
)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue page shows. Built by :meth:`parse` from a query string, so every
    value here is already valid (an unknown status is the default, a bad date none)."""

    status: str = DEFAULT_STATUS
    reason: str = ""
    channel: str = ""
    member_no: str = ""
    since: date | None = None  # received on or after this day (the shop's time zone)
    until: date | None = None  # ... and on or before this one

    @classmethod
    def parse(
        cls,
        *,
        status: str = "",
        reason: str = "",
        channel: str = "",
        member: str = "",
        since: str = "",
        until: str = "",
    ) -> QueueFilter:
        member = member.strip().upper()
        return cls(
            status=status if status in STATUS_TABS else DEFAULT_STATUS,
            reason=reason if REASON_CODE.fullmatch(reason) else "",
            channel=channel if CHANNEL_CODE.fullmatch(channel) else "",
            member_no=member if member.isprintable() and len(member) <= MEMBER_NO_MAX else "",
            since=_day(since),
            until=_day(until),
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """The filter as query-string values (empty ones left out), with ``changes``."""
        values = {
            "status": self.status,
            "reason": self.reason,
            "channel": self.channel,
            "member": self.member_no,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            **changes,
        }
        if values["status"] == DEFAULT_STATUS:
            values["status"] = ""  # the default: a shorter URL
        return {key: str(value) for key, value in values.items() if value}

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond the status tab narrows the list."""
        return bool(self.reason or self.channel or self.member_no or self.since or self.until)


def _day(raw: str) -> date | None:
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if date(2000, 1, 1) <= value <= date(2999, 12, 31) else None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One receipt as a row of the queue."""

    id: int
    member_id: int | None
    member_no: str
    member_name: str
    conversation_id: int | None
    channel: str
    branch: str
    media_key: str
    status: str
    reasons: tuple[str, ...]
    checks: tuple[dict[str, Any], ...]
    merchant: str
    receipt_date: date | None
    total: Decimal | None
    total_confidence: float
    member_amount: Decimal | None
    amount: Decimal | None
    points: int
    decided_by: str
    decided_at: datetime | None
    created_at: datetime
    age: timedelta = field(default=timedelta(0))

    @property
    def waiting(self) -> bool:
        return self.status in WAITING


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _item(row: dict[str, Any], now: datetime) -> QueueItem:
    created = row["created_at"]
    return QueueItem(
        id=row["id"],
        member_id=row["member"],
        member_no=row["member_no"] or "",
        member_name=row["member_name"] or "",
        conversation_id=row["conversation"],
        channel=row["channel"] or "",
        branch=row["branch"] or "",
        media_key=row["media_key"] or "",
        status=row["status"],
        reasons=tuple(str(code) for code in _json_list(row["reasons"])),
        checks=tuple(c for c in _json_list(row["checks"]) if isinstance(c, dict)),
        merchant=row["merchant"] or "",
        receipt_date=row["receipt_date"],
        total=row["total"],
        total_confidence=float(row["total_confidence"] or 0.0),
        member_amount=row["member_amount"],
        amount=row["amount"],
        points=row["points"] or 0,
        decided_by=row["decided_by"] or "",
        decided_at=row["decided_at"],
        created_at=created,
        age=max(now - created, timedelta(0)) if created else timedelta(0),
    )


def _filtered(query: Any, chosen: QueueFilter, timezone: str) -> Any:
    if chosen.status != "all":
        query = query.where(Receipt.status == chosen.status)
    else:  # a receipt still being read is not the staff's yet
        query = query.where(Receipt.status.is_in([*WAITING, "credited", "rejected"]))
    if chosen.reason:
        # ``reasons`` is a JSON list of codes: match the quoted code in its text, with
        # LIKE's wildcards in the code escaped (a code is [a-z0-9_.-], so "_" only).
        pattern = '%"' + chosen.reason.replace("_", "\\_") + '"%'
        query = query.where(WhereRaw(_REASON_LIKE, pattern))
    if chosen.channel:
        query = query.where(Receipt.channel == chosen.channel)
    if chosen.member_no:
        query = query.where(Receipt.member.member_no == chosen.member_no)
    zone = ZoneInfo(timezone)
    if chosen.since:
        start = datetime.combine(chosen.since, time.min, tzinfo=zone).astimezone(UTC)
        query = query.where(Receipt.created_at >= start)
    if chosen.until:
        end = datetime.combine(chosen.until + timedelta(days=1), time.min, tzinfo=zone)
        query = query.where(Receipt.created_at < end.astimezone(UTC))
    return query


def _ordered(query: Any, chosen: QueueFilter) -> Any:
    oldest_first = chosen.status in WAITING
    return query.order_by(Receipt.created_at, Receipt.id, ascending=oldest_first)


async def queue_page(
    chosen: QueueFilter,
    *,
    limit: int = 30,
    offset: int = 0,
    timezone: str = "Asia/Hong_Kong",
    now: datetime | None = None,
) -> Page[QueueItem]:
    """One page of the queue as ``chosen`` filters it, with the total it came from."""
    now = now or datetime.now(UTC)
    rows = (
        await _ordered(_filtered(scoped_select(Receipt, *_COLUMNS), chosen, timezone), chosen)
        .limit(limit)
        .offset(offset)
    )
    total = await _filtered(scoped_count(Receipt), chosen, timezone)
    return Page([_item(row, now) for row in rows], total, limit, offset)


async def status_counts() -> dict[str, int]:
    """Receipts per status tab of the queue (``all``: every receipt staff can see)."""
    rows = await (
        scoped_select(Receipt, Receipt.status, Count(Receipt.id, alias="n"))
        .where(Receipt.status.is_in([s for s in STATUS_TABS if s != "all"]))
        .group_by(Receipt.status)
    )
    counts = dict.fromkeys(STATUS_TABS, 0)
    for row in rows:
        counts[row["status"]] = row["n"]
    counts["all"] = sum(counts[s] for s in STATUS_TABS if s != "all")
    return counts


async def to_review() -> int:
    """How many receipts wait for a staff decision (the console home's figure)."""
    return await scoped_count(Receipt).where(Receipt.status == ReceiptStatus.needs_review.value)


async def queue_item(receipt_id: int, *, now: datetime | None = None) -> QueueItem | None:
    """One receipt as the queue shows it; None for another shop's (or no such) receipt."""
    row = await scoped_select(Receipt, *_COLUMNS).where(Receipt.id == receipt_id).first()
    return _item(row, now or datetime.now(UTC)) if row else None


async def neighbours(
    receipt_id: int, chosen: QueueFilter, *, timezone: str = "Asia/Hong_Kong"
) -> tuple[int | None, int | None]:
    """The receipts before and after ``receipt_id`` in the queue's order (j / k on the
    page). A receipt no longer in the filtered list (just decided) still has neighbours:
    its place is kept by its time of arrival."""
    row = await scoped_select(Receipt, Receipt.created_at).where(Receipt.id == receipt_id).first()
    if row is None:
        return None, None
    at = row["created_at"]
    oldest_first = chosen.status in WAITING

    async def one(later: bool) -> int | None:
        base = _filtered(scoped_select(Receipt, Receipt.id), chosen, timezone)
        if later:
            base = base.where(
                (Receipt.created_at > at) | ((Receipt.created_at == at) & (Receipt.id > receipt_id))
            )
        else:
            base = base.where(
                (Receipt.created_at < at) | ((Receipt.created_at == at) & (Receipt.id < receipt_id))
            )
        # "after" in the list is later in time when oldest first, earlier otherwise.
        ascending = later
        found = await base.order_by(Receipt.created_at, Receipt.id, ascending=ascending).first()
        return found["id"] if found else None

    earlier, later = await one(False), await one(True)
    return (earlier, later) if oldest_first else (later, earlier)


async def next_to_decide(
    receipt_id: int, chosen: QueueFilter, *, timezone: str = "Asia/Hong_Kong"
) -> int | None:
    """Where a reviewer goes after deciding ``receipt_id``: the next receipt of the list
    that still waits, else the first that waits from the top; None when the queue is empty."""
    waiting = chosen if chosen.status in WAITING else QueueFilter()
    _, after = await neighbours(receipt_id, waiting, timezone=timezone)
    if after is not None:
        return after
    first = (
        await _ordered(_filtered(scoped_select(Receipt, Receipt.id), waiting, timezone), waiting)
        .where(Receipt.id != receipt_id)
        .first()
    )
    return first["id"] if first else None


async def member_recent(
    member_id: int, *, limit: int = 8, now: datetime | None = None
) -> list[QueueItem]:
    """A member's latest receipts, newest first (beside a receipt under review)."""
    now = now or datetime.now(UTC)
    rows = await (
        scoped_select(Receipt, *_COLUMNS)
        .where(Receipt.member == member_id)
        .order_by(Receipt.created_at, Receipt.id, ascending=False)
        .limit(limit)
    )
    return [_item(row, now) for row in rows]


def channels_in(items: list[QueueItem]) -> list[str]:
    """Channel codes seen on a page (besides the known ones), for the filter's choices."""
    return sorted({item.channel for item in items if item.channel})


async def receipt_fields(receipt_id: int) -> Any:
    """What the reader found on one receipt (``Receipt.fields``, JSON), for its page."""
    row = await scoped_select(Receipt, Receipt.fields).where(Receipt.id == receipt_id).first()
    return row["fields"] if row else {}
