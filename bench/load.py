"""The load the marketplace holds (issue 17): the compose shape started locally, without
docker, and a realistic mix of visitors (locust, bench/locustfile.py) stepped up until it
breaks, then the highest good rate held.

PostgreSQL only (run by `make bench` after the other PostgreSQL benchmarks). What runs, as
docker-compose.yml runs it:

- PostgreSQL: a fresh database BENCH_LOAD_DB (default nongsan_loadrun) on the server of
  PG_URL, migrated and loaded with the demo marketplace (seed_demo, its orders included);
  the two products buyers take get plenty of stock;
- Redis at BENCH_LOAD_REDIS (default redis://127.0.0.1:6379/13, emptied first): the cache
  every worker shares and Celery's broker;
- gunicorn with the production settings (DEBUG off, 3 sync workers as in compose, static
  files collected and served by WhiteNoise, Prometheus' multi-process directory);
- a real Celery worker (`celery -A config worker`, as compose's `worker`): every trace scan
  is a task it records.

Not as in compose: HTTP on 127.0.0.1 without the nginx proxy and without HTTPS, product
photos not fetched (nginx serves them from object storage in compose: no Django time),
files on the local disk instead of MinIO, and throttles off (every visitor comes from one
address). Locust runs on the same 2-core machine and takes part of the CPU.

The mix (locustfile.py): browse and search 80 %, trace scans 12 %, guest checkout journeys
ending with a cash-on-delivery order 5 %, signed-in farmer and staff pages 3 %; each visitor
thinks 1-4 s between two tasks. The rate is the number of such visitors at once:

1. steps: BENCH_LOAD_START visitors (default 20), then BENCH_LOAD_STEP more (default 20)
   every BENCH_LOAD_STEP_SECONDS (default 60), until a step has an error or a p95 over
   500 ms (or BENCH_LOAD_MAX visitors, default 400, is reached);
2. hold: the highest good step, for BENCH_LOAD_HOLD seconds (default 600); if that hold
   has an error or a p95 over 500 ms, one step lower is held instead (BENCH_LOAD_RETRIES
   times, default 1).

Reported: every step (visitors, requests/s, p50/p95, errors), the rate held with 0 errors
and p95 < 500 ms, the resident memory (RSS) of the gunicorn workers and of the Celery worker
at the start and at the end, and where the time goes while holding: per endpoint, the
client's p50/p95 (locust) beside the server's own p50/p95 and its share of the server's time
(gunicorn's JSON access lines, `duration_ms`: the middleware's time around the view).

End-of-run checks: the orders locust placed are the new orders in the database, the queue
the Celery worker consumes is empty, and verify_ledger's checks all pass.

BENCH_LOAD_PORT: gunicorn's port (default: a free one).
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/nongsan")
DB_NAME = os.environ.get("BENCH_LOAD_DB", "nongsan_loadrun")
REDIS_URL = os.environ.get("BENCH_LOAD_REDIS", "redis://127.0.0.1:6379/13")
START = int(os.environ.get("BENCH_LOAD_START", "20"))
STEP = int(os.environ.get("BENCH_LOAD_STEP", "20"))
STEP_SECONDS = int(os.environ.get("BENCH_LOAD_STEP_SECONDS", "60"))
MAX_USERS = int(os.environ.get("BENCH_LOAD_MAX", "400"))
HOLD = int(os.environ.get("BENCH_LOAD_HOLD", "600"))
PORT = int(os.environ.get("BENCH_LOAD_PORT", "0"))
RETRIES = int(os.environ.get("BENCH_LOAD_RETRIES", "1"))
GUNICORN_WORKERS = 3  # docker-compose.yml's web
P95_LIMIT_MS = 500
CHECKOUT_PRODUCTS = ("NS0005", "NS0009")  # as bench/checkout.py


def fresh_database() -> str:
    """Drop and create DB_NAME on PG_URL's server; its URL, or "" when no server answers."""
    import psycopg

    server = PG_URL.rsplit("/", 1)[0]
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{DB_NAME}"')
    except psycopg.OperationalError:
        return ""
    return f"{server}/{DB_NAME}"


