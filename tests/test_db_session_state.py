"""The pool gives connections back without resetting their session (db.keep_session), so no
code may leave session state behind: a setting, a LISTEN, a held cursor or a session-level
advisory lock would leak into the next, unrelated request on that connection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyalchat import db
from loyalchat.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("platform", "plugins", "tenants", "billing", "onboarding")  # setup.py's folders
SOURCES = [path for folder in PACKAGES for path in ROOT.joinpath(folder).rglob("*.py")]

# SQL that outlives its transaction. ``SET LOCAL`` and set_config(..., true) end with it.
SESSION_STATE = re.compile(
    r"""(?ix)
    ["']\s*(?-i:SET)\s+(?!LOCAL\b)(SESSION\s+)?[a-z_.]+\s*(=|TO\b)  # SQL's SET x = / TO
    | set_config\([^)]*,\s*false\s*\)                          # a session-wide set_config
    | ["']\s*(UN)?LISTEN\b                                      # notifications
    | pg_advisory_lock(_shared)?\s*\(                           # held past the transaction
    | \bWITH\s+HOLD\b                                           # cursors past the transaction
    """
)


def offenders(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if SESSION_STATE.search(line)]


def test_no_code_leaves_state_on_a_pooled_connection() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for path in SOURCES
        if path.name != "db.py" and (lines := offenders(path.read_text(encoding="utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize(
    "line",
    [
        '"SET search_path = other"',
        "'SET statement_timeout TO 0'",
        '"SET SESSION work_mem = 1"',
        "\"SELECT set_config('pg_trgm.word_similarity_threshold', '0.3', false)\"",
        '"LISTEN orders"',
        '"SELECT pg_advisory_lock(42)"',
        '"DECLARE c CURSOR WITH HOLD FOR SELECT 1"',
    ],
)
def test_the_check_sees_each_kind_of_leftover(line: str) -> None:
    assert offenders(line) == [line]


@pytest.mark.parametrize(
    "line",
    [
        '"SET LOCAL lock_timeout = 1000"',
        "\"SELECT set_config('pg_trgm.word_similarity_threshold', {}, true)\"",
        '"UPDATE member SET points = 1"',
        '"SELECT pg_advisory_xact_lock(42)"',
        '"set LOYALCHAT_PADDLE_MODEL_DIR to a writable folder"',  # prose, not SQL
    ],
)
def test_what_ends_with_the_transaction_passes(line: str) -> None:
    assert offenders(line) == []


async def test_the_pool_rolls_back_a_transaction_left_open(pg_url: str) -> None:
    """asyncpg's own part of the reset still runs: a connection given back inside a
    transaction (a bug, a cancelled request) comes back out of it, its writes undone."""
    from piccolo.engine.postgres import PostgresEngine

    engine = PostgresEngine(config={"dsn": pg_url})
    await db.start_pool(engine, get_settings().model_copy(update={"database_pool_size": 2}))
    try:
        connection = await engine.pool.acquire()
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMP TABLE left_open (n int)")
        await engine.pool.release(connection)
        again = await engine.pool.acquire()
        try:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
        finally:
            await engine.pool.release(again)
    finally:
        await db.close_pool(engine)
