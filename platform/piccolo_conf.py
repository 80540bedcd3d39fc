"""Piccolo's configuration module (``PICCOLO_CONF=loyalchat.piccolo_conf``).

``DB`` is set by :func:`loyalchat.db.configure_database` from settings; the Piccolo
CLI (``piccolo migrations new tenants --auto``) works through the same values.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from loyalchat import db as _db

DB: Engine | None = _db.make_engine()
APP_REGISTRY = AppRegistry(apps=_db.app_modules())
