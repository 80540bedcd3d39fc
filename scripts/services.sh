#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer for the tests; start Debian's servers if they are
# installed but stopped (as root, letting a fresh local PostgreSQL accept user postgres
# from the loopback without a password). Override with LOYALCHAT_TEST_DATABASE_URL / LOYALCHAT_TEST_REDIS_URL.
set -uo pipefail
PG_URL="${LOYALCHAT_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS_URL="${LOYALCHAT_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
py() { "${ROOT:-.}/.venv/bin/python" "$@"; }

# Empty when the test database answers, else why not (one line).
pg_error() { py - "$PG_URL" <<'PY' 2>&1
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1], timeout=3)
    await conn.close()
try:
    asyncio.run(main())
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}".splitlines()[0])
PY
}
pg_ok() { [ -z "$(pg_error)" ]; }
redis_ok() { py -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_timeout=3).ping()" "$REDIS_URL" >/dev/null 2>&1; }

pg_auth="${PG_URL#*://}"; pg_auth="${pg_auth%%/*}"
pg_host="${pg_auth##*@}"; pg_host="${pg_host%:*}"
pg_user=""; [ "$pg_auth" != "${pg_auth%@*}" ] && pg_user="${pg_auth%@*}"  # user[:password]
pg_db="${PG_URL##*/}"; pg_db="${pg_db%%\?*}"
debian_cluster() { command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | head -1; }
local_host() { case "$pg_host" in 127.* | localhost | ::1 | "[::1]" | "") return 0 ;; *) return 1 ;; esac; }

if ! pg_ok; then
  version="$(debian_cluster || true)"
  down="connect call failed\|refused\|timeout\|starting up"
  if [ -n "$version" ] && local_host && pg_error | grep -qi "$down"; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do pg_error | grep -qi "$down" || break; sleep 1; done
  fi
  if [ -n "$version" ] && local_host; then
    # A cluster just installed by scripts/test asks for a password the test URL does not
    # have (user postgres, no password): as root, let postgres in from the loopback without one.
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if [ "$(id -u)" = 0 ] && [ "$pg_user" = postgres ] && pg_error | grep -qi "password\|authentication" &&
      ! grep -q "^host all postgres 127.0.0.1/32 trust" "$hba"; then
      echo "PostgreSQL: letting user postgres connect from 127.0.0.1 and ::1 without a password ($hba)" >&2
      sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
      sleep 1
    fi
  fi
  if pg_error | grep -q "database \".*\" does not exist"; then
    # The server runs but the database is missing: create it.
    if command -v psql >/dev/null; then psql "${PG_URL%/*}/postgres" -qc "CREATE DATABASE \"$pg_db\"" >/dev/null 2>&1 || true; fi
  fi
  why="$(pg_error)"
  if [ -n "$why" ]; then
    echo "PostgreSQL does not accept $PG_URL ($why)." >&2
    echo "Set LOYALCHAT_TEST_DATABASE_URL to a database that accepts it, or run scripts/test as root to install and set up a local server." >&2
    exit 1
  fi
fi

if ! redis_ok; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis_ok && break; sleep 0.5; done
  fi
  redis_ok || { echo "Redis is not reachable at $REDIS_URL. Run scripts/test as root to install a local server (apt-get install redis-server), or set LOYALCHAT_TEST_REDIS_URL." >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up." >&2
