"""Composite unique indexes including the tenant, and non-negative balances.

Raw SQL runs before Piccolo creates a migration's tables, so these follow the table
migration. Balances get a CHECK on PostgreSQL and an equivalent trigger on SQLite.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-23T15:40:12:999999"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes including tenant; balance checks"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ledger", description=DESCRIPTION)

    async def constraints():
        engine = engine_finder()
        await engine.run_ddl("CREATE UNIQUE INDEX ledger_entry_key_uniq ON ledger_entry (tenant, idempotency_key)")
        await engine.run_ddl("CREATE UNIQUE INDEX stored_value_entry_key_uniq ON stored_value_entry (tenant, idempotency_key)")
        await engine.run_ddl("CREATE INDEX point_lot_member_open_idx ON point_lot (member, expires_at, id)")
        await engine.run_ddl("CREATE INDEX ledger_entry_member_idx ON ledger_entry (member, id)")

        if isinstance(engine, SQLiteEngine):  # SQLite cannot add a CHECK to a table
            await engine.run_ddl(
                "CREATE TRIGGER point_lot_check_0 BEFORE UPDATE ON point_lot "
                "WHEN NOT (NEW.remaining IS NULL OR NEW.remaining >= 0) "
                "BEGIN SELECT RAISE(ABORT, 'point_lot: remaining >= 0 violated'); END"
            )
        else:
            await engine.run_ddl("ALTER TABLE point_lot ADD CONSTRAINT point_lot_check_0 CHECK (remaining >= 0)")

    manager.add_raw(constraints)
    return manager
