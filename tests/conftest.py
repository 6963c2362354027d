import os
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

# CI sets NONGSAN_REQUIRE_SERVICES=1: a test that needs PostgreSQL, Redis or Chromium
# then fails instead of skipping, so nothing silently skips there.
REQUIRE_SERVICES = os.environ.get("NONGSAN_REQUIRE_SERVICES") == "1"
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
    from marketplace.indexing import reindex_all

    return reindex_all


@pytest.fixture
def demo(db, search_index):
    """The full demo marketplace, as `make run` loads it."""
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", force=True, without_orders=True, stdout=devnull)
