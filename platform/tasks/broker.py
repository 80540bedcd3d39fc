"""The Dramatiq broker, built from settings before any actor module is imported.

Order matters: ``setup_broker()`` first, then ``import_actors()``. Declare actors with
:func:`loyalchat.tasks.actor`, never ``dramatiq.actor``: dramatiq binds an actor to the
global broker at decoration time and, when none is set, silently makes a RabbitMQ (or
localhost Redis) one (``dramatiq/broker.py: get_broker``). Our decorator refuses instead.

* ``LOYALCHAT_REDIS_URL`` set: ``RedisBroker`` under the ``loyalchat`` namespace, consumed
  by ``loyalchat worker`` processes.
* empty: an in-process ``StubBroker`` consumed by the embedded worker
  (:mod:`loyalchat.tasks.embedded`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import dramatiq
import dramatiq.broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from loyalchat.settings import Settings, get_settings
from loyalchat.tasks import registry
from loyalchat.tasks.middleware import AsyncIOBridge, QuickPolling, TenantMiddleware, WarmUp

NAMESPACE = "loyalchat"

# Defaults for actors that do not state their own policy (each of ours does).
DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 2_000
DEFAULT_MAX_BACKOFF_MS = 5 * 60_000
DEFAULT_TIME_LIMIT_MS = 5 * 60_000
# Recover messages of a dead worker within a minute, not the default's rare maintenance
# passes (research/reliability.md 2.4: 8 of 20 messages stayed orphaned for 5 minutes).
HEARTBEAT_TIMEOUT_MS = 30_000
MAINTENANCE_CHANCE = 10_000  # per million broker commands

_broker: dramatiq.Broker | None = None
_actors: list[dramatiq.Actor] = []  # every actor we declared, re-bound by setup after reset


class BrokerNotConfigured(RuntimeError):
    """An actor was declared or sent before ``setup_broker()``."""


def build_middleware(*, manage_pool: bool = False) -> list[dramatiq.Middleware]:
    """Our middleware stack: dramatiq's defaults (with our limits), tenant and asyncio bridge."""
    return [
        # First: its before_worker_boot starts the loop the others may need, and its
        # after_worker_shutdown (hooks run in reverse) stops it last.
        AsyncIOBridge(manage_pool=manage_pool),
        QuickPolling(),
        TenantMiddleware(),
        CurrentMessage(),
        AgeLimit(),
        TimeLimit(time_limit=DEFAULT_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(
            max_retries=DEFAULT_MAX_RETRIES,
            min_backoff=DEFAULT_MIN_BACKOFF_MS,
            max_backoff=DEFAULT_MAX_BACKOFF_MS,
        ),
        WarmUp(),
    ]


def setup_broker(settings: Settings | None = None, *, manage_pool: bool = False) -> dramatiq.Broker:
    """Build the broker from settings and make it dramatiq's global broker. Idempotent.

    ``manage_pool``: worker processes open the database pool on the actors' loop (see
    :class:`~loyalchat.tasks.middleware.AsyncIOBridge`). Actors declared before a
    :func:`reset_broker` are declared again on the new broker.
    """
    global _broker
    if _broker is not None:
        return _broker
    settings = settings or get_settings()
    middleware = build_middleware(manage_pool=manage_pool)
    if settings.redis_url:
        broker: dramatiq.Broker = RedisBroker(
            url=settings.redis_url,
            namespace=NAMESPACE,
            middleware=middleware,
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=MAINTENANCE_CHANCE,
        )
    else:
        broker = StubBroker(middleware=middleware)
    dramatiq.set_broker(broker)
    _broker = broker
    for actor_ in _actors:
        actor_.broker = broker
        broker.declare_actor(actor_)
    return broker


def reset_broker() -> None:
    """Close and forget the broker (tests, or a process switching settings)."""
    global _broker
    if _broker is not None:
        try:
            _broker.close()
        finally:
            _broker = None
    dramatiq.broker.global_broker = None


def configured_broker() -> dramatiq.Broker:
    """The broker ``setup_broker()`` built; raises :class:`BrokerNotConfigured` otherwise."""
    if _broker is None or dramatiq.broker.global_broker is not _broker:
        raise BrokerNotConfigured(
            "the task broker is not set up: call loyalchat.tasks.setup_broker() before "
            "importing actor modules (dramatiq would otherwise bind to a RabbitMQ broker)"
        )
    return _broker


def broker_kind() -> str:
    """``"redis"`` or ``"embedded"`` (the in-process stub broker)."""
    return "redis" if isinstance(configured_broker(), RedisBroker) else "embedded"


def actor(
    fn: Callable[..., Any] | None = None,
    *,
    actor_name: str | None = None,
    queue_name: str = "default",
    priority: int = 0,
    **options: Any,
) -> Any:
    """Declare a Dramatiq actor on the configured broker (never a default one).

    Same options as ``dramatiq.actor`` (``max_retries``, ``min_backoff``, ``time_limit``,
    ``throws``...). Raises :class:`BrokerNotConfigured` before ``setup_broker()``.
    """

    def decorate(func: Callable[..., Any]) -> dramatiq.Actor:
        declared = dramatiq.actor(
            func,
            broker=configured_broker(),
            actor_name=actor_name,
            queue_name=queue_name,
            priority=priority,
            **options,
        )
        _actors.append(declared)
        return declared

    return decorate(fn) if fn is not None else decorate


def import_actors() -> list[str]:
    """Import every registered actor module (after ``setup_broker()``); returns actor names."""
    broker = configured_broker()
    for module in registry.actor_modules():
        importlib.import_module(module)
    return sorted(broker.get_declared_actors())
