#!/usr/bin/env bash
# make run: migrate, load the demo data and serve the storefront on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
# Links in messages, on labels and in what seed_demo prints follow the address served.
export SITE_BASE_URL="${SITE_BASE_URL:-http://$HOST:$PORT}"
$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo
echo
echo "Storefront:   http://$HOST:$PORT/        (English: http://$HOST:$PORT/en/)"
echo "Dashboard:    http://$HOST:$PORT/dashboard/  (operator, farmer)"
echo "Staff area:   http://$HOST:$PORT/can-bo/     (association and post-office staff)"
echo
exec $PY manage.py runserver "$HOST:$PORT"
