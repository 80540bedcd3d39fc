"""Indexes of onboarding: a tenant's current documents by kind, and its history in order.

Raw SQL runs before Piccolo adds a migration's columns, so this follows the migration
that adds the tables. Same SQL on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T23:33:45:999999"
VERSION = "1.38.0"
DESCRIPTION = "indexes of application documents and events"

_INDEXES = (
    "CREATE INDEX application_document_kind_idx ON application_document (tenant, kind, id)",
    "CREATE INDEX application_event_tenant_idx ON application_event (tenant, id)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="onboarding", description=DESCRIPTION)

    async def indexes():
        engine = engine_finder()
        for statement in _INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(indexes)
    return manager
