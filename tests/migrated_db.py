"""The migrated test database, built once and then copied.

Migrating an empty database takes tens of seconds of CPU (Django renders the historical
models of some two hundred migrations), and each pytest-xdist worker of each stage of
`make test` used to do it. Instead the first worker to get here migrates as usual and keeps
a copy, and every other database made from the same migrations is that copy:

- SQLite: a file under .pytest_cache/nongsan-db/, copied into the worker's in-memory test
  database with SQLite's backup API;
- PostgreSQL: a template database next to the test database (``<test db>_tpl_<key>``),
  and the worker's test database is created from it (``CREATE DATABASE … TEMPLATE``).

The copy is named by a digest of every installed app's migration files, every model's
table and columns (the tables of models outside any migration included), the locked
requirements (Django's, Oscar's and the other packages' own migrations) and the settings
the migrations read, so a new or edited migration builds a new copy (older PostgreSQL
templates of the same test database are dropped then). A file lock makes the other worker
wait while the first one migrates. NONGSAN_TEST_MIGRATE=1 migrates every database as
before (the migrations themselves are then run by every worker).
"""

import fcntl
import hashlib
import os
import re
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".pytest_cache" / "nongsan-db"
_building = threading.local()
KEEP = 3  # copies kept (SQLite files, PostgreSQL templates)


def _key(connection) -> str:
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(connection.vendor.encode())
    for config in sorted(apps.get_app_configs(), key=lambda c: c.label):
        module_name, _explicit = MigrationLoader.migrations_module(config.label)
        if module_name is None:
            continue
        try:
            module = __import__(module_name, fromlist=["__path__"])
        except ImportError:
            continue
        for folder in getattr(module, "__path__", []):
            for path in sorted(Path(folder).rglob("*.py")):
                digest.update(f"{config.label}/{path.relative_to(folder)}".encode())
                digest.update(path.read_bytes())
    # The tables `migrate --run-syncdb` makes for models outside any migration (such as
    # those oscar.test.factories defines when a test module imports it) and, to be safe,
    # every model's table and columns.
    for model in sorted(
        apps.get_models(include_auto_created=True), key=lambda m: (m._meta.db_table, m.__name__)
    ):
        columns = ",".join(sorted(f.column or "" for f in model._meta.local_concrete_fields))
        digest.update(f"{model._meta.app_label}.{model._meta.db_table}:{columns};".encode())
    for name in ("requirements.lock", "config/settings.py", "config/settings_test.py"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _locked(name: str):
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ------------------------------------------------------------------------------ SQLite
def _sqlite(connection, key, migrate) -> None:
    path = CACHE / f"sqlite-{key}.sqlite3"
    with _locked(f"sqlite-{key}"):
        if path.exists():
            path.touch()  # the newest used, kept longest
            connection.ensure_connection()
            source = sqlite3.connect(path)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
            return
        migrate()
        connection.ensure_connection()
        partial = path.with_suffix(f".{os.getpid()}.part")
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        os.replace(partial, path)
        # The newest few copies stay (a run of a few test files may import fewer models
        # than the whole suite, so the two alternate); older ones go.
        copies = sorted(CACHE.glob("sqlite-*.sqlite3"), key=lambda p: p.stat().st_mtime)
        for old in copies[:-KEEP]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)


# -------------------------------------------------------------------------- PostgreSQL
def _postgres(connection, key, migrate) -> None:
    name = connection.settings_dict["NAME"]
    base = re.sub(r"_gw\d+$", "", name)
    template = f"{base[:40]}_tpl_{key}"
    quote = connection.ops.quote_name
    with _locked(f"pg-{template}"):
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            found = cursor.fetchone() is not None
            if found:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)")
                cursor.execute(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
        if found:
            return
        migrate()
        connection.close()
        partial = f"{template}_part"
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(partial)}")
            cursor.execute(f"CREATE DATABASE {quote(partial)} TEMPLATE {quote(name)}")
            cursor.execute(f"ALTER DATABASE {quote(partial)} RENAME TO {quote(template)}")
            # Templates of the same test database made from other migrations: the newest
            # few stay (as the SQLite copies), older ones go.
            cursor.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s "
                "ORDER BY oid DESC OFFSET %s",
                [f"{base[:40]}\\_tpl\\_%", template, KEEP - 1],
            )
            for (old,) in cursor.fetchall():
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(old)}")


def install() -> None:
    """Wrap Django's test database creation so that its `migrate` uses the copy."""
    if os.environ.get("NONGSAN_TEST_MIGRATE") == "1":
        return
    from django.core.management.commands import migrate as migrate_command
    from django.db.backends.base import creation

    original_create = creation.BaseDatabaseCreation.create_test_db
    original_handle = migrate_command.Command.handle

    def create_test_db(self, *args, **kwargs):
        _building.connection = self.connection
        try:
            return original_create(self, *args, **kwargs)
        finally:
            _building.connection = None

    def handle(command, *args, **options):
        connection = getattr(_building, "connection", None)
        if connection is None or connection.alias != options.get("database"):
            return original_handle(command, *args, **options)
        _building.connection = None  # once per test database

        def migrate():
            original_handle(command, *args, **options)

        key = _key(connection)
        if connection.vendor == "sqlite":
            _sqlite(connection, key, migrate)
        elif connection.vendor == "postgresql":
            _postgres(connection, key, migrate)
        else:
            migrate()

    creation.BaseDatabaseCreation.create_test_db = create_test_db
    migrate_command.Command.handle = handle
