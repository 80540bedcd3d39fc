"""billing_subscription.trial_ends_at: when the shop's trial ends (or ended).

Set when a trial starts (a plan with trial days paid by transfer, or a card subscription
Stripe reports trialing) and kept after it: a shop has one trial. Existing rows get NULL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T03:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "billing_subscription.trial_ends_at"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Subscription",
        tablename="billing_subscription",
        column_name="trial_ends_at",
        db_column_name="trial_ends_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
