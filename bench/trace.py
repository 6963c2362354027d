"""Trace page under gunicorn: requests per second warm and cold, beside a static file.

Run by `make bench` (scripts/bench.sh) with DATABASE_URL and MEDIA_ROOT set: migrates and
seeds the demo data, then serves the app with gunicorn (2 sync workers, DEBUG off, a
generated SECRET_KEY) and measures, with a fixed number of requests from a few client
threads (http.client, one connection a request, as a phone scanning a label opens one):

(a) the demo lot's trace page (/t/{CODE}/) with the cache warm;
(b) the same page cold: a second gunicorn whose cache is Django's DummyCache, so every
    request misses every layer (lot mapping, chain head, rendered page) and runs the
    whole cold path, queries and rendering included;
(c) a static file of exactly the page's size, served by WhiteNoise in the same gunicorn
    as (a) (written to a throw-away STATIC_ROOT, removed afterwards);
(d) when Redis answers at 127.0.0.1:6379: (a) again as in production, REDIS_URL (database
    14) as the cache shared by the workers and as the Celery broker;
(e) (a) again with Celery tasks run eagerly (the embedded default of `make run`): every
    page view then INSERTs its scan record inside the request.

Every page view is a scan (traceability.scans): in production it is handed to the Celery
broker and the request makes no SQL query. (a)-(c) do the same with Celery's in-memory
broker (CELERY_TASK_ALWAYS_EAGER=0, CELERY_BROKER_URL=memory://), so they measure the page
and not the broker; (d) pays the real Redis round trips, (e) the embedded default's INSERT.

The default cache (no REDIS_URL) is LocMemCache: per worker process, so each worker
warms its own copy. Query counts cold and warm are measured in-process with
CaptureQueriesContext against the same view, with tasks sent to the broker (and, in
brackets, with eager tasks). The client runs on the same machine as gunicorn and competes
with it for the CPUs, which lowers all figures alike.

(a), (b) and (c) are measured side by side: both servers run at once, and the requests go
in BENCH_TRACE_ROUNDS rounds of a batch of each (their order turned every round), so that
what else the machine does meanwhile weighs on the three alike; each figure is its
requests over the time its batches took. Measured one after the other, a change in the
machine's load between two measurements (other processes, CPU frequency) moved the ratios
by a third on a busy machine. Beside requests/s, the CPU the gunicorn workers spent a
request (their user + system time from /proc, Linux only): repeatable where the wall
clock is not.

Targets (issue 19): warm at least 1.0x the static file, cold at least 0.25x warm with at
most 4 queries; wall-clock figures move with the machine's load, so take the median of
several runs (bench/middleware.py measures the CPU of each in-process, repeatably).

Environment: BENCH_TRACE_REQUESTS (default 1000), BENCH_TRACE_THREADS (default 8),
BENCH_TRACE_ROUNDS (default 10), BENCH_TRACE_REDIS_URL (default redis database 14, for (d)),
BENCH_PORTS (serving.free_port: a range such as 8400-8499 for the servers).
"""

import os
import shutil
import tempfile
import threading
import time

import serving  # sets up Django (bench/serving.py: the app served as in production)
from django.core.cache import cache
from django.db import connection, connections, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from serving import MEMORY_BROKER, Server, get, reachable

N = int(os.environ.get("BENCH_TRACE_REQUESTS", "1000"))
THREADS = int(os.environ.get("BENCH_TRACE_THREADS", "8"))
ROUNDS = max(1, int(os.environ.get("BENCH_TRACE_ROUNDS", "10")))
WORKERS = 2
REDIS_URL = os.environ.get("BENCH_TRACE_REDIS_URL", "redis://127.0.0.1:6379/14")
LOT_CODE = serving.DEMO_LOT_CODE

COLD_SETTINGS = '''"""bench/trace.py only: the app's settings with a cache that never hits."""
from config.settings import *  # noqa: F403

CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
'''


def load(port: int, path: str, n: int, threads: int) -> tuple[float, int]:
    """Send `n` GETs from `threads` threads; return (requests per second, failures)."""
    elapsed, failures = timed_load(port, path, n, threads)
    return n / elapsed, failures


