"""Sessions in production (REDIS_URL set) are read from the shared cache and written
through to the database (Django's cached_db): a signed-in page reads no session row, and
signing out ends the session everywhere. The embedded default (no Redis, a per-process
cache) keeps database sessions, which every worker reads alike."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parent.parent


def session_engine(**env) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings;"
            " print(settings.SESSION_ENGINE)",
        ],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_sessions_use_the_cache_only_when_it_is_shared():
    assert session_engine() == "django.contrib.sessions.backends.db"
    cached = session_engine(REDIS_URL="redis://127.0.0.1:6379/15")
    assert cached == "django.contrib.sessions.backends.cached_db"


@pytest.mark.django_db
def test_with_redis_a_signed_in_page_reads_no_session_row_and_sign_out_ends_it(
    client, settings, redis_url
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "nongsan-test-sessions",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    user = get_user_model().objects.create_user("an", "an@nongsan.test", "mat-khau-2026")
    client.force_login(user)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()  # written through

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/").status_code in (200, 302)
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]

    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/accounts/").status_code == 302  # signed out: to the sign-in page
