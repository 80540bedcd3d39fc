"""A unique index on (api_key.tenant, idempotency_key): one api_key per create request.

Raw SQL runs before Piccolo adds a migration's columns, so this follows the migration
that adds the column. Same SQL on SQLite and PostgreSQL (NULLs never collide).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T13:40:04:999999"
VERSION = "1.38.0"
DESCRIPTION = "api_key unique per (tenant, idempotency_key)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def once_per_key():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX api_key_idempotency_key_uniq ON api_key (tenant, idempotency_key)"
        )

    manager.add_raw(once_per_key)
    return manager
