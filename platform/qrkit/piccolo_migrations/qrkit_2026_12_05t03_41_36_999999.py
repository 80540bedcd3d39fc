"""Unique index: a branch code once per tenant. Same SQL on SQLite and PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T03:41:36:999999"
VERSION = "1.38.0"
DESCRIPTION = "unique index of qr_branch"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="qrkit", description=DESCRIPTION)

    async def indexes():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX qr_branch_code_uniq ON qr_branch (tenant, code)"
        )

    manager.add_raw(indexes)
    return manager
