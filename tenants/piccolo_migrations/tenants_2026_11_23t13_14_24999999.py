"""Composite unique indexes that include the tenant (DESIGN.md section 5, invariant 1).

Piccolo's column options cannot express them, and raw SQL in a migration runs before its
tables are created, so they live in this follow-up migration. Same SQL on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T13:14:24:999999"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes including tenant"


def manager_engine():
    return engine_finder()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def composite_uniques():
        await manager_engine().run_ddl(
            "CREATE UNIQUE INDEX staff_role_tenant_user_uniq ON staff_role (tenant, \"user\")"
        )
        await manager_engine().run_ddl(
            "CREATE UNIQUE INDEX api_key_tenant_prefix_uniq ON api_key (tenant, prefix)"
        )
        await manager_engine().run_ddl(
            "CREATE UNIQUE INDEX tenant_plugin_tenant_plugin_uniq ON tenant_plugin (tenant, plugin)"
        )

    manager.add_raw(composite_uniques)

    return manager
