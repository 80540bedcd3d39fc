"""The unique index of stored responses includes the credential: (tenant, credential, key).

Raw SQL runs before Piccolo adds a migration's columns, so this follows the migration
that adds ``credential``. Rows stored before it belong to no credential (and a new API
key's may hold its secret in clear): they are deleted. The ledger and grant services
keep their own idempotency keys, so a retry of one of those requests still changes
nothing. Same SQL on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T13:40:01:999999"
VERSION = "1.38.0"
DESCRIPTION = "idempotent_request unique per (tenant, credential, key)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="idempotency", description=DESCRIPTION)

    async def per_credential():
        engine = engine_finder()
        await engine.run_ddl("DELETE FROM idempotent_request")
        await engine.run_ddl("DROP INDEX idempotent_request_key_uniq")
        await engine.run_ddl(
            "CREATE UNIQUE INDEX idempotent_request_key_uniq "
            "ON idempotent_request (tenant, credential, key)"
        )

    manager.add_raw(per_credential)
    return manager
