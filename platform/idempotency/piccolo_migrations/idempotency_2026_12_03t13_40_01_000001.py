"""IdempotentRequest.credential: a stored response belongs to the key or person that sent it.

Existing rows get "" (no credential), so no caller can be replayed them any more; the
follow-up migration deletes them and rebuilds the unique index with the credential.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T13:40:01:000001"
VERSION = "1.38.0"
DESCRIPTION = "idempotent_request.credential"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="idempotency", description=DESCRIPTION)
    manager.add_column(
        table_class_name="IdempotentRequest",
        tablename="idempotent_request",
        column_name="credential",
        db_column_name="credential",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
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
