"""One pending payment per shop: a double click on "choose plan" cannot make two.

Earlier double clicks may have left a shop several pending payments: the one kept is the
newest with a transfer slip (an admin may be checking it), else the newest; the others
are cancelled as replaced. Same SQL on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one pending payment per tenant"

STATEMENTS = (
    "UPDATE billing_payment SET status = 'cancelled',"
    " failure_reason = 'replaced by a later choice'"
    " WHERE status = 'pending' AND id <> ("
    "SELECT kept.id FROM billing_payment kept"
    " WHERE kept.tenant = billing_payment.tenant AND kept.status = 'pending'"
    " ORDER BY CASE WHEN kept.slip_key <> '' THEN 0 ELSE 1 END, kept.id DESC LIMIT 1)",
    "CREATE UNIQUE INDEX billing_payment_one_pending ON billing_payment (tenant)"
    " WHERE status = 'pending'",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)

    async def one_pending():
        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(one_pending)
    return manager
