"""Member.link_version: the version of a member's wallet links.

A wallet token carries the version it was signed with; bumping the column (a merge,
"sign out all wallet links" in the console, "log out everywhere" in the wallet) makes
every older link stop working. Existing rows start at 0.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T14:07:07:000007"
VERSION = "1.38.0"
DESCRIPTION = "member.link_version: revocable wallet links"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="members", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Member",
        tablename="member",
        column_name="link_version",
        db_column_name="link_version",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
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