def worker_cpu(server) -> float:
    """CPU seconds (user + system) the server's gunicorn workers have spent so far (Linux:
    /proc; 0 elsewhere). Workers started again by a reload count from their start."""
    total = 0.0
    master = str(server.process.pid)
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0.0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == master:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def interleaved(measures, n: int, threads: int, rounds: int) -> list:
    """`measures`: (name, server, path). Each gets `n` requests, sent in `rounds` batches
    that alternate with the others' (the order turned every round), so that the machine's
    load while they run weighs on all alike. Returns (name, requests/s, failures, CPU µs
    of the server's workers a request) for each."""
    totals = {name: [0.0, 0, 0.0] for name, _server, _path in measures}
    batch = max(1, n // rounds)
    for round_ in range(rounds):
        order = measures[round_ % len(measures) :] + measures[: round_ % len(measures)]
        for name, server, path in order:
            cpu = worker_cpu(server)
            elapsed, failures = timed_load(server.port, path, batch, threads)
            totals[name][0] += elapsed
            totals[name][1] += failures
            totals[name][2] += worker_cpu(server) - cpu
    return [
        (name, batch * rounds / elapsed, failures, cpu / (batch * rounds) * 1e6)
        for name, (elapsed, failures, cpu) in totals.items()
    ]


def timed_load(port: int, path: str, n: int, threads: int) -> tuple[float, int]:
    """Send `n` GETs from `threads` threads; return (seconds taken, failures)."""
    lock = threading.Lock()
    remaining = [n]
    failures = [0]

    def worker():
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            try:
                status, _body = get(port, path)
            except OSError:
                status = 0
            if status != 200:
                with lock:
                    failures[0] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start, failures[0]


def query_counts(path: str, *, eager: bool) -> tuple[int, int]:
    from config.celery import app

    app.conf.task_always_eager = eager
    app.conf.broker_url = "memory://"
    client = Client()
    cache.clear()
    reset_queries()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(path).status_code == 200
    cold_count = len(cold)
    with CaptureQueriesContext(connection) as warm:
        assert client.get(path).status_code == 200
    return cold_count, len(warm)


def _drop_queued_scans():
    """(d) queued one scan message per request in Redis database 14 (no worker runs
    here): remove that queue, and only it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete("celery")
    client.close()


def main():
    from traceability.models import Lot

    serving.seed_demo()
    lot = Lot.objects.get(code=LOT_CODE)
    path = f"/t/{lot.short_code}/"
    cold_queries, warm_queries = query_counts(path, eager=False)
    cold_eager, warm_eager = query_counts(path, eager=True)
    vendor = connection.vendor
    connections.close_all()

    os.makedirs(os.path.join(serving.ROOT, "var"), exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="bench-trace-", dir=os.path.join(serving.ROOT, "var"))
    static_root = os.path.join(workdir, "static")
    os.makedirs(static_root)
    with open(os.path.join(workdir, "bench_trace_settings.py"), "w") as f:
        f.write(COLD_SETTINGS)
    servers = []
    rows = []
    try:
        warm = Server(workdir, static_root=static_root, extra_env=MEMORY_BROKER, name="warm")
        servers.append(warm)
        page = warm.wait_for(path)
        # A static file of exactly the page's size, then new workers that list it.
        static_name = "bench-trace.html"
        with open(os.path.join(static_root, static_name), "wb") as f:
            f.write(b"<!doctype html>" + b"x" * (len(page) - 15))
        warm.reload()
        static = warm.wait_for(f"/static/{static_name}")
        assert len(static) == len(page), (len(static), len(page))

        for _ in range(50 * WORKERS):  # every worker's own LocMemCache
            get(warm.port, path)

        cold = Server(
            workdir,
            static_root=static_root,
            extra_env={
                **MEMORY_BROKER,
                "DJANGO_SETTINGS_MODULE": "bench_trace_settings",
                "PYTHONPATH": os.pathsep.join([workdir, serving.ROOT]),
            },
            name="cold",
        )
        servers.append(cold)
        cold.wait_for(path)
        for _ in range(5 * WORKERS):  # every worker's connection and prepared reads
            get(cold.port, path)
        measured = interleaved(
            [
                ("(a) trace page, warm", warm, path),
                ("(b) trace page, cold", cold, path),
                ("(c) static file, same size", warm, f"/static/{static_name}"),
            ],
            N,
            THREADS,
            ROUNDS,
        )
        rows.extend((name, rps, failures) for name, rps, failures, _cpu in measured)
        server_cpu = {name[:3]: cpu for name, _rps, _failures, cpu in measured}
        warm.stop()
        cold.stop()

        if reachable("127.0.0.1", 6379):
            redis = Server(
                workdir, static_root=static_root, extra_env={"REDIS_URL": REDIS_URL}, name="redis"
            )
            servers.append(redis)
            redis.wait_for(path)
            for _ in range(20):
                get(redis.port, path)
            rows.append(("(d) trace page, warm, Redis", *load(redis.port, path, N, THREADS)))
            redis.stop()
            _drop_queued_scans()

        eager = Server(
            workdir,
            static_root=static_root,
            extra_env={"CELERY_TASK_ALWAYS_EAGER": "1"},
            name="eager",
        )
        servers.append(eager)
        eager.wait_for(path)
        for _ in range(20):
            get(eager.port, path)
        rows.append(("(e) trace page, warm, eager", *load(eager.port, path, N, THREADS)))
        eager.stop()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rps = {name[:3]: value for name, value, _failures in rows}
    print(
        f"trace page under gunicorn ({WORKERS} sync workers, DEBUG off) on {vendor}: "
        f"lot {LOT_CODE} {path}, {N} requests x {THREADS} client threads each"
    )
    print(f"page {len(page):,} bytes; static file {len(static):,} bytes (WhiteNoise)")
    print(
        f"queries (in-process, CaptureQueriesContext): cold {cold_queries} (budget 4), "
        f"warm {warm_queries} (budget 0); with eager tasks cold {cold_eager}, "
        f"warm {warm_eager} (+1: the scan's INSERT)"
    )
    print(
        "cache: (a)(c)(e) LocMemCache, one per worker; (b) DummyCache, every layer misses; "
        f"(d) Redis {REDIS_URL}" + ("" if "(d)" in rps else " (not reachable: skipped)")
    )
    print(f"(a)(b)(c) side by side: {ROUNDS} rounds of a batch of each, order turned every round")
    print(f"{'what':<30} {'req/s':>9} {'failed':>7} {'server CPU µs/request':>22}")
    for name, value, failures in rows:
        cpu = server_cpu.get(name[:3])
        cpu_text = f"{cpu:>22.0f}" if cpu else f"{'':>22}"
        print(f"{name:<30} {value:>9.1f} {failures:>7} {cpu_text}")
    ratio = rps["(a)"] / rps["(c)"]
    print(
        f"warm/static ratio {ratio:.2f} (target >= 1.0){'' if ratio >= 1.0 else '  BELOW TARGET'}"
    )
    cold_ratio = rps["(b)"] / rps["(a)"]
    print(
        f"cold/warm ratio {cold_ratio:.2f} (target >= 0.25, cold at most 4 queries)"
        f"{'' if cold_ratio >= 0.25 and cold_queries <= 4 else '  BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
