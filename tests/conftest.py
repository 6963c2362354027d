import os
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import translation

from tests import migrated_db

# CI sets NONGSAN_REQUIRE_SERVICES=1: a test that needs PostgreSQL, Redis or Chromium
# then fails instead of skipping, so nothing silently skips there.
REQUIRE_SERVICES = os.environ.get("NONGSAN_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("NONGSAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Each test database is a copy of one migrated once per set of migrations (tests/migrated_db.py).
migrated_db.install()


def reachable(url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            return True
    except OSError:
        return False


def need(condition: bool, reason: str) -> None:
    """Skip with a clear reason where a service is missing; fail in CI."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (NONGSAN_REQUIRE_SERVICES=1: CI must have it)")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    # Tests marked `postgres` (locking, concurrency, pg_trgm) run in the PostgreSQL stage
    # of `make test`; in the SQLite stage they skip even in CI, where scripts/test.sh
    # fails the build if the PostgreSQL stage cannot run. Skipped before any fixture
    # is set up, so that no database work is done for them.
    # Browser journeys (tests/e2e) drive the pages, which both databases serve alike: they
    # run once, in the SQLite stage, unless marked `postgres` or NONGSAN_BROWSER_BOTH=1.
    # Tests that use no database at all (settings checked in a process of their own, pure
    # rules, files) prove the same on both: they too run once, in the SQLite stage, unless
    # their module names PostgreSQL or DATABASE_URL (it may then hand the database on to
    # a process it starts), or NONGSAN_NODB_BOTH=1.
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        if os.environ.get("NONGSAN_BROWSER_BOTH") != "1":
            once = pytest.mark.skip(reason="Browser journey: runs in the SQLite stage of make test")
            for item in items:
                if item.nodeid.startswith("tests/e2e/") and not item.get_closest_marker("postgres"):
                    item.add_marker(once)
        if os.environ.get("NONGSAN_NODB_BOTH") != "1":
            once = pytest.mark.skip(reason="No database: runs in the SQLite stage of make test")
            for item in items:
                if not _uses_a_database(item) and not _names_the_database(item):
                    item.add_marker(once)
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: runs in the PostgreSQL stage of make test")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def _uses_a_database(item) -> bool:
    if item.get_closest_marker("postgres") or item.get_closest_marker("django_db"):
        return True
    cls = getattr(item, "cls", None)
    if cls is not None:
        from django.test import SimpleTestCase, TestCase, TransactionTestCase

        if issubclass(cls, (TestCase, TransactionTestCase)) or (
            issubclass(cls, SimpleTestCase) and cls.databases
        ):
            return True
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & {"db", "transactional_db", "live_server", "django_db_setup"})


_NAMES_THE_DATABASE: dict = {}


def _names_the_database(item) -> bool:
    path = str(item.path)
    if path not in _NAMES_THE_DATABASE:
        text = Path(path).read_text(encoding="utf-8", errors="replace").lower()
        _NAMES_THE_DATABASE[path] = "database_url" in text or "postgres" in text
    return _NAMES_THE_DATABASE[path]


@pytest.fixture(autouse=True)
def _vietnamese_first():
    # A request to an /en/ page leaves English active in this thread; start every test
    # in the site's default language, as a new visitor would.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Oscar caches category URLs by primary key, which SQLite reuses between tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def redis_url():
    need(reachable(REDIS_URL), f"no Redis server reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def search_index(db):
    """Rebuild every SearchEntry row (signals keep them in sync on save; call this after
    bulk changes that bypass signals)."""
    from marketplace.search.indexing import reindex_all

    return reindex_all


def _seed_demo() -> None:
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", force=True, without_orders=True, stdout=devnull)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database of this process (one per xdist worker), migrated, then loaded
    once with the demo marketplace as `make run` loads it. Every test starts from this
    state: ordinary tests run in a transaction that rolls back; a test that commits
    (live server, concurrency) gets the seeded database put back from a snapshot taken
    here, see `_restore_after_commit` below."""
    from django.test import TransactionTestCase

    with django_db_blocker.unblock():
        before = _table_marks()
        _seed_demo()
        _SEEDED[:] = _seeded_since(before)
        for alias in connections:
            _SNAPSHOTS[alias] = _snapshot_of(connections[alias])
        _MEDIA.take()
    with pytest.MonkeyPatch.context() as patch:
        # Django empties the database after a test that committed; put the demo back
        # instead (which also takes away whatever the test committed).
        patch.setattr(TransactionTestCase, "_fixture_teardown", _restore_after_commit)
        yield
    with django_db_blocker.unblock():
        for alias in connections:
            connection = connections[alias]
            if connection.vendor == "postgresql":
                # Threads of the live server and of the concurrency tests may keep a
                # connection open, which would stop the test database being dropped.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


def _tables():
    """(table, primary key column, integer key?) of every concrete model, once each."""
    from django.apps import apps

    seen = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in seen:
            continue
        integer = meta.pk.get_internal_type() in {"AutoField", "BigAutoField", "SmallAutoField"}
        seen[meta.db_table] = (meta.db_table, meta.pk.column, integer)
    return list(seen.values())


def _table_marks() -> dict:
    """Each table's highest integer key (or its keys) before the demo is loaded."""
    marks = {}
    with connections["default"].cursor() as cursor:
        for table, pk, integer in _tables():
            if integer:
                cursor.execute(f'SELECT MAX("{pk}") FROM "{table}"')
                marks[table] = cursor.fetchone()[0] or 0
            else:
                cursor.execute(f'SELECT "{pk}" FROM "{table}"')
                marks[table] = {row[0] for row in cursor.fetchall()}
    return marks


def _seeded_since(before: dict) -> list:
    """The DELETE statements that take the database back to `before`: the rows the demo
    added, table by table."""
    statements = []
    with connections["default"].cursor() as cursor:
        for table, pk, integer in _tables():
            if integer:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE "{pk}" > %s', [before[table]])
                if cursor.fetchone()[0]:
                    statements.append((f'DELETE FROM "{table}" WHERE "{pk}" > %s', [before[table]]))
            else:
                cursor.execute(f'SELECT "{pk}" FROM "{table}"')
                added = [row[0] for row in cursor.fetchall() if row[0] not in before[table]]
                if added:
                    marks = ", ".join(["%s"] * len(added))
                    statements.append((f'DELETE FROM "{table}" WHERE "{pk}" IN ({marks})', added))
    return statements


_SEEDED: list = []


@pytest.fixture
def blank_db(db):
    """The migrated database without the demo data, for tests that build a small world
    of their own: the demo's rows are deleted inside this test's transaction (foreign
    keys are checked at commit, which never comes), so the next test has them back. A
    test that commits gets them deleted in one transaction of their own (so the foreign
    keys hold when it commits) and the seeded database put back after it."""
    with transaction.atomic(), connections["default"].cursor() as cursor:
        for sql, params in _SEEDED:
            cursor.execute(sql, params)
    cache.clear()


# --- The seeded database, put back after a test that committed ---------------------------
#
# Loading the demo takes seconds; putting back a copy of the seeded tables takes a
# fraction of that. The copy is taken once per test database, right after the demo is
# loaded (sequences and the files the demo wrote included).

_SNAPSHOTS: dict = {}


class _PostgresSnapshot:
    """Every table's rows (binary COPY) and every sequence's position."""

    def __init__(self, connection):
        self.alias = connection.alias
        self.tables = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        self.rows = {}
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for table in self._filled(cursor):
                with raw.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
                    self.rows[table] = b"".join(bytes(block) for block in copy)
            cursor.execute(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                "FROM pg_sequences WHERE schemaname = current_schema()"
            )
            names = [name for (name,) in cursor.fetchall()]
            self.sequences = []
            for name in names:
                cursor.execute(f"SELECT last_value, is_called FROM {name}")
                self.sequences.append((name, *cursor.fetchone()))

    def _filled(self, cursor) -> list:
        """The tables that hold at least one row."""
        if not self.tables:
            return []
        cursor.execute(
            " UNION ALL ".join(
                f'SELECT %s WHERE EXISTS (SELECT 1 FROM "{table}")' for table in self.tables
            ),
            self.tables,
        )
        return [table for (table,) in cursor.fetchall()]

    def restore(self) -> None:
        # The connection this thread has now (the one the snapshot was taken on may
        # have been replaced since).
        connection = connections[self.alias]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # Only the tables that hold rows now or in the copy; DELETE rather than
            # TRUNCATE: on a few hundred small tables it is several times faster, and
            # the foreign keys (deferred) are checked when this transaction commits.
            assert connection.in_atomic_block and not connection.get_autocommit()
            dirty = sorted(set(self._filled(cursor)) | set(self.rows))
            for table in dirty:
                cursor.execute(f'DELETE FROM "{table}"')
            raw = cursor.cursor
            for table, data in self.rows.items():
                with raw.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                    copy.write(data)
            if self.sequences:
                cursor.execute(
                    "SELECT " + ", ".join("setval(%s, %s, %s)" for _ in self.sequences),
                    [value for sequence in self.sequences for value in sequence],
                )


class _SQLiteSnapshot:
    """A copy of the whole database file (or in-memory database) by SQLite's backup."""

    def __init__(self, connection):
        import sqlite3

        self.alias = connection.alias
        connection.ensure_connection()
        self.copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(self.copy)

    def restore(self) -> None:
        connection = connections[self.alias]
        connection.ensure_connection()
        self.copy.backup(connection.connection)


def _snapshot_of(connection):
    if connection.vendor == "postgresql":
        return _PostgresSnapshot(connection)
    if connection.vendor == "sqlite":
        return _SQLiteSnapshot(connection)
    raise NotImplementedError(f"no snapshot of a {connection.vendor} test database")


class _MediaFiles:
    """The files the demo wrote (product pictures, farm photos, certificate scans, …):
    hard links kept aside, put back if a test deleted one."""

    def take(self) -> None:
        self.roots = {}
        keep = Path(tempfile.mkdtemp(prefix="nongsan-seeded-media-"))
        for index, root in enumerate({str(settings.MEDIA_ROOT), str(settings.PRIVATE_MEDIA_ROOT)}):
            root, kept = Path(root), keep / str(index)
            files = [path for path in root.rglob("*") if path.is_file()] if root.is_dir() else []
            for path in files:
                target = kept / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
            self.roots[root] = (kept, [path.relative_to(root) for path in files])

    def restore(self) -> None:
        for root, (kept, names) in self.roots.items():
            for name in names:
                path = root / name
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    os.link(kept / name, path)


_MEDIA = _MediaFiles()


def _restore_after_commit(test_case) -> None:
    """Instead of Django's flush after a test that committed (TransactionTestCase): the
    seeded database as it was, its files, and no cache remembering what the test did
    (Django's cache, Oscar's category URLs, the trace pages' verdicts, content types)."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site

    for alias in test_case._databases_names(include_mirrors=False):
        _SNAPSHOTS[alias].restore()
    _MEDIA.restore()
    cache.clear()
    ContentType.objects.clear_cache()
    Site.objects.clear_cache()


@pytest.fixture
def demo(db, search_index):
    """The full demo marketplace, as `make run` loads it: built once per test database
    (see `django_db_setup`); each test's changes roll back."""


# A local S3 API server (moto) for the storage and backup tests, with two buckets.
MEDIA_BUCKET, PRIVATE_BUCKET = "nongsan-test-media", "nongsan-test-private"


@pytest.fixture(scope="session")
def s3_server():
    """A local S3 API server (moto) for the whole run, with the two buckets."""
    import json

    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )
    for bucket in (MEDIA_BUCKET, PRIVATE_BUCKET):
        client.create_bucket(Bucket=bucket)
    # What `mc anonymous set download` does to the media bucket in docker-compose.yml.
    client.put_bucket_policy(
        Bucket=MEDIA_BUCKET,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ["*"]},
                        "Action": ["s3:GetObject"],
                        "Resource": [f"arn:aws:s3:::{MEDIA_BUCKET}/*"],
                    }
                ],
            }
        ),
    )
    yield endpoint, client
    server.stop()
