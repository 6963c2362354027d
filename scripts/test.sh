#!/usr/bin/env bash
# make test: the whole suite on SQLite, then again on PostgreSQL when one is reachable.
set -uo pipefail
cd "$(dirname "$0")/.."
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/nongsan}"
PY=.venv/bin/python
# Two workers by default (pytest-xdist), one a core (three were slower on this 2-core
# machine: the SQLite stage of a fresh clone took 6m37s with three; 5m21s with two, its
# compiled modules already kept). PYTEST_WORKERS=0 runs in one process. Each worker starts with half the tests and takes over the not yet started
# half of the other's queue when it runs out, so the slow tests at the end (browser,
# concurrency) are shared instead of left to one worker.
WORKERS=(-n "${PYTEST_WORKERS:-2}" --dist worksteal)
# Compiled modules (and pytest's rewritten test modules) are kept outside the source
# tree and reused by every worker and by the second stage, instead of being compiled
# again in each process.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$PWD/.pytest_cache/pycache}"
status=0

echo "=== 1/2 Test suite on SQLite (the embedded default) ==="
env -u DATABASE_URL .venv/bin/pytest "${WORKERS[@]}" "$@" || status=$?

if $PY - "$PG_URL" <<'PYCODE'
import sys, psycopg
from urllib.parse import urlparse
url = urlparse(sys.argv[1])
try:
    psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                    password=url.password, dbname="postgres", connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable: {exc}".strip())
    sys.exit(1)
PYCODE
then
  echo "=== 2/2 Test suite on PostgreSQL (${PG_URL}) ==="
  DATABASE_URL="$PG_URL" .venv/bin/pytest "${WORKERS[@]}" "$@" || status=$?
else
  echo "=== 2/2 skipped: no PostgreSQL at ${PG_URL}; the suite ran on SQLite only ==="
  if [ "${NONGSAN_REQUIRE_SERVICES:-0}" = 1 ]; then status=1; fi
fi
exit $status
