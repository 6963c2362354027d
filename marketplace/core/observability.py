"""What operators see of the running site: a request id on every response and log line,
JSON log lines, the Permissions-Policy header, and the figures /metrics and /readyz give
(Celery queue length, task failures, the worker's heartbeat).

Celery's worker writes its heartbeat and counts task failures in Django's cache (Redis in
production), which the web processes read: the two never share memory.
"""

import ipaddress
import json
import logging
import os
import re
import threading
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
# An id a proxy passes on is kept when it looks like one (no spaces or control characters).
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

access_log = logging.getLogger("nongsan.access")

HEARTBEAT_KEY = "observability:worker-heartbeat"
FAILURES_KEY = "observability:task-failures"
HEARTBEAT_EVERY = 30  # seconds
# Where a scraper inside the deployment's own network comes from (RFC 1918, RFC 4193).
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def current_request_id() -> str:
    return _request_id.get()


def request_id_for(incoming: str) -> str:
    """The request's id: the proxy's X-Request-ID when it sent a sane one, else 128 random
    bits as 32 hex digits (as uuid4().hex, without building a UUID)."""
    return incoming if _INCOMING_ID.match(incoming) else os.urandom(16).hex()


def bind_request_id(request_id: str):
    """Put the id in every log line written until unbind_request_id(token)."""
    return _request_id.set(request_id)


def unbind_request_id(token) -> None:
    _request_id.reset(token)


