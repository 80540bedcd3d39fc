"""A row worked by one actor run at a time: claimed, then moved on only while held.

The inbox's events and the outbox's messages are worked alike. A run takes its row with
one conditional UPDATE (``ready`` -> ``working``, ``attempts`` + 1): of two concurrent runs,
exactly one gets it. A row left ``working`` longer than ``sweep_after_seconds`` (its worker
was killed) can be taken again, the same age at which the sweeper re-sends it
(:func:`loyalchat.tasks.register_sweepable`). Whatever the run writes afterwards applies
only while the row is still ``working``: a run the sweeper replaced decides nothing.

The table needs ``id``, ``status``, ``attempts`` and ``updated_at`` columns and a tenant:
both functions go through :mod:`loyalchat.scoping` (the current tenant's rows only).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from loyalchat.scoping import scoped_update
from loyalchat.settings import get_settings

__all__ = ["claim", "update_held"]


async def claim(
    table: type[Table], row_id: int, *, ready: str, working: str, returning: Sequence[Column]
) -> dict[str, Any] | None:
    """Take row ``row_id`` for this run (``ready``, or ``working`` and stale); its
    ``returning`` columns as they are now, or None when another run has it or it is done."""
    now = datetime.now(UTC)
    stale = now - timedelta(seconds=get_settings().sweep_after_seconds)
    columns: Any = table  # the columns named in the module's docstring
    status, updated_at = columns.status, columns.updated_at
    claimable = (status == ready) | ((status == working) & (updated_at < stale))
    claimed = (
        await scoped_update(
            table,
            {status: working, columns.attempts: columns.attempts + 1, updated_at: now},
            use_auto_update=False,
        )
        .where((columns.id == row_id) & claimable)
        .returning(*returning)
    )
    return claimed[0] if claimed else None


async def update_held(table: type[Table], row_id: int, working: str, values: dict) -> None:
    """Write ``values`` (and ``updated_at``) to row ``row_id`` only while it is ``working``."""
    columns: Any = table
    values = {**values, columns.updated_at: datetime.now(UTC)}
    await scoped_update(table, values, use_auto_update=False).where(
        (columns.id == row_id) & (columns.status == working)
    )
