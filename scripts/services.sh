#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer for the tests; start Debian's servers if they are
# installed but stopped. Override with LOYALCHAT_TEST_DATABASE_URL / LOYALCHAT_TEST_REDIS_URL.
set -uo pipefail
PG_URL="${LOYALCHAT_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS_URL="${LOYALCHAT_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
py() { "${ROOT:-.}/.venv/bin/python" "$@"; }

pg_ok() { py - "$PG_URL" <<'PY' >/dev/null 2>&1
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1], timeout=3)
    await conn.close()
asyncio.run(main())
PY
}
redis_ok() { py -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_timeout=3).ping()" "$REDIS_URL" >/dev/null 2>&1; }

if ! pg_ok; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  fi
  if pg_ok; then :; else
    # The server runs but the database may be missing: create it.
    db="${PG_URL##*/}"
    if command -v psql >/dev/null; then psql "${PG_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\"" >/dev/null 2>&1 || true; fi
  fi
  pg_ok || { echo "PostgreSQL is not reachable at $PG_URL. Install it (apt-get install postgresql) or set LOYALCHAT_TEST_DATABASE_URL." >&2; exit 1; }
fi

if ! redis_ok; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis_ok && break; sleep 0.5; done
  fi
  redis_ok || { echo "Redis is not reachable at $REDIS_URL. Install it (apt-get install redis-server) or set LOYALCHAT_TEST_REDIS_URL." >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up." >&2
