"""Background work on Dramatiq: broker, middleware, embedded worker, scheduler, sweeper.

Start-up order in every process: ``setup_broker()``, then ``import_actors()``. Web app
lifespan: :mod:`loyalchat.tasks.runtime`. Worker processes: :mod:`loyalchat.tasks.bootstrap`.
"""

from loyalchat.tasks.broker import (
    BrokerNotConfigured,
    actor,
    broker_kind,
    configured_broker,
    import_actors,
    reset_broker,
    setup_broker,
)
from loyalchat.tasks.registry import (
    register_actor_module,
    register_periodic,
    register_sweepable,
    register_warm_up,
)

__all__ = [
    "BrokerNotConfigured",
    "actor",
    "broker_kind",
    "configured_broker",
    "import_actors",
    "register_actor_module",
    "register_periodic",
    "register_sweepable",
    "register_warm_up",
    "reset_broker",
    "setup_broker",
]
