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
  for bench in bench/storefront.py bench/page_weight.py bench/lighthouse.py bench/trace.py bench/middleware.py bench/labels.py bench/member_import.py bench/product_import.py bench/checkout.py; do
    [ -f "$bench" ] || continue
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
  # Search at scale (PostgreSQL only): 50,000 generated products, kept between runs in
  # nongsan_bench_search (drop it to regenerate; BENCH_PRODUCTS changes the size).
  $PY -c "
import psycopg
with psycopg.connect('$PG_SERVER/postgres', autocommit=True) as c:
    if not c.execute(\"SELECT 1 FROM pg_database WHERE datname='nongsan_bench_search'\").fetchone():
        c.execute('CREATE DATABASE nongsan_bench_search')
"
  echo "=== search, postgresql ==="
  DATABASE_URL="$PG_SERVER/nongsan_bench_search" MEDIA_ROOT="var/bench_media" \
    $PY bench/search.py | tee -a "bench/results/$stamp-search-postgresql.txt"
  # The load the compose shape holds (issue 17): its own fresh database nongsan_loadrun,
  # Redis database 13 and a Celery worker; about 20 minutes (BENCH_LOAD_HOLD, default 600 s).
  echo "=== load, postgresql ==="
  PG_URL="$PG_URL" MEDIA_ROOT="var/bench_media" \
    $PY bench/load.py | tee -a "bench/results/$stamp-load-postgresql.txt"
else
  echo "=== PostgreSQL not reachable at $PG_SERVER: benchmarks ran on SQLite only ==="
fi
