"""Under gunicorn (config.wsgi), a short link's kept page is answered by the handler before
Django's request object and middleware (marketplace.core.handlers, traceability.middleware
.early_answer): the same page and headers as the middleware stack gives, a request id, an
access log line, Prometheus's counts, a scan; and never past what must go through the
stack (a new event, HTTPS, another language, a conditional request)."""

import gzip
import io
import json
import logging
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.core import observability
from marketplace.core.handlers import ResolvingWSGIHandler
from traceability import caching, middleware, scans

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler(settings):
    """The served app's handler, the test's database connection kept open between requests
    (as Django's test client does), scans handed to Celery's broker in batches as in
    production (with eager tasks, their INSERT in the request, nothing is answered early)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    middleware._kept.clear()
    scans._buffer.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield ResolvingWSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    scans._buffer.clear()  # never sent


def call(handler, path, **headers):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "RAW_URI": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_ACCEPT_LANGUAGE": "vi",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
        **headers,
    }
    answered = []
    body = handler(
        environ, lambda status, headers, exc_info=None: answered.append((status, headers))
    )
    content = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    status, headers = answered[0]
    call.early = type(body) is list  # the handler's own answer, not Django's response
    return int(status.split()[0]), headers, content


def without_id(headers):
    return [(name, value) for name, value in headers if name != "X-Request-ID"]


def requests_total():
    from django_prometheus.middleware import Metrics

    return Metrics.get_instance().requests_total._value.get()


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_kept_page_answered_early_is_the_page_the_stack_gave(handler, gtin_lot, prefix, caplog):
    url = f"{prefix}/t/{gtin_lot.short_code}/"
    first = call(handler, url)  # the view, then kept by KeptTracePageMiddleware
    scanned = len(scans._buffer)
    counted = requests_total()
    with (
        CaptureQueriesContext(connection) as queries,
        caplog.at_level(logging.INFO, logger="nongsan.access"),
    ):
        again = call(handler, url, HTTP_X_REQUEST_ID="lb-early-0001")
    assert again[0] == first[0] == 200 and call.early
    assert again[2] == first[2]
    assert without_id(again[1]) == without_id(first[1])  # the same headers, in their order
    headers = dict(again[1])
    assert headers["X-Request-ID"] == "lb-early-0001"
    assert (
        headers["X-Content-Type-Options"] == "nosniff"
        and "Strict-Transport-Security" not in headers
    )
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    (record,) = [
        r for r in caplog.records if r.name == "nongsan.access" and r.request_id == "lb-early-0001"
    ]
    line = json.loads(observability.JsonFormatter().format(record))
    assert (line["request_id"], line["path"], line["status"]) == ("lb-early-0001", url, 200)
    assert requests_total() == counted + 1
    # Each opening is a scan, handed to the broker with the next batch; no SQL query.
    assert len(scans._buffer) == scanned + 1 and scans._buffer[-1][0] == gtin_lot.pk
    assert len(queries) == 0


def test_gzip_as_the_stack_gives_it(handler, gtin_lot):
    url = f"/t/{gtin_lot.short_code}/"
    plain = call(handler, url)
    zipped = call(handler, url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    headers = dict(zipped[1])
    assert (
        headers["Content-Encoding"] == "gzip" and headers["ETag"] == "W/" + dict(plain[1])["ETag"]
    )
    assert headers["Content-Length"] == str(len(zipped[2]))
    assert gzip.decompress(zipped[2]) == plain[2]


def test_a_new_event_shows_at_once(handler, gtin_lot):
    url = f"/t/{gtin_lot.short_code}/"
    call(handler, url)
    assert call(handler, url)[0] == 200 and call.early
    caching.invalidate_lot(gtin_lot.pk)  # what a new event, a correction or a recall do
    with CaptureQueriesContext(connection) as queries:
        assert call(handler, url)[0] == 200 and not call.early
    assert any(q["sql"].startswith("SELECT") for q in queries)  # the view, not the kept page


def test_https_redirect_and_hsts_as_security_middleware_gives(handler, gtin_lot, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    handler = ResolvingWSGIHandler()  # its middleware read the settings when made
    url = f"/t/{gtin_lot.short_code}/"
    assert call(handler, url, **{"wsgi.url_scheme": "https"})[0] == 200  # kept now
    status, headers, _body = call(handler, url)
    assert status == 301 and dict(headers)["Location"] == f"https://testserver{url}"
    status, headers, _body = call(handler, url, **{"wsgi.url_scheme": "https"})
    assert status == 200 and dict(headers)["Strict-Transport-Security"].startswith("max-age=3600")


def test_other_languages_and_conditional_requests_go_through_the_stack(handler, gtin_lot):
    url = f"/t/{gtin_lot.short_code}/"
    etag = dict(call(handler, url)[1])["ETag"]
    status, headers, _body = call(handler, url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert status == 302 and dict(headers)["Location"] == f"/en{url}"
    status, headers, _body = call(handler, url, HTTP_COOKIE="django_language=en")
    assert status == 302 and dict(headers)["Location"] == f"/en{url}"
    assert call(handler, url, HTTP_IF_NONE_MATCH=etag)[0] == 304


def test_with_eager_tasks_the_stack_answers_and_the_scan_is_written(handler, gtin_lot, settings):
    from traceability.models import Scan

    url = f"/t/{gtin_lot.short_code}/"
    call(handler, url)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    middleware._kept.clear()  # (the setting's change forgot them too)
    call(handler, url)
    before = Scan.objects.filter(lot=gtin_lot).count()
    assert call(handler, url)[0] == 200 and not call.early
    assert Scan.objects.filter(lot=gtin_lot).count() == before + 1


def test_nothing_is_answered_early_below_a_middleware_the_handler_does_not_stand_in_for(
    settings,
):
    settings.MIDDLEWARE = ["django.middleware.common.CommonMiddleware", *settings.MIDDLEWARE]
    assert ResolvingWSGIHandler()._early == []
