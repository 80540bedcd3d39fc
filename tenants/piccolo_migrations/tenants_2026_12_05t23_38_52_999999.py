"""staff_invitation: one pending invitation per (tenant, email); nonces unique per tenant.

A partial index (pending = neither accepted nor revoked): the same SQL works on SQLite
and PostgreSQL. Follows the migration that adds the table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T23:38:52:999999"
VERSION = "1.38.0"
DESCRIPTION = "staff_invitation unique indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def unique_indexes():
        engine = engine_finder()
        await engine.run_ddl(
            "CREATE UNIQUE INDEX staff_invitation_pending_uniq ON staff_invitation (tenant, email) "
            "WHERE accepted_at IS NULL AND revoked_at IS NULL"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX staff_invitation_nonce_uniq ON staff_invitation (tenant, nonce)"
        )

    manager.add_raw(unique_indexes)
    return manager
