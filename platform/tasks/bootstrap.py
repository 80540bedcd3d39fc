"""Bootstrap module for dramatiq's worker CLI: ``dramatiq loyalchat.tasks.bootstrap``.

``loyalchat worker`` runs exactly that. Each worker process imports this module, which
configures logging and the database, builds the broker from settings (with the pool
opened on the actors' own event loop at worker boot and closed at shutdown), loads the
plugins and imports every actor module. ``broker`` is what the CLI picks up.
"""

from __future__ import annotations

import gc

from loyalchat import db
from loyalchat.log import configure_logging
from loyalchat.pluginmanager import build_plugin_manager, install_plugin_manager
from loyalchat.settings import get_settings
from loyalchat.tasks.broker import import_actors, setup_broker


def _bootstrap():  # -> dramatiq.Broker
    settings = get_settings()
    configure_logging(settings)
    db.configure_database(settings)
    new_broker = setup_broker(settings, manage_pool=True)
    # Plugins register their actor modules and inbound handlers when they are loaded; the
    # worker's threads run every task with this manager.
    install_plugin_manager(build_plugin_manager(settings))
    import_actors()
    gc.freeze()  # what lives as long as the process, out of full collections (as app.py)
    return new_broker


broker = _bootstrap()
