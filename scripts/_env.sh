# shellcheck shell=bash
# Shared by scripts/run and scripts/test: system packages, a virtualenv in .venv with
# loyalchat installed, the web assets.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "loyalchat needs Python 3.11 or newer as '$PY' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi
# system_deps run|test: install (as root) or name (otherwise) the missing system packages.
# shellcheck source=scripts/system_deps.sh
source "$ROOT/scripts/system_deps.sh"

install_python() {  # $1: pip extras, e.g. "" or "[dev]"
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  fi
  .venv/bin/python -m pip install -q -e ".$1"
}

install_assets() {
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
}
