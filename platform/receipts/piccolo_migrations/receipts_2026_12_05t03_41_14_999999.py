"""Indexes of receipts: one receipt per chat message, lists by status and by member, the
image hash, and the claims' unique key. Same SQL on SQLite and PostgreSQL."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T03:41:14:999999"
VERSION = "1.38.0"
DESCRIPTION = "indexes of receipts and receipt claims"

_INDEXES = (
    "CREATE UNIQUE INDEX receipt_message_uniq ON receipt (tenant, inbound_message)",
    "CREATE INDEX receipt_status_idx ON receipt (tenant, status, id)",
    "CREATE INDEX receipt_member_idx ON receipt (tenant, member, id)",
    "CREATE INDEX receipt_sha_idx ON receipt (tenant, sha256)",
    "CREATE INDEX receipt_updated_idx ON receipt (status, updated_at)",
    "CREATE UNIQUE INDEX receipt_claim_key_uniq ON receipt_claim (tenant, key)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="receipts", description=DESCRIPTION)

    async def indexes():
        engine = engine_finder()
        for statement in _INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(indexes)
    return manager
