"""Piccolo's configuration module (``PICCOLO_CONF=loyalchat.piccolo_conf``).

Piccolo reads ``DB`` and ``APP_REGISTRY`` here. Both come from :mod:`loyalchat.db`, which
owns the engine (``use_engine`` / ``configure_database`` change it); this module only hands
them over, so the dependency goes one way. The Piccolo CLI (``piccolo migrations new
tenants --auto``) works through the same values.
"""

from typing import Any

from piccolo.conf.apps import AppRegistry

from loyalchat import db as _db

APP_REGISTRY = AppRegistry(apps=_db.app_modules())


def __getattr__(name: str) -> Any:
    # ``DB`` is looked up on each use, so it is always the engine loyalchat.db holds now.
    if name == "DB":
        return _db.current_engine()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
