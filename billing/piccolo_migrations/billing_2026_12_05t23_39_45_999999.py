"""Unique indexes deciding "once" in billing. Same SQL on SQLite and PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T23:39:45:999999"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes of billing"

STATEMENTS = (
    "CREATE UNIQUE INDEX billing_subscription_tenant_uniq ON billing_subscription (tenant)",
    "CREATE UNIQUE INDEX billing_usage_uniq ON billing_usage (tenant, period, metric)",
    "CREATE UNIQUE INDEX billing_payment_event_uniq ON billing_payment_event (provider, event_id)",
    # A provider's reference names one payment; "" while the provider has not answered.
    "CREATE UNIQUE INDEX billing_payment_ref_uniq ON billing_payment (provider, provider_ref)"
    " WHERE provider_ref <> ''",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def indexes():
        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(indexes)
    return manager
