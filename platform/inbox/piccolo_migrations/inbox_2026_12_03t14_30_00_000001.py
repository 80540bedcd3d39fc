"""An index on inbound_event.processed_at for the retention purge.

The hourly purge deletes events processed before a cutoff; without an index every batch
would scan the whole table. Only final rows have processed_at. Same SQL on SQLite and
PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T14:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "index inbound_event.processed_at (retention purge)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inbox", description=DESCRIPTION)

    async def processed_at_index():
        await engine_finder().run_ddl(
            "CREATE INDEX inbound_event_processed_at_idx ON inbound_event (processed_at)"
        )

    manager.add_raw(processed_at_index)

    return manager
