# nongsan — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml 2>/dev/null | cksum | cut -d' ' -f1)
CHROMIUM := /usr/bin/chromium
PG_URL ?= postgres://postgres@127.0.0.1:5432/nongsan
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-sqlite test-postgres lint format bench lock messages install browser clean backup

## make run: install, migrate, load demo data, serve http://127.0.0.1:8000 (SQLite, eager Celery)
run: install
	@bash scripts/run.sh

## make test: install, then the whole suite on SQLite and (when reachable) on PostgreSQL
test: install browser
	@bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make bench: benchmarks (see bench/README.md)
bench: install browser
	@bash scripts/bench.sh

## make backup: a dated archive of the database, media and private files (README, Backups);
## like make run, the embedded default unless DEBUG and the production variables are set
backup: install
	DEBUG="$${DEBUG:-1}" $(PY) manage.py backup

## make messages: compile locale/*.po to .mo with Babel (no gettext tools needed)
messages: install
	$(PY) scripts/compile_messages.py

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "nongsan needs Python 3.11, found " + sys.version' 
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

## Debian's Chromium for the browser tests (Playwright cannot download browsers here), and
## axe-core from npm (package.json, exact version) that they inject for accessibility checks;
## lighthouse (same file) for `make bench`
browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -f node_modules/axe-core/axe.min.js -a -f node_modules/lighthouse/package.json || { \
	  command -v npm >/dev/null || { \
	    echo "Installing Debian's npm for axe-core..."; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }; \
	  npm ci --no-audit --no-fund --ignore-scripts --silent; }

## make lock: re-resolve pyproject.toml's pins into requirements.lock
lock:
	rm -rf /tmp/nongsan-lock && $(PYTHON) -m venv /tmp/nongsan-lock
	$(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > /tmp/nongsan-lock/pins.txt
	/tmp/nongsan-lock/bin/pip install --quiet --disable-pip-version-check -r /tmp/nongsan-lock/pins.txt
	/tmp/nongsan-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) var staticfiles
