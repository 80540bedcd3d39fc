"""Reward.idempotency_key: the request that created a reward, unique per tenant.

A retry of a create (after a 5xx that came after the commit, or after the API's stored
response was purged) adds no second reward: the unique index decides, the loser
answers with the first row. Existing rows get NULL, which the index does not compare.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T13:40:03:000001"
VERSION = "1.38.0"
DESCRIPTION = "reward.idempotency_key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rewards", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Reward",
        tablename="reward",
        column_name="idempotency_key",
        db_column_name="idempotency_key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
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