def scenario_data() -> dict:
    """Real addresses from the database for the visitors (locustfile.py's DATA)."""
    from django.urls import reverse
    from oscar.core.loading import get_model

    from farmers.demo import ASSOCIATION_STAFF
    from marketplace.demo.base import DEMO_PASSWORD, USERS
    from marketplace.shops.models import ProducerProfile
    from marketplace.shops.selectors import province_slug
    from traceability.models import Lot
    from traceability.qr import label_path

    Product = get_model("catalogue", "Product")
    Category = get_model("catalogue", "Category")
    products = Product.objects.browsable().filter(is_public=True)
    producers = ProducerProfile.objects.all()
    provinces = sorted({p.province_code for p in producers if p.province_code})
    lots = Lot.objects.select_related("product")
    return {
        "products": [p.get_absolute_url() for p in products],
        "categories": [c.get_absolute_url() for c in Category.objects.all()],
        "provinces": [
            reverse("marketplace:province", args=[province_slug(code)]) for code in provinces
        ],
        "producers": [reverse("marketplace:producer", args=[p.slug]) for p in producers],
        "short_links": [f"/t/{lot.short_code}/" for lot in lots],
        "digital_links": [path for lot in lots if (path := label_path(lot)).startswith("/01/")],
        "checkout_products": [Product.objects.get(upc=upc).pk for upc in CHECKOUT_PRODUCTS],
        "accounts": {
            "farmer": [USERS["farmer"][0], DEMO_PASSWORD],
            "staff": [ASSOCIATION_STAFF[0], DEMO_PASSWORD],
        },
        "pages": {
            "farmer": ["/cua-hang/", "/cua-hang/san-pham/", "/lo-hang/"],
            "staff": ["/can-bo/", "/can-bo/hoi-vien/"],
        },
    }


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def memory(gunicorn_pid: int, celery_pid: int) -> dict:
    """RSS in MiB: each gunicorn worker, and the Celery worker (main process + its pool)."""
    celery = [celery_pid, *children(celery_pid)]
    return {
        "gunicorn workers": [rss_mib(p) for p in children(gunicorn_pid)],
        "gunicorn master": [rss_mib(gunicorn_pid)],
        "celery": [rss_mib(p) for p in celery],
    }


def show_memory(label: str, mem: dict) -> None:
    parts = []
    for name, values in mem.items():
        each = " + ".join(f"{v:.0f}" for v in values)
        parts.append(f"{name} {each} = {sum(values):.0f} MiB")
    print(f"RSS {label}: " + "; ".join(parts))


