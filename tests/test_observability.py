"""What operators see: a request id on every response and log line, JSON log lines, Sentry
only with a DSN, /healthz (the process, no database), /readyz (database, Redis, worker
heartbeat), /metrics (Prometheus, for the scraper only) with Celery's queue length and
task failures."""

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.test import Client

from marketplace.core import observability

ROOT = Path(__file__).resolve().parent.parent


# --- Request id and logs -------------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_has_a_request_id_and_a_sane_incoming_one_is_kept(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nFAKE LOG LINE")["X-Request-ID"]
    assert "\n" not in forged and len(forged) == 32


@pytest.mark.django_db
def test_each_request_writes_one_access_log_line_with_its_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="nongsan.access"):
        response = client.get("/healthz?so=0905123404", HTTP_X_REQUEST_ID="req-access-1")
    (record,) = [r for r in caplog.records if r.name == "nongsan.access"]
    line = json.loads(observability.JsonFormatter().format(record))
    assert line["request_id"] == "req-access-1" == response["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["duration_ms"] >= 0
    assert "0905123404" not in json.dumps(line)  # the query string is not logged


def test_a_log_line_is_one_json_object_with_the_request_id():
    formatter = observability.JsonFormatter()
    id_filter = observability.RequestIdFilter()
    seen = []

    def view(request):
        record = logging.LogRecord(
            "nongsan.test", logging.WARNING, __file__, 1, "Giỏ %s", ("rau",), None
        )
        id_filter.filter(record)
        seen.append(formatter.format(record))
        from django.http import HttpResponse

        return HttpResponse("ok")

    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-000042")
    response = observability.RequestIdMiddleware(view)(request)
    line = json.loads(seen[0])
    assert line["request_id"] == "req-000042" == response["X-Request-ID"]
    assert line["message"] == "Giỏ rau" and line["level"] == "WARNING"
    assert line["logger"] == "nongsan.test" and line["time"].endswith("Z")
    # Outside a request, "-".
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    id_filter.filter(record)
    assert json.loads(formatter.format(record))["request_id"] == "-"


def test_an_exception_is_in_its_log_line():
    formatter = observability.JsonFormatter()
    try:
        raise ValueError("hỏng")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    line = json.loads(formatter.format(record))
    assert "ValueError: hỏng" in line["exception"]


def test_production_logs_are_json_and_sentry_starts_only_with_a_dsn():
    # One process reads the production settings twice: without, then with SENTRY_DSN.
    script = (
        "import importlib, json, os, sentry_sdk; import config.settings as s;"
        "active = lambda: sentry_sdk.get_client().is_active();"
        "seen = [s.LOGGING['handlers']['console']['formatter'], active()];"
        "os.environ['SENTRY_DSN'] = 'https://public@sentry.invalid/1'; importlib.reload(s);"
        "seen.append(active()); print(json.dumps(seen))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": "observability-test-" + "s" * 40,
        "PERSONAL_DATA_KEY": "observability-test-" + "p" * 40,
        "TRACE_SIGNING_KEY": "bm9uZ3Nhbi10ZXN0LXRyYWNlLXNpZ25pbmcta2V5ISE=",
    }
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == ["json", False, True]


# --- Health ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_in_the_embedded_default_without_redis(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("ok")
    assert body["checks"]["worker"].startswith("ok")


@pytest.mark.django_db
def test_readyz_names_a_database_that_does_not_answer(client, monkeypatch):
    def broken(*args, **kwargs):
        raise observability_error()

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OperationalError"


def observability_error():
    from django.db import OperationalError

    return OperationalError("connection refused")


@pytest.mark.django_db
def test_readyz_needs_a_fresh_worker_heartbeat_when_tasks_go_to_a_worker(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WORKER_HEARTBEAT_MAX_AGE = 120
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "error: no worker heartbeat yet"
    observability.beat_heart()
    assert client.get("/readyz").status_code == 200
    cache.set(observability.HEARTBEAT_KEY, time.time() - 300)
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert stale.json()["checks"]["worker"].startswith("error: last heartbeat 30")


@pytest.mark.django_db
def test_readyz_names_a_redis_that_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error: ")


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_is_ok_with_redis_and_a_live_worker(client, settings, redis_url):
    settings.REDIS_URL = redis_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    observability.beat_heart()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}


def test_a_worker_beats_its_heart_once_ready():
    cache.delete(observability.HEARTBEAT_KEY)
    observability.start_heartbeat()
    assert observability.heartbeat_age() < 5


# --- Metrics ---------------------------------------------------------------------------------


@shared_task(name="nongsan.test_always_fails")
def always_fails():
    raise RuntimeError("hỏng")


@pytest.mark.django_db
def test_metrics_are_for_private_addresses_only_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    for address in ("203.0.113.9", "100.64.0.1", "8.8.8.8"):
        assert Client(REMOTE_ADDR=address).get("/metrics").status_code == 404
    for address in ("127.0.0.1", "10.0.0.5", "172.18.0.4", "::1"):
        assert Client(REMOTE_ADDR=address).get("/metrics").status_code == 200


@pytest.mark.django_db
def test_metrics_need_the_token_when_one_is_set(settings):
    settings.METRICS_TOKEN = "t0ken-for-scraper"
    local = Client(REMOTE_ADDR="127.0.0.1")
    assert local.get("/metrics").status_code == 404
    assert local.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    outside = Client(REMOTE_ADDR="203.0.113.9")
    response = outside.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-for-scraper")
    assert response.status_code == 200


@pytest.mark.django_db
def test_metrics_count_requests_and_celery_task_failures(settings):
    settings.METRICS_TOKEN = ""
    local = Client(REMOTE_ADDR="127.0.0.1")
    local.get("/healthz")
    # As a worker runs it: the failure is recorded, not raised to the caller.
    assert always_fails.apply(throw=False).failed()
    assert always_fails.apply(throw=False).failed()
    text = local.get("/metrics").content.decode()
    assert "django_http_requests_total_by_method_total" in text
    assert 'nongsan_celery_task_failures_total{task="nongsan.test_always_fails"} 2.0' in text
    assert "nongsan_celery_worker_heartbeat_age_seconds" in text
    assert "# TYPE nongsan_celery_queue_length gauge" in text


@pytest.mark.redis
@pytest.mark.django_db
def test_metrics_give_the_celery_queue_length_from_redis(settings, redis_url):
    import redis

    settings.METRICS_TOKEN = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    client.delete("celery")
    client.rpush("celery", "a", "b", "c")
    try:
        text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    finally:
        client.delete("celery")
        client.close()
    assert 'nongsan_celery_queue_length{queue="celery"} 3.0' in text
