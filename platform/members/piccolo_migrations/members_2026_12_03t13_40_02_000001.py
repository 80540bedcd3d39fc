"""Member.idempotency_key: the request that created a member, unique per tenant.

A retry of a create (after a 5xx that came after the commit, or after the API's stored
response was purged) enrols no second member: the unique index decides, the loser
answers with the first row. Existing rows get NULL, which the index does not compare.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T13:40:02:000001"
VERSION = "1.38.0"
DESCRIPTION = "member.idempotency_key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Member",
        tablename="member",
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