def run_locust(base: str, users: int, seconds: int, workdir: str, label: str, env: dict):
    """One headless locust run; its stats rows {name: row} (row "Aggregated" included)."""
    prefix = os.path.join(workdir, f"locust-{label}")
    locust = os.path.join(os.path.dirname(sys.executable), "locust")
    with open(prefix + ".log", "wb") as log:
        subprocess.run(
            [
                locust,
                "-f",
                os.path.join(HERE, "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 5)),
                "--run-time",
                f"{seconds}s",
                "--stop-timeout",
                "60",
                "--host",
                base,
                "--csv",
                prefix,
                "--json-file",
                prefix,
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--exit-code-on-error",
                "0",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    from load_mix import read_stats

    return read_stats(prefix)


def step_figures(rows: dict) -> dict:
    total = rows["Aggregated"]
    return {
        "requests": total["requests"],
        "errors": total["failures"],
        "rps": total["rps"],
        "p50": total["p50"],
        "p95": total["p95"],
    }


def server_times(log_path: str, offset: int) -> tuple[dict[str, list[float]], dict[str, str]]:
    """duration_ms of each access line written after `offset`, by endpoint name; and the
    slowest GET path of each endpoint (the one to profile)."""
    from load_mix import endpoint

    times: dict[str, list[float]] = {}
    slowest: dict[str, tuple[float, str]] = {}
    with open(log_path, "rb") as handle:
        handle.seek(offset)
        for raw in handle:
            if not raw.startswith(b"{"):
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if "duration_ms" in line and "path" in line:
                name, duration = endpoint(line["path"]), float(line["duration_ms"])
                times.setdefault(name, []).append(duration)
                if line.get("method") == "GET" and duration > slowest.get(name, (0, ""))[0]:
                    slowest[name] = (duration, line["path"])
    return times, {name: path for name, (_, path) in slowest.items()}


def profile(path: str, n: int = 20) -> None:
    """A short in-process cProfile of the endpoint taking most of the server's time (its
    slowest page while holding): Django's test client, DEBUG off, `n` requests, the
    functions with the most time of their own."""
    import cProfile
    import io
    import pstats

    from django.conf import settings
    from django.test import Client

    settings.DEBUG = False
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    try:
        client.get(path)  # templates compiled, caches filled
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            client.get(path)
        profiler.disable()
    except Exception as exc:  # a report, not a failure of the load run
        print(f"profile of {path}: {exc!r}")
        return
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt
    print(
        f"in-process cProfile of {path} ({n} requests, DEBUG off, warm): "
        f"{total / n * 1000:.0f} ms a request with the profiler; most own time:"
    )
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:12]
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in rows:
        where = filename.split("site-packages/")[-1].replace(ROOT + "/", "")
        print(
            f"  {tottime / total * 100:5.1f} %  {calls:>7} calls  cum {cumtime / n * 1000:6.1f} ms"
            f"  {function} ({where}:{line})"
        )


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def queue_length(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return client.llen("celery")
    finally:
        client.close()


def main():
    from load_mix import PLACE_ORDER

    database_url = fresh_database()
    if not database_url:
        print(f"load: no PostgreSQL server at {PG_URL}; skipped")
        return
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("MEDIA_ROOT", os.path.join(ROOT, "var", "bench_media"))
    # One key for the seeding (DEBUG) and the servers (DEBUG off): staff pages read members.
    os.environ["PERSONAL_DATA_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("LOG_LEVEL", "ERROR")  # the demo's console SMS, while seeding

    import serving  # sets up Django for this process: DATABASE_URL above

    if not serving.reachable("127.0.0.1", 6379):
        print("load: no Redis at 127.0.0.1:6379; skipped")
        return
    import redis
    from django.db import connections
    from django.db.models import F
    from oscar.core.loading import get_model

    from marketplace.finance.checks import CHECKS
    from traceability.models import Scan

    Order = get_model("order", "Order")
    StockRecord = get_model("partner", "StockRecord")

    started = time.monotonic()
    serving.seed_demo()
    data = scenario_data()
    StockRecord.objects.filter(product_id__in=data["checkout_products"]).update(
        num_in_stock=F("num_allocated") + 10**6
    )
    last_order = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    scans_before = Scan.objects.count()
    connections.close_all()
    print(f"load: demo data in {DB_NAME} ready in {time.monotonic() - started:.0f} s")

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()

    workdir, static_root = serving.collected_static("bench-load-")
    metrics_dir = os.path.join(workdir, "prometheus")
    os.makedirs(metrics_dir)
    app_env = {"REDIS_URL": REDIS_URL}
    worker_log = open(os.path.join(workdir, "celery.log"), "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel=warning",
        ],
        cwd=ROOT,
        env={**serving.production_env(static_root), **app_env},
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    server = serving.Server(
        workdir,
        static_root=static_root,
        extra_env={**app_env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
        name="load",
        workers=GUNICORN_WORKERS,
        port=PORT or None,
    )
    data_path = os.path.join(workdir, "scenario.json")
    locust_env = {**os.environ, "BENCH_LOAD_DATA": data_path, "PYTHONPATH": HERE}
    placed = 0
    steps = []
    top_path = ""
    ok = True
    try:
        server.wait_for("/")
        # Every address once (warms each worker a little; drops what does not answer 200).
        import requests

        session = requests.Session()
        session.headers["Accept-Language"] = "vi"
        for key in ("products", "categories", "provinces", "producers", "short_links"):
            good = []
            for path in data[key]:
                if session.get(server.base + path, timeout=60).status_code == 200:
                    good.append(path)
            if len(good) < len(data[key]):
                print(f"load: {len(data[key]) - len(good)} of {key} not 200, left out")
            data[key] = good
        with open(data_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        for _ in range(3 * GUNICORN_WORKERS):
            session.get(server.base + "/", timeout=60)
            session.get(server.base + "/search/?q=ca+phe", timeout=60)
        time.sleep(5)  # the Celery worker is up and idle
        mem_start = memory(server.process.pid, worker.pid)
        print(
            f"load on postgresql ({DB_NAME}): gunicorn {GUNICORN_WORKERS} sync workers, "
            f"DEBUG off, Redis {REDIS_URL}, a Celery worker; mix browse+search 80 %, "
            "trace 12 %, checkout 5 %, farmer/staff 3 %; 1-4 s think time"
        )
        print(
            f"{len(data['products'])} products, {len(data['categories'])} categories, "
            f"{len(data['short_links'])} lots ({len(data['digital_links'])} Digital Links)"
        )
        print(f"{'step':<10} {'users':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}")
        users, good = START, None
        while users <= MAX_USERS:
            rows, failures = run_locust(
                server.base, users, STEP_SECONDS, workdir, f"step-{users}", locust_env
            )
            figures = step_figures(rows)
            placed += orders_in(rows, PLACE_ORDER)
            steps.append((users, figures))
            print(
                f"{'step':<10} {users:>5} {figures['rps']:>7.1f} {figures['p50']:>7.0f} "
                f"{figures['p95']:>7.0f} {figures['errors']:>6}",
                flush=True,
            )
            if figures["errors"] or figures["p95"] >= P95_LIMIT_MS:
                for failure in failures[:5]:
                    print(f"  error: {failure['Method']} {failure['Name']}: {failure['Error']}")
                break
            good = users
            users += STEP
        if good is None:
            print(f"no rate held: {START} visitors already had errors or p95 >= 500 ms")
            ok = False
        else:
            mem_hold = memory(server.process.pid, worker.pid)
            retries = RETRIES
            while True:
                offset = os.path.getsize(server.log_path)
                rows, failures = run_locust(
                    server.base, good, HOLD, workdir, f"hold-{good}", locust_env
                )
                figures = step_figures(rows)
                placed += orders_in(rows, PLACE_ORDER)
                held = not figures["errors"] and figures["p95"] < P95_LIMIT_MS
                print(
                    f"{'hold':<10} {good:>5} {figures['rps']:>7.1f} {figures['p50']:>7.0f} "
                    f"{figures['p95']:>7.0f} {figures['errors']:>6}  ({HOLD} s)",
                    flush=True,
                )
                for failure in failures[:5]:
                    print(f"  error: {failure['Method']} {failure['Name']}: {failure['Error']}")
                if held or retries <= 0 or good - STEP < START:
                    break
                retries -= 1
                good -= STEP  # one step down, held again
            times, by_path = server_times(server.log_path, offset)
            mem_end = memory(server.process.pid, worker.pid)
            ok = ok and held
            print(
                f"HELD: {good} visitors at once, {figures['rps']:.1f} requests/s for {HOLD} s "
                f"with {figures['errors']} errors, p95 {figures['p95']:.0f} ms"
                if held
                else f"NOT HELD: {good} visitors for {HOLD} s gave {figures['errors']} errors, "
                f"p95 {figures['p95']:.0f} ms"
            )
            show_memory("at start", mem_start)
            show_memory("before hold", mem_hold)
            show_memory("at end", mem_end)
            total_ms = sum(sum(v) for v in times.values()) or 1.0
            print("where the time goes while holding (client: locust; server: access log)")
            print(
                f"{'endpoint':<28} {'reqs':>6} {'fail':>4} {'cli p50':>7} {'cli p95':>7} "
                f"{'srv p50':>7} {'srv p95':>7} {'srv time':>8}"
            )
            # By the server's time spent on each endpoint, most first.
            names = sorted(
                (n for n in rows if n != "Aggregated"),
                key=lambda n: -sum(times.get(n, [])),
            )
            for name in names:
                row = rows[name]
                srv_name = "checkout: preview" if name == PLACE_ORDER else name
                srv = times.get(srv_name, [])
                share = "" if name == PLACE_ORDER else f"{sum(srv) / total_ms * 100:.1f}%"
                print(
                    f"{name:<28} {row['requests']:>6} {row['failures']:>4} "
                    f"{row['p50']:>7.0f} {row['p95']:>7.0f} "
                    f"{pct(srv, 0.5):>7.1f} {pct(srv, 0.95):>7.1f} {share:>8}"
                )
            top = next((n for n in names if n in by_path), "")
            top_path = by_path.get(top, "")
            print(
                "(server: the middleware's time around each view, the place-order POST "
                "counted under the preview address it posts to; the rest of the client's "
                "time is queueing for a worker and the client itself)"
            )
    finally:
        server.stop()
        # Scans still queued reach the database before the worker stops.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and queue_length(REDIS_URL):
            time.sleep(1)
        left = queue_length(REDIS_URL)
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()

    orders = Order.objects.filter(pk__gt=last_order).count()
    scans = Scan.objects.count() - scans_before
    ledger = [problem for check in CHECKS for problem in check()]
    checks_ok = orders == placed and not ledger and not left
    print(
        f"check: orders placed {placed}, new orders in the database {orders}; scans recorded "
        f"by the Celery worker {scans}; tasks left in the queue {left}; verify_ledger: "
        f"{len(ledger) or 'OK'} -> {'OK' if checks_ok else 'MISMATCH'}"
    )
    for problem in ledger[:5]:
        print("ledger:", problem)
    if top_path:
        profile(top_path)
    if not (ok and checks_ok):
        print(f"logs kept in {workdir}")
        raise SystemExit(1)
    shutil.rmtree(workdir, ignore_errors=True)


def orders_in(rows: dict, name: str) -> int:
    row = rows.get(name)
    return row["requests"] - row["failures"] if row else 0


if __name__ == "__main__":
    main()
