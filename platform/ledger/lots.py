"""Point lots: points earned together, spent oldest-expiring first, expiring together.

Called only by :mod:`loyalchat.ledger.service`, inside its transactions and after it has
taken the member's row lock (every writer of a member's lots holds it), so what these
statements read is what they change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loyalchat import db
from loyalchat.ledger.tables import LotDraw, PointLot
from loyalchat.scoping import new_row, save_row, scoped_raw, scoped_select, scoped_update

# Oldest expiry first, never-expiring last, then oldest: the order points are spent in.
_SPEND_ORDER = "CASE WHEN expires_at IS NULL THEN 1 ELSE 0 END, expires_at, id"


async def open_lots(member_id: int) -> list[dict[str, Any]]:
    """Lots with points left, in the order they are spent."""
    return await scoped_raw(
        PointLot,
        "SELECT id, remaining, expires_at, earned_at FROM point_lot "  # noqa: S608 (constants)
        "WHERE tenant = {tenant} AND member = {} AND remaining > 0 AND expired_at IS NULL "
        f"ORDER BY {_SPEND_ORDER}",
        member_id,
    )


async def lot_of(entry_id: int) -> int | None:
    """The lot a credit entry created, if any."""
    lot = await scoped_select(PointLot, PointLot.id).where(PointLot.entry == entry_id).first()
    return lot["id"] if lot else None


async def new_lot(
    member_id: int,
    entry_id: int,
    points: int,
    expires_at: datetime | None,
    earned_at: datetime | None = None,
) -> None:
    await save_row(
        new_row(
            PointLot,
            member=member_id,
            entry=entry_id,
            points=points,
            remaining=points,
            earned_at=earned_at or datetime.now(UTC),
            expires_at=expires_at,
        )
    )


def draw_with_entry(member_id: int, points: int) -> tuple[str, tuple[Any, ...]]:
    """CTEs that draw ``points`` for the debit being appended in the same statement
    (:func:`loyalchat.ledger.append.append_entry`'s ``then``): ``done.n`` sums what they took.

    The statement's snapshot may predate the member's row lock its ``moved`` waited for,
    so a lot is only taken from if it still holds the points (PostgreSQL re-checks the
    row it updates); whatever that leaves short, :func:`draw` takes with a fresh look.
    Lots are updated only after ``moved`` took the member's lock (``taken`` joins it).
    """
    return (
        "open AS (SELECT id, remaining, SUM(remaining) OVER (ORDER BY "  # noqa: S608 (constants)
        f"{_SPEND_ORDER}) - remaining AS before FROM point_lot WHERE tenant = {{tenant}} "
        "AND member = {} AND remaining > 0 AND expired_at IS NULL), "
        "taken AS (SELECT open.id, LEAST(open.remaining, {} - open.before) AS take "
        "FROM open, moved WHERE open.before < {}), "
        "drawn AS (UPDATE point_lot SET remaining = point_lot.remaining - taken.take "
        "FROM taken WHERE point_lot.id = taken.id AND point_lot.tenant = {tenant} "
        "AND point_lot.remaining >= taken.take AND point_lot.expired_at IS NULL "
        "RETURNING point_lot.id AS lot, taken.take AS take), "
        "done AS (INSERT INTO lot_draw (tenant, entry, lot, points) "
        "SELECT {tenant}::integer, entry.id, drawn.lot, drawn.take FROM drawn, entry "
        "RETURNING points AS n)",
        (member_id, points, points),
    )


async def draw(member_id: int, entry_id: int, points: int, first_lot: int | None = None) -> None:
    """Take ``points`` from the member's lots in spending order (``first_lot`` before all),
    recording each draw for ``entry_id``.

    PostgreSQL: one statement (running sums over the open lots pick what each gives).
    Its snapshot is taken after the member's row lock, so it sees every committed lot.
    """
    if db.database_is_sqlite():
        drawn = await _draw_one_by_one(member_id, entry_id, points, first_lot)
    else:
        rows = await scoped_raw(
            PointLot,
            "WITH open AS (SELECT id, remaining, SUM(remaining) OVER (ORDER BY "  # noqa: S608
            f"CASE WHEN id = {{}} THEN 0 ELSE 1 END, {_SPEND_ORDER}) - remaining AS before "
            "FROM point_lot WHERE tenant = {tenant} AND member = {} AND remaining > 0 "
            "AND expired_at IS NULL), "
            "taken AS (SELECT id, LEAST(remaining, {} - before) AS take FROM open "
            "WHERE before < {}), "
            "drawn AS (UPDATE point_lot SET remaining = point_lot.remaining - taken.take "
            "FROM taken WHERE point_lot.id = taken.id AND point_lot.tenant = {tenant} "
            "RETURNING point_lot.id AS lot, taken.take AS take) "
            "INSERT INTO lot_draw (tenant, entry, lot, points) "
            "SELECT {tenant}::integer, {}::integer, lot, take FROM drawn RETURNING points",
            first_lot or 0,
            member_id,
            points,
            points,
            entry_id,
        )
        drawn = sum(row["points"] for row in rows)
    if drawn != points:
        # The balance said yes but the lots disagree: refuse rather than lose track.
        raise RuntimeError(f"member {member_id}: lots hold {drawn} of {points} points")


async def _draw_one_by_one(
    member_id: int, entry_id: int, points: int, first_lot: int | None
) -> int:
    """SQLite: the same draw lot by lot, under the write lock the transaction holds."""
    lots = await open_lots(member_id)
    if first_lot is not None:
        lots.sort(key=lambda lot: lot["id"] != first_lot)
    need = points
    for lot in lots:
        if need == 0:
            break
        take = min(lot["remaining"], need)
        await scoped_update(PointLot, {PointLot.remaining: PointLot.remaining - take}).where(
            PointLot.id == lot["id"]
        )
        await record_draw(entry_id, lot["id"], take)
        need -= take
    return points - need


async def record_draw(entry_id: int, lot_id: int, points: int) -> None:
    await save_row(new_row(LotDraw, entry=entry_id, lot=lot_id, points=points))


async def give_back(member_id: int, drawn_by: int, entry_id: int) -> None:
    """Return what entry ``drawn_by`` took to the lots it came from; a lot that has since
    expired gets a new lot (for ``entry_id``) with its old expiry instead."""
    draws = await scoped_select(
        LotDraw, LotDraw.lot, LotDraw.points, LotDraw.lot.expires_at, LotDraw.lot.expired_at
    ).where(LotDraw.entry == drawn_by)
    for row in draws:
        if row["lot.expired_at"] is None:
            await scoped_update(
                PointLot, {PointLot.remaining: PointLot.remaining + row["points"]}
            ).where(PointLot.id == row["lot"])
        else:
            await new_lot(member_id, entry_id, row["points"], row["lot.expires_at"])


async def due(now: datetime) -> list[dict[str, Any]]:
    """Lots past their expiry with points left and not yet expired: ``id``, ``member``."""
    return await scoped_select(PointLot, PointLot.id, PointLot.member).where(
        PointLot.expires_at <= now, PointLot.remaining > 0, PointLot.expired_at.is_null()
    )


async def close(lot_id: int, now: datetime) -> int | None:
    """Mark the lot expired at ``now``; the points it still held (None: gone or expired)."""
    lot = await scoped_select(PointLot, PointLot.remaining, PointLot.expired_at).where(
        PointLot.id == lot_id
    ).first()  # fmt: skip
    if lot is None or lot["expired_at"] is not None:
        return None
    await scoped_update(PointLot, {PointLot.remaining: 0, PointLot.expired_at: now}).where(
        PointLot.id == lot_id
    )
    return lot["remaining"]
