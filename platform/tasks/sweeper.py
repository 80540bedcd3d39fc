"""The sweeper: re-sends the actor of rows stuck in a non-final status (DESIGN.md section 3).

The database is the source of truth and a queue message only points at a row, so a lost
message (Redis outage, a killed worker, an embedded process that exited) delays work but
loses none: every ``sweep_interval_seconds`` the scheduler sends :func:`sweep_stuck`, which
finds rows of every registered table whose ``updated`` column is older than
``sweep_after_seconds`` and re-sends their actor with the row's tenant in the message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from loyalchat.context import cross_tenant
from loyalchat.scoping import unscoped
from loyalchat.settings import get_settings
from loyalchat.tasks import registry
from loyalchat.tasks.broker import actor
from loyalchat.tasks.middleware import TENANT_OPTION

log = logging.getLogger(__name__)


async def sweep_once(
    now: datetime | None = None, *, older_than_seconds: float | None = None
) -> dict[str, int]:
    """Claim and re-send every stuck row once; returns the count per table.

    A row is claimed by one conditional UPDATE (still stuck, still old) that touches its
    ``updated`` column, so two sweepers never both re-send it and the next sweep leaves it
    alone for another ``sweep_after_seconds``.
    """
    now = now or datetime.now(UTC)
    if older_than_seconds is None:
        older_than_seconds = get_settings().sweep_after_seconds
    cutoff = now - timedelta(seconds=older_than_seconds)
    counts: dict[str, int] = {}
    with cross_tenant("sweeper"):
        for spec in registry.sweepables():
            counts[spec.key] = await _sweep_table(spec, now, cutoff)
    return counts


async def _sweep_table(spec: registry.Sweepable, now: datetime, cutoff: datetime) -> int:
    with cross_tenant("sweeper: stuck rows of every tenant"):
        table = unscoped(spec.table)
        pk = table._meta.primary_key
        tenant = table.tenant  # type: ignore[attr-defined]
        stuck = spec.status_column.is_in(list(spec.stuck_statuses)) & (spec.updated_column < cutoff)
        rows = (
            await table.select(pk.as_alias("id"), tenant.as_alias("tenant_id"))
            .where(stuck)
            .order_by(spec.updated_column)
            .limit(spec.batch_size)
        )
        values: dict = {spec.updated_column: now}
        if spec.reset_status is not None:
            values[spec.status_column] = spec.reset_status
        sent = 0
        for row in rows:
            claimed = (
                await table.update(values, use_auto_update=False)
                .where((pk == row["id"]) & stuck)
                .returning(pk)
            )
            if not claimed:
                continue  # another sweeper or the actor itself moved it meanwhile
            spec.actor.send_with_options(args=(row["id"],), **{TENANT_OPTION: row["tenant_id"]})
            sent += 1
    if sent:
        log.warning("sweeper re-sent %d stuck %s row(s)", sent, spec.key)
    return sent


@actor(max_retries=0, time_limit=5 * 60_000)
async def sweep_stuck() -> None:
    """Sweep every registered table. Retry policy: none; the next scheduled sweep is the retry."""
    await sweep_once()


registry.register_periodic("sweep_stuck", sweep_stuck, get_settings().sweep_interval_seconds)
