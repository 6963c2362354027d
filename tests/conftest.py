import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import translation

# CI sets NONGSAN_REQUIRE_SERVICES=1: a test that needs PostgreSQL, Redis or Chromium
# then fails instead of skipping, so nothing silently skips there.
REQUIRE_SERVICES = os.environ.get("NONGSAN_REQUIRE_SERVICES") == "1"
# A user the demo data creates: present means the demo marketplace is loaded.
DEMO_MARKER = "quantri@nongsan.test"
COMMITTING_FIXTURES = {"transactional_db", "live_server", "django_db_serialized_rollback"}
REDIS_URL = os.environ.get("NONGSAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


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


@pytest.fixture(autouse=True)
def _postgres_only(request):
    # Tests marked `postgres` (locking, concurrency, pg_trgm) run in the PostgreSQL stage
    # of `make test`; in the SQLite stage they skip even in CI, where scripts/test.sh
    # fails the build if the PostgreSQL stage cannot run.
    if (
        request.node.get_closest_marker("postgres")
        and "postgresql" not in settings.DATABASES["default"]["ENGINE"]
    ):
        pytest.skip("PostgreSQL only: runs in the PostgreSQL stage of make test")


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


def _demo_is_loaded() -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email__iexact=DEMO_MARKER).exists()


_MIGRATED: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database of this process (one per xdist worker), migrated, then loaded
    once with the demo marketplace as `make run` loads it. Every test starts from this
    state: ordinary tests run in a transaction that rolls back; after a test that
    commits (live server, concurrency) the database is rebuilt, see
    `pytest_runtest_teardown` below."""
    with django_db_blocker.unblock():
        for alias in connections:
            # What the migrations wrote (Việt Nam as the shipping country, the delivery
            # rates): put back after a committing test's flush.
            connection = connections[alias]
            _MIGRATED[alias] = getattr(connection, "_test_serialized_contents", None) or (
                connection.creation.serialize_db_to_string()
            )
        before = _table_marks()
        _seed_demo()
        _SEEDED[:] = _seeded_since(before)
    yield


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
    keys hold when it commits) and the database rebuilt after it."""
    with transaction.atomic(), connections["default"].cursor() as cursor:
        for sql, params in _SEEDED:
            cursor.execute(sql, params)
    cache.clear()


def _rebuild_database() -> None:
    """After a test that committed: empty every table, put back what the migrations
    wrote, load the demo again."""
    for alias in connections:
        call_command(
            "flush",
            verbosity=0,
            interactive=False,
            database=alias,
            inhibit_post_migrate=True,
        )
        connections[alias].creation.deserialize_db_from_string(_MIGRATED[alias])
    _seed_demo()


def _commits(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool(set(getattr(item, "fixturenames", ())) & COMMITTING_FIXTURES)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    # A test that committed has flushed the database on its way out; the next test
    # (of any kind) expects the demo marketplace, so load it again now.
    if nextitem is not None and _commits(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            if not _demo_is_loaded():
                _rebuild_database()
    return result


@pytest.fixture
def demo(db, search_index):
    """The full demo marketplace, as `make run` loads it: built once per test database
    (see `django_db_setup`); each test's changes roll back."""
