#!/usr/bin/env bash
# The system packages loyalchat's scripts need, in one place (Debian/Ubuntu package names).
#
#   system_deps run    Node.js with npm; python3.X-venv while .venv is still to be made; the Noto
#                      CJK fonts (the QR kit's PDFs embed them)
#   system_deps test   the same, plus what the tests use: Chromium (/usr/bin/chromium),
#                      Tesseract with its chi_tra, chi_sim and eng data,
#                      docker-compose, and a PostgreSQL and a Redis server unless one already
#                      answers at LOYALCHAT_TEST_DATABASE_URL / LOYALCHAT_TEST_REDIS_URL
#
# Run as root, it installs what is missing with apt-get. Run as anyone else, it installs
# nothing: it names the missing packages and the one command that installs them, and fails,
# so the caller stops before doing anything else. scripts/_env.sh sources this file;
# `bash scripts/system_deps.sh test` runs the check on its own.

_default_pg_url="postgresql://postgres@127.0.0.1:5432/test"
_default_redis_url="redis://127.0.0.1:6379/15"

# "host port" of a URL such as postgresql://user@host:port/db (default port $2).
_url_host_port() {
  local rest="${1#*://}"
  rest="${rest%%/*}"
  rest="${rest##*@}"
  local host="${rest%:*}" port="$2"
  [ "$host" != "$rest" ] && port="${rest##*:}"
  echo "${host:-127.0.0.1} $port"
}

# True when something accepts TCP connections at host:port.
_answers() {
  # shellcheck disable=SC2016  # $1 and $2 are the inner shell's arguments
  timeout 3 bash -c ': </dev/tcp/"$1"/"$2"' _ "$1" "$2" >/dev/null 2>&1
}

_is_local() {
  case "$1" in 127.* | localhost | ::1 | "[::1]") return 0 ;; *) return 1 ;; esac
}

# A server is needed when none answers at the URL, the URL is this machine and the server
# is not installed (scripts/services.sh starts an installed one that is stopped).
_server_missing() {  # $1 url, $2 default port, $3 a program the package installs
  local host port
  read -r host port <<<"$(_url_host_port "$1" "$2")"
  _answers "$host" "$port" && return 1
  _is_local "$host" || return 1
  ! command -v "$3" >/dev/null
}

# Print the missing Debian packages for $1 (run | test), space-separated.
missing_system_packages() {
  local need=() py="${PY:-python3}"
  command -v npm >/dev/null || need+=(nodejs npm)
  if [ ! -x .venv/bin/python ] && ! "$py" -c 'import ensurepip' >/dev/null 2>&1; then
    need+=("$("$py" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')")
  fi
  # The QR kit's print files embed a Chinese font (loyalchat.qrkit.fonts); the tests render with it.
  [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
  if [ "$1" = test ]; then
    [ -x /usr/bin/chromium ] || need+=(chromium)
    local langs=""
    if command -v tesseract >/dev/null; then
      langs="$(tesseract --list-langs 2>/dev/null)"
    else
      need+=(tesseract-ocr)
      local data
      for data in /usr/share/tesseract-ocr/*/tessdata/*.traineddata; do
        [ -e "$data" ] && langs+="$(basename "$data" .traineddata)"$'\n'
      done
    fi
    local lang
    for lang in chi_tra chi_sim eng; do
      grep -qx "$lang" <<<"$langs" || need+=("tesseract-ocr-${lang//_/-}")
    done
    command -v docker-compose >/dev/null || need+=(docker-compose)
    # postgresql-contrib: pg_trgm, which member search and its tests use.
    _server_missing "${LOYALCHAT_TEST_DATABASE_URL:-$_default_pg_url}" 5432 pg_ctlcluster &&
      need+=(postgresql postgresql-contrib)
    _server_missing "${LOYALCHAT_TEST_REDIS_URL:-$_default_redis_url}" 6379 redis-server &&
      need+=(redis-server)
  fi
  echo "${need[*]}"
}

system_deps() {  # $1: run | test
  local need
  need="$(missing_system_packages "$1")"
  [ -z "$need" ] && return 0
  local script="scripts/$1"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "$script: installing $need" >&2
    # shellcheck disable=SC2086  # $need is a list of package names
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; then
      return 0
    fi
    echo "$script: apt-get could not install $need" >&2
    return 1
  fi
  local sudo="" how="Install them, then run $script again:"
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo "; else how="As root, run this, then run $script again:"; fi
  fi
  {
    echo "$script needs system packages that are not installed: $need"
    if command -v apt-get >/dev/null; then
      echo "$how"
      echo
      echo "    ${sudo}apt-get install -y $need"
      echo
      echo "(Or run $script itself as root: it installs them.)"
    else
      echo "These are Debian package names; install the same with your system's package manager, then run $script again."
    fi
  } >&2
  return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  case "${1:-}" in
    run | test) system_deps "$1" ;;
    *)
      echo "usage: $0 run|test" >&2
      exit 2
      ;;
  esac
fi
