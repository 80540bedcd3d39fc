"""Composite unique indexes including the tenant, and non-negative balances.

Raw SQL runs before Piccolo creates a migration's tables, so these follow the table
migration. Balances get a CHECK on PostgreSQL and an equivalent trigger on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-23T15:40:09:999999"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes including tenant; balance checks"


async def trigram_index(engine) -> None:
    """Typo-tolerant member search on PostgreSQL, where pg_trgm can be enabled.

    Without the extension (no privilege to create it) search still works, by ILIKE.
    """
    # Checked first: a failed CREATE EXTENSION would abort the migration's transaction.
    usable = await engine.run_ddl(
        "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'pg_trgm' "
        "AND (installed_version IS NOT NULL "
        "OR has_database_privilege(current_database(), 'CREATE'))"
    )
    if not usable:
        return
    await engine.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    await engine.run_ddl(
        "CREATE INDEX member_search_trgm_idx ON member USING gin (search_text gin_trgm_ops)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)

    async def constraints():
        engine = engine_finder()
        await engine.run_ddl("CREATE UNIQUE INDEX member_tenant_no_uniq ON member (tenant, member_no)")
        await engine.run_ddl("CREATE UNIQUE INDEX member_identity_uniq ON member_identity (tenant, channel, external_id)")
        await engine.run_ddl("CREATE INDEX member_tenant_phone_idx ON member (tenant, phone)")

        if isinstance(engine, SQLiteEngine):  # SQLite cannot add a CHECK to a table
            await engine.run_ddl(
                "CREATE TRIGGER member_check_0 BEFORE UPDATE ON member "
                "WHEN NOT (NEW.points IS NULL OR NEW.points >= 0) "
                "BEGIN SELECT RAISE(ABORT, 'member: points >= 0 violated'); END"
            )
            await engine.run_ddl(
                "CREATE TRIGGER member_check_1 BEFORE UPDATE ON member "
                "WHEN NOT (NEW.stored_value IS NULL OR NEW.stored_value >= 0) "
                "BEGIN SELECT RAISE(ABORT, 'member: stored_value >= 0 violated'); END"
            )
        else:
            await engine.run_ddl("ALTER TABLE member ADD CONSTRAINT member_check_0 CHECK (points >= 0)")
            await engine.run_ddl("ALTER TABLE member ADD CONSTRAINT member_check_1 CHECK (stored_value >= 0)")
            await trigram_index(engine)

    manager.add_raw(constraints)
    return manager