def log_access(method: str, path: str, status: int, request_id: str, started: float) -> None:
    """The access log: one line a request, with its id (the path without its query, which
    can hold personal data such as a phone number). `started`: time.monotonic() then."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )


class RequestIdMiddleware:
    """Gives each request an id (the proxy's X-Request-ID when it sent a sane one), puts it
    on the request, in every log line written meanwhile, and in the response header.
    (marketplace.core.handlers does the same for the pages it answers before Django's
    request object.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # From META, not request.headers: that would copy every header of every request.
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            log_access(request.method, request.path, response.status_code, request_id, started)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class PermissionsPolicyMiddleware:
    """settings.PERMISSIONS_POLICY on every response (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request)."""

    def filter(self, record):
        record.request_id = getattr(record, "request_id", None) or current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id,
    and the exception's traceback when there is one."""

    _last_second = (None, "")  # (second, its text): one tuple, so threads read a pair

    def _time(self, record) -> str:
        # The date and time to the second change once a second: written once for it.
        second = int(record.created)
        cached, text = self._last_second
        if second != cached:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._last_second = (second, text)
        return f"{text}.{int(record.msecs):03d}Z"

    def format(self, record):
        entry = {
            "time": self._time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for field in ("method", "path", "status", "duration_ms"):
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        status = getattr(record, "status_code", None)
        if status is not None and "status" not in entry:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- Celery: heartbeat, failures, queue length ------------------------------------------------


def beat_heart() -> None:
    cache.set(HEARTBEAT_KEY, time.time(), timeout=settings.WORKER_HEARTBEAT_MAX_AGE * 10)


def heartbeat_age() -> float | None:
    """Seconds since a worker last said it is alive; None when none ever did."""
    last = cache.get(HEARTBEAT_KEY)
    return None if last is None else max(0.0, time.time() - float(last))


def start_heartbeat(**_kwargs) -> None:
    """In a worker (signal worker_ready): say "alive" now and every HEARTBEAT_EVERY s."""
    beat_heart()

    def loop():
        while True:
            time.sleep(HEARTBEAT_EVERY)
            try:
                beat_heart()
            except Exception:  # a cache outage must not kill the worker
                logging.getLogger(__name__).exception("worker heartbeat not written")

    threading.Thread(target=loop, name="nongsan-heartbeat", daemon=True).start()


def count_failure(sender=None, **_kwargs) -> None:
    """Signal task_failure: one more failed task, by task name."""
    name = getattr(sender, "name", None) or "unknown"
    key = f"{FAILURES_KEY}:{name}"
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=None)
    names = cache.get(FAILURES_KEY) or []
    if name not in names:
        cache.set(FAILURES_KEY, [*names, name], timeout=None)


def task_failures() -> dict[str, int]:
    """Failed tasks since the cache was last emptied, by task name."""
    names = cache.get(FAILURES_KEY) or []
    counts = cache.get_many([f"{FAILURES_KEY}:{name}" for name in names])
    return {name: int(counts.get(f"{FAILURES_KEY}:{name}", 0)) for name in names}


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue of the Redis broker; empty when tasks run in
    the web process (no broker)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL.startswith("redis"):
        return {}
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)
    try:
        return {name: int(client.llen(name)) for name in _queue_names()}
    finally:
        client.close()


def _queue_names() -> list[str]:
    from celery import current_app as app

    names = {queue.name for queue in app.conf.task_queues or ()}
    names.add(app.conf.task_default_queue or "celery")
    return sorted(names)


def install() -> None:
    """Connect the Celery signals (called from the app's ready(), in web and worker)."""
    from celery.signals import task_failure, worker_ready

    worker_ready.connect(start_heartbeat, weak=False, dispatch_uid="nongsan-heartbeat")
    task_failure.connect(count_failure, weak=False, dispatch_uid="nongsan-task-failures")


# --- Readiness and metrics --------------------------------------------------------------------


def readiness() -> dict[str, str]:
    """{check: "ok" or what is wrong} for /readyz: the database answers; Redis answers (when
    one is configured); a worker's heartbeat is fresh (when tasks do not run in-process)."""
    from django.db import connection

    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        import redis

        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
            try:
                client.ping()
            finally:
                client.close()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    else:
        checks["redis"] = "ok (not configured: local-memory cache)"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        checks["worker"] = "ok (tasks run in the web process)"
    else:
        try:
            age = heartbeat_age()
        except Exception as exc:
            age, checks["worker"] = None, f"error: {exc.__class__.__name__}"
        if "worker" not in checks:
            if age is None:
                checks["worker"] = "error: no worker heartbeat yet"
            elif age > settings.WORKER_HEARTBEAT_MAX_AGE:
                checks["worker"] = f"error: last heartbeat {int(age)} s ago"
            else:
                checks["worker"] = "ok"
    return checks


class CeleryCollector:
    """Prometheus figures about Celery, read at each scrape: queue lengths, failed tasks,
    the age of the worker's heartbeat."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        queues = GaugeMetricFamily(
            "nongsan_celery_queue_length", "Tasks waiting in a Celery queue", labels=["queue"]
        )
        try:
            for name, length in queue_lengths().items():
                queues.add_metric([name], length)
        except Exception:
            logging.getLogger(__name__).warning("Celery queue length not read", exc_info=True)
        yield queues
        failures = CounterMetricFamily(
            "nongsan_celery_task_failures", "Celery tasks that failed", labels=["task"]
        )
        for name, count in task_failures().items():
            failures.add_metric([name], count)
        yield failures
        age = heartbeat_age()
        heartbeat = GaugeMetricFamily(
            "nongsan_celery_worker_heartbeat_age_seconds",
            "Seconds since a Celery worker last said it is alive (-1: never)",
        )
        heartbeat.add_metric([], -1 if age is None else age)
        yield heartbeat


def metrics_text() -> tuple[bytes, str]:
    """The Prometheus exposition: django-prometheus's figures (of every gunicorn process
    when PROMETHEUS_MULTIPROC_DIR is set) followed by CeleryCollector's."""
    import os

    import prometheus_client
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        base = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        base = prometheus_client.REGISTRY
    celery = prometheus_client.CollectorRegistry(auto_describe=False)
    celery.register(CeleryCollector())
    body = prometheus_client.generate_latest(base) + prometheus_client.generate_latest(celery)
    return body, prometheus_client.CONTENT_TYPE_LATEST


def may_read_metrics(request) -> bool:
    """/metrics is for the scraper: with METRICS_TOKEN set, a request bearing it; without,
    a request from a loopback or private address (inside the compose network)."""
    import hmac

    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or any(address in network for network in INTERNAL_NETWORKS)
