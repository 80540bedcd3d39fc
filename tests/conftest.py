"""Shared fixtures: real PostgreSQL and Redis, a fresh schema per session, clean tables per test.

URLs come from ``LOYALCHAT_TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and ``LOYALCHAT_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``). The test database's
``public`` schema is dropped and rebuilt from the migrations at the start of a run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import pytest

_VAR = Path(tempfile.mkdtemp(prefix="loyalchat-test-"))
PG_URL = os.environ.get("LOYALCHAT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("LOYALCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Settings are read from the environment: set ours before any loyalchat module reads them.
os.environ.update(
    {
        "LOYALCHAT_VAR_DIR": str(_VAR),
        "LOYALCHAT_DATABASE_URL": PG_URL,
        "LOYALCHAT_REDIS_URL": "",
        "LOYALCHAT_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "LOYALCHAT_LOG_LEVEL": "WARNING",
        # The test client runs the app on its own loop while tests query from theirs: a
        # pool bound to one loop cannot serve both. The e2e server runs with a pool.
        "LOYALCHAT_DATABASE_POOL_SIZE": "0",
    }
)
os.environ.pop("LOYALCHAT_ENCRYPTION_KEY", None)
os.environ.pop("LOYALCHAT_BLOCKED_PLUGINS", None)

# api_support: the JSON API tests' `app` and `client` (modules may define their own).
pytest_plugins = ["tests.fixtures", "tests.api_support"]


def _fail_unreachable(what: str, url: str, exc: Exception) -> None:
    pytest.exit(
        f"{what} is not reachable at {url} ({exc}).\n"
        "Start it (see README.md, 'Set up'): `bash scripts/services.sh` starts "
        "PostgreSQL and Redis from Debian's packages, or point LOYALCHAT_TEST_DATABASE_URL / "
        "LOYALCHAT_TEST_REDIS_URL at running servers.",
        returncode=3,
    )


@pytest.fixture(scope="session")
def pg_url() -> str:
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        _fail_unreachable("Redis", REDIS_URL, exc)
    return REDIS_URL


@pytest.fixture(scope="session")
def database() -> None:
    """Drop and rebuild the test schema once, then apply every migration."""
    from loyalchat import db
    from loyalchat.settings import get_settings

    get_settings.cache_clear()

    async def rebuild() -> None:
        engine = db.configure_database()
        try:
            await engine._run_in_new_connection("DROP SCHEMA IF EXISTS public CASCADE")
            await engine._run_in_new_connection("CREATE SCHEMA public")
        except Exception as exc:
            _fail_unreachable("PostgreSQL", PG_URL, exc)
        await db.migrate(engine)

    asyncio.run(rebuild())
