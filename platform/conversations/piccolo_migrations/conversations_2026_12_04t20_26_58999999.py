"""Unique indexes: tenant-owned ones include the tenant; channel accounts are platform-wide.

Raw SQL runs before Piccolo creates a migration's tables, so these follow the table
migration. Same SQL on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T20:26:58:999999"
VERSION = "1.38.0"
DESCRIPTION = "unique indexes of conversations, messages, outbox and channel accounts"

_INDEXES = (
    "CREATE UNIQUE INDEX conversation_sender_uniq ON conversation (tenant, channel, sender)",
    "CREATE INDEX conversation_member_idx ON conversation (tenant, member)",
    "CREATE UNIQUE INDEX inbound_message_provider_uniq "
    "ON inbound_message (tenant, conversation, provider_id)",
    "CREATE INDEX inbound_message_thread_idx ON inbound_message (conversation, id)",
    "CREATE UNIQUE INDEX outbound_message_key_uniq ON outbound_message (tenant, key)",
    "CREATE INDEX outbound_message_thread_idx ON outbound_message (conversation, id)",
    "CREATE UNIQUE INDEX channel_account_uniq ON channel_account (channel, account_id)",
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="conversations", description=DESCRIPTION
    )

    async def indexes():
        engine = engine_finder()
        for statement in _INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(indexes)
    return manager
