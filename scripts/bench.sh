#!/usr/bin/env bash
# make bench: benchmarks on SQLite and (when reachable) PostgreSQL; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/nongsan}"
PG_SERVER="${PG_URL%/*}"
PY=.venv/bin/python
mkdir -p bench/results var
stamp=$(date +%Y%m%d-%H%M%S)

run() {  # run LABEL DATABASE_URL
  echo "=== $1 ==="
  for bench in bench/storefront.py; do
    DATABASE_URL="$2" MEDIA_ROOT="var/bench_media" \
      $PY "$bench" | tee -a "bench/results/$stamp-$1.txt"
  done
}

rm -f var/bench.sqlite3
run sqlite "sqlite:///$(pwd)/var/bench.sqlite3"

if $PY -c "import psycopg,sys; psycopg.connect('$PG_SERVER/postgres', connect_timeout=3).close()" 2>/dev/null; then
  $PY -c "
import psycopg
with psycopg.connect('$PG_SERVER/postgres', autocommit=True) as c:
    c.execute('DROP DATABASE IF EXISTS nongsan_bench WITH (FORCE)')
    c.execute('CREATE DATABASE nongsan_bench')
"
  run postgresql "$PG_SERVER/nongsan_bench"
else
  echo "=== PostgreSQL not reachable at $PG_SERVER: benchmarks ran on SQLite only ==="
fi
