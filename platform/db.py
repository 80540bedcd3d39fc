"""The database engine, chosen from settings, and the Piccolo wiring around it.

SQLite (embedded default) and PostgreSQL (production) run the same tables and the same
committed migrations. This module holds the engine in use; ``loyalchat.piccolo_conf`` (the
module Piccolo reads) hands this module's engine to Piccolo, never the other way round, so
tests can point every table at another engine with :func:`use_engine`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pluggy
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from loyalchat.settings import Settings, get_settings

PICCOLO_CONF = "loyalchat.piccolo_conf"
# The engine every table is bound to (see current_engine / use_engine).
_engine: Engine | None = None

# The core Piccolo apps, in dependency order; plugins add theirs via register_piccolo_apps.
CORE_APPS = [
    "loyalchat.tenants.piccolo_app",
    "loyalchat.inbox.piccolo_app",
    "loyalchat.members.piccolo_app",
    "loyalchat.ledger.piccolo_app",
    "loyalchat.rules.piccolo_app",
    "loyalchat.rewards.piccolo_app",
    "loyalchat.idempotency.piccolo_app",
    "loyalchat.conversations.piccolo_app",
    "loyalchat.qrkit.piccolo_app",
    "loyalchat.receipts.piccolo_app",
    "loyalchat.billing.piccolo_app",
    "loyalchat.onboarding.piccolo_app",
]


def make_engine(settings: Settings | None = None) -> Engine:
    """Build (but do not connect) the engine named by ``LOYALCHAT_DATABASE_URL``."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    if settings.database_kind == "sqlite":
        path = Path(unquote(urlsplit(url).path)) if "://" in url else Path(url)
        if url.startswith("sqlite:////"):
            path = Path("/" + str(path).lstrip("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: writers queue instead of failing with "database is locked".
        return SQLiteEngine(path=str(path), timeout=30)
    return PostgresEngine(config={"dsn": url})


def app_modules(pm: pluggy.PluginManager | None = None) -> list[str]:
    """Core Piccolo apps plus those the installed plugins register.

    Piccolo reads this when it loads ``piccolo_conf``, before any host could hand over a
    plugin manager: without ``pm`` the factory builds one for it.
    """
    from loyalchat.pluginmanager import build_plugin_manager

    modules = list(CORE_APPS)
    for contributed in (pm or build_plugin_manager()).hook.register_piccolo_apps():
        for module in contributed or []:
            if module not in modules:
                modules.append(module)
    return modules


def all_tables() -> list[type[Table]]:
    """Every table of every registered Piccolo app (core and plugins)."""
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


def use_engine(engine: Engine) -> Engine:
    """Point Piccolo (migrations included) and every table at ``engine``."""
    global _engine
    os.environ["PICCOLO_CONF"] = PICCOLO_CONF
    _engine = engine  # first: binding the tables imports them, and they ask for the engine
    Migration._meta.db = engine
    for table in all_tables():
        table._meta.db = engine
    return engine


def configure_database(settings: Settings | None = None) -> Engine:
    """Make the engine from settings and bind everything to it. Idempotent per settings."""
    return use_engine(make_engine(settings))


def current_engine() -> Engine:
    """The engine in use: the last one given to :func:`use_engine`, else one from settings.

    Piccolo asks for it (through ``piccolo_conf.DB``) when a table class is defined, so the
    first call only makes the engine; binding tables is :func:`configure_database`'s job.
    """
    global _engine
    if _engine is None:
        _engine = make_engine()
    return _engine


async def start_pool(engine: Engine | None = None, settings: Settings | None = None) -> None:
    engine = engine or current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        size = (settings or get_settings()).database_pool_size
        if size > 0:
            await engine.start_connection_pool(min_size=1, max_size=size, reset=keep_session)


async def keep_session(connection: object) -> None:
    """The pool's reset of a connection given back: nothing beyond asyncpg's own.

    asyncpg always rolls back a transaction left open and drops listeners before this
    runs; its default reset then sends ``RESET ALL; UNLISTEN *; CLOSE ALL;
    pg_advisory_unlock_all()``, a round trip after EVERY pooled query (a fifth of a
    redemption's statements, bench/ledger.py). Loyalchat never changes a session's state:
    no ``SET`` outside a transaction (``SET LOCAL`` ends with it), no ``LISTEN``, no cursor
    outside a transaction, only transaction-level advisory locks;
    tests/test_db_session_state.py keeps it so.
    """


async def close_pool(engine: Engine | None = None) -> None:
    engine = engine or current_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


def database_is_sqlite(engine: Engine | None = None) -> bool:
    return isinstance(engine or current_engine(), SQLiteEngine)


def write_transaction(engine: Engine | None = None):
    """A transaction that takes the write lock up front on SQLite (no "database is locked").

    On PostgreSQL it is an ordinary transaction; use row locks or conditional updates
    inside it for read-modify-write.
    """
    engine = engine or current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def migrate(engine: Engine | None = None) -> None:
    """Apply every pending migration of every registered app."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    engine = engine or current_engine()
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    with contextlib.redirect_stdout(_Quiet()):
        result = await run_forwards("all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


async def ping(engine: Engine | None = None) -> None:
    """Raise if the database cannot answer a trivial query."""
    engine = engine or current_engine()
    await engine._run_in_new_connection("SELECT 1")


@contextlib.asynccontextmanager
async def connected(settings: Settings | None = None) -> AsyncIterator[Engine]:
    """Configure, connect and (at exit) disconnect: for CLI commands and scripts."""
    engine = configure_database(settings)
    await start_pool(engine, settings)
    try:
        yield engine
    finally:
        await close_pool(engine)


def is_unique_violation(exc: BaseException) -> bool:
    """True when ``exc`` is a unique-index violation, on PostgreSQL or SQLite."""
    import sqlite3

    import asyncpg

    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc).upper()


def is_retryable(exc: BaseException) -> bool:
    """True when trying the transaction again may succeed: a unique violation (a random
    code that clashed), a deadlock or a serialization failure (PostgreSQL)."""
    import asyncpg

    return is_unique_violation(exc) or isinstance(
        exc,
        asyncpg.exceptions.DeadlockDetectedError | asyncpg.exceptions.SerializationError,
    )


class _Quiet:
    """Swallow Piccolo's progress prints; our CLI reports what happened itself."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None
