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
    assert session_engine() == "marketplace.core.sessions.db"
    cached = session_engine(REDIS_URL="redis://127.0.0.1:6379/15")
    assert cached == "marketplace.core.sessions.cached_db"


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
    settings.SESSION_ENGINE = "marketplace.core.sessions.cached_db"
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


# --- marketplace.core.sessions: Django's sessions in fewer queries ---------------------------


def _session_queries(queries):
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_a_session_outside_a_transaction_is_created_read_and_written_in_one_query_each():
    from marketplace.core.sessions.db import SessionStore

    store = SessionStore()
    store["checkout"] = {"guest": "hoa@example.vn"}
    with CaptureQueriesContext(connection) as queries:
        store.save()  # a new session: its INSERT alone (no lookup of the key, no BEGIN)
    assert len(queries) == 1 and _session_queries(queries)[0].startswith("INSERT")
    key = store.session_key
    with CaptureQueriesContext(connection) as queries:
        read = SessionStore(key)
        assert read["checkout"] == {"guest": "hoa@example.vn"}
    assert len(queries) == 1
    read["checkout"] = {"guest": "0912345678"}
    with CaptureQueriesContext(connection) as queries:
        read.save()
    assert len(queries) == 1 and _session_queries(queries)[0].startswith("UPDATE")
    assert SessionStore(key)["checkout"] == {"guest": "0912345678"}
    # Django's own store reads what this one wrote, and the other way round.
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore

    assert DjangoStore(key)["checkout"] == {"guest": "0912345678"}
    django_store = DjangoStore()
    django_store["x"] = 1
    django_store.save()
    assert SessionStore(django_store.session_key)["x"] == 1


@pytest.mark.django_db(transaction=True)
def test_an_expired_or_unknown_session_is_not_read_and_gets_a_new_key_when_saved():
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.core.sessions.db import SessionStore

    store = SessionStore()
    store["a"] = 1
    store.save()
    key = store.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.get("a") is None and expired.session_key is None
    expired["b"] = 2
    expired.save()
    assert expired.session_key not in (None, key)
    unknown = SessionStore("x" * 32)
    assert dict(unknown.items()) == {} and unknown.session_key is None
    # Saving a key that was deleted meanwhile: Django's UpdateError (the middleware's 400).
    from django.contrib.sessions.backends.base import UpdateError

    gone = SessionStore(expired.session_key)
    gone["c"] = 3
    Session.objects.filter(pk=expired.session_key).delete()
    with pytest.raises(UpdateError):
        gone.save()


@pytest.mark.django_db(transaction=True)
def test_a_new_session_whose_key_is_taken_gets_another():
    from marketplace.core.sessions.db import SessionStore

    taken = SessionStore()
    taken["owner"] = "first"
    taken.save()
    keys = iter([taken.session_key, "k" * 32])
    store = SessionStore()
    store._get_new_session_key = lambda: next(keys)
    store["owner"] = "second"
    store.save()
    assert store.session_key == "k" * 32
    assert SessionStore(taken.session_key)["owner"] == "first"  # not overwritten
    assert SessionStore("k" * 32)["owner"] == "second"


@pytest.mark.django_db
def test_inside_a_transaction_a_taken_key_leaves_the_transaction_usable():
    """In a transaction (a view's, with ATOMIC_REQUESTS) the session is written in a
    savepoint, as Django writes it: a key already taken does not spoil what follows."""
    from marketplace.core.sessions.db import SessionStore

    taken = SessionStore()
    taken["owner"] = "first"
    taken.save()
    keys = iter([taken.session_key, "t" * 32])
    store = SessionStore()
    store._get_new_session_key = lambda: next(keys)
    store["owner"] = "second"
    store.save()
    assert Session.objects.filter(pk="t" * 32).exists()  # the transaction still works
