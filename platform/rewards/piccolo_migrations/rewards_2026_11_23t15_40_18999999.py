"""Composite unique indexes including the tenant, and non-negative balances.

Raw SQL runs before Piccolo creates a migration's tables, so these follow the table
migration. Balances get a CHECK on PostgreSQL and an equivalent trigger on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-23T15:40:18:999999"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes including tenant; balance checks"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rewards", description=DESCRIPTION)

    async def constraints():
        engine = engine_finder()
        await engine.run_ddl("CREATE UNIQUE INDEX reward_grant_code_uniq ON reward_grant (tenant, code)")
        await engine.run_ddl("CREATE UNIQUE INDEX reward_grant_key_uniq ON reward_grant (tenant, idempotency_key)")

        if isinstance(engine, SQLiteEngine):  # SQLite cannot add a CHECK to a table
            await engine.run_ddl(
                "CREATE TRIGGER reward_check_0 BEFORE UPDATE ON reward "
                "WHEN NEW.stock IS NOT NULL AND NEW.stock < 0 "
                "BEGIN SELECT RAISE(ABORT, 'reward: stock IS NULL OR stock >= 0 violated'); END"
            )
        else:
            await engine.run_ddl("ALTER TABLE reward ADD CONSTRAINT reward_check_0 CHECK (stock IS NULL OR stock >= 0)")

    manager.add_raw(constraints)
    return manager
