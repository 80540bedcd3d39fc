"""Composite unique indexes that include the tenant (DESIGN.md section 5, invariant 1).

Piccolo's column options cannot express them, and raw SQL in a migration runs before its
tables are created, so they live in this follow-up migration. Same SQL on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T13:14:25:999999"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes including tenant"


def manager_engine():
    return engine_finder()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inbox", description=DESCRIPTION)

    async def composite_uniques():
        await manager_engine().run_ddl(
            "CREATE UNIQUE INDEX inbound_event_provider_uniq ON inbound_event (tenant, source, provider_key)"
        )

    manager.add_raw(composite_uniques)

    return manager
