"""What the task layer knows about: actor modules, periodic jobs and sweepable tables.

Import-safe without a broker: modules register here at import time, and the broker,
the scheduler and the sweeper read these lists when they run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

# Core actor modules, imported by ``import_actors()`` once the broker is set up.
CORE_ACTOR_MODULES = (
    "loyalchat.inbox.tasks",
    "loyalchat.tasks.sweeper",
    "loyalchat.ledger.tasks",
    "loyalchat.rewards.tasks",
    "loyalchat.idempotency.tasks",
    "loyalchat.conversations.tasks",
    "loyalchat.billing.tasks",  # grace and suspension for non-payment, usage mails
    "loyalchat.mail.tasks",  # mail to the SMTP server, with retries
)

_extra_actor_modules: list[str] = []


def register_actor_module(module: str) -> None:
    """Have ``import_actors()`` import ``module`` too (plugins' ``tasks.py``)."""
    if module not in _extra_actor_modules and module not in CORE_ACTOR_MODULES:
        _extra_actor_modules.append(module)


_warm_ups: list[tuple[str, Any]] = []


def register_warm_up(queue_name: str, prepare: Any) -> None:
    """Have a worker that consumes ``queue_name`` call ``prepare()`` on a thread of its own
    as it boots (load models before the first message needs them). Errors are logged."""
    if (queue_name, prepare) not in _warm_ups:
        _warm_ups.append((queue_name, prepare))


def warm_ups() -> list[tuple[str, Any]]:
    return list(_warm_ups)


def actor_modules() -> list[str]:
    """Every module that declares actors, core ones first."""
    return [*CORE_ACTOR_MODULES, *_extra_actor_modules]


@dataclass(frozen=True)
class PeriodicJob:
    """An actor sent every ``interval_seconds`` (aligned to wall-clock slots)."""

    name: str
    actor: Any  # dramatiq.Actor
    interval_seconds: float
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


_periodic: dict[str, PeriodicJob] = {}


def register_periodic(
    name: str, actor: Any, interval_seconds: float, *, args: tuple = (), kwargs: dict | None = None
) -> PeriodicJob:
    """Register (or replace, on re-import) the periodic job ``name``."""
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be positive")
    job = PeriodicJob(name, actor, float(interval_seconds), tuple(args), dict(kwargs or {}))
    _periodic[name] = job
    return job


def periodic_jobs() -> list[PeriodicJob]:
    return list(_periodic.values())


@dataclass(frozen=True)
class Sweepable:
    """A table whose rows point at an actor while they sit in a non-final status."""

    table: type[Table]
    status_column: Column
    stuck_statuses: tuple[str, ...]
    updated_column: Column
    actor: Any  # dramatiq.Actor taking the row id; the tenant travels in message options
    reset_status: str | None = None  # status to put a stuck row back into before re-sending
    batch_size: int = 500

    @property
    def key(self) -> str:
        return self.table._meta.tablename


_sweepables: dict[str, Sweepable] = {}


def register_sweepable(
    table: type[Table],
    status_column: Column,
    stuck_statuses: Sequence[str],
    updated_column: Column,
    actor: Any,
    *,
    reset_status: str | None = None,
    batch_size: int = 500,
) -> Sweepable:
    """Have the sweeper re-send ``actor(row_id)`` for rows stuck in ``stuck_statuses``.

    A row is stuck when ``updated_column`` is older than ``sweep_after_seconds``. The
    sweeper touches ``updated_column`` (and sets ``reset_status`` if given) in the same
    conditional UPDATE that claims the row, so a row is re-sent at most once per period
    however many sweepers run. The table must have a ``tenant`` foreign key.
    """
    spec = Sweepable(
        table,
        status_column,
        tuple(str(status) for status in stuck_statuses),
        updated_column,
        actor,
        reset_status,
        batch_size,
    )
    _sweepables[spec.key] = spec
    return spec


def sweepables() -> list[Sweepable]:
    return list(_sweepables.values())
