"""Where one checkout journey spends its time, repeatably: the same journey as
bench/checkout.py (one guest, COD, durian and pepper), made in-process through Django's
test client with DEBUG off, BENCH_PROFILE_JOURNEYS (default 20) times after one warm-up.
For each page: SQL queries, and CPU ms (process time, so other programs on the machine
matter less than to wall time) as median and minimum. BENCH_PROFILE=cprofile prints the
top functions of all the journeys by cumulative time; BENCH_PROFILE_SQL=1 prints the SQL
of each page of the first journey; BENCH_PROFILE_PAGE="thank you" profiles that page alone.

    DATABASE_URL=sqlite:///var/profile.sqlite3 .venv/bin/python bench/checkout_profile.py

Migrates, and seeds the demo data unless it is there already."""

import base64
import os
import secrets
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("PERSONAL_DATA_KEY", secrets.token_urlsafe(50))
os.environ.setdefault(
    "TRACE_SIGNING_KEY", base64.b64encode(secrets.token_bytes(32)).decode("ascii")
)
for name, value in {
    "ALLOWED_HOSTS": "testserver",
    "SECURE_COOKIES": "0",
    "SECURE_SSL_REDIRECT": "0",
    "RATE_LIMITS_ENABLED": "0",
    "LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "CELERY_BROKER_URL": "memory://",
}.items():
    os.environ[name] = value
os.environ.pop("REDIS_URL", None)
# Production serves hashed static file names from a manifest: collected once, kept in var/.
os.environ.setdefault("STATIC_ROOT", os.path.join(ROOT, "var", "checkout-profile-static"))
if not os.path.isfile(os.path.join(os.environ["STATIC_ROOT"], "staticfiles.json")):
    import subprocess

    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], check=True
    )

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

PAGE_PROFILER = None
if os.environ.get("BENCH_PROFILE_PAGE"):
    import cProfile

    PAGE_PROFILER = cProfile.Profile()
JOURNEYS = int(os.environ.get("BENCH_PROFILE_JOURNEYS", "20"))
PRODUCTS = ("NS0005", "NS0009")
ADDRESS = {
    "first_name": "Nguyễn Thị Hoa",
    "phone_number": "0912 345 678",
    "province": "66",
    "commune": "Ea Kao",
    "line1": "Thôn 3",
    "notes": "",
}


def journey(client, product_ids, n, record):
    client.cookies.clear()  # a new guest, served by the same handler (as one worker)
    steps = [("basket", "get", "/basket/", None)]
    steps += [
        (f"add to basket {i + 1}", "post", f"/basket/add/{pk}/", {"quantity": 1})
        for i, pk in enumerate(product_ids)
    ]
    steps += [
        (
            "gateway POST",
            "post",
            "/checkout/",
            {"username": f"p{n}@bench.test", "options": "anonymous", "password": ""},
        ),
        ("shipping address", "get", "/checkout/shipping-address/", None),
        ("shipping address POST", "post", "/checkout/shipping-address/", ADDRESS),
        # Where the address step leads (the payment page when one delivery method: the
        # steps in between only redirect, and a browser follows the Location it is given).
        ("payment details", "get", None, None),
        # The payment page confirms the order: its button posts the method with it.
        (
            "place order POST",
            "post",
            "/checkout/preview/",
            {"action": "place_order", "method": "cod"},
        ),
        ("thank you", "get", "/checkout/thank-you/", None),
    ]
    location = None
    for name, method, path, data in steps:
        path = path or location
        # The warm-up journey (n == 0) imports and compiles what the first request needs.
        profiled = n and name == os.environ.get("BENCH_PROFILE_PAGE")
        page_profiler = PAGE_PROFILER if profiled else None
        with CaptureQueriesContext(connection) as queries:
            if page_profiler:
                page_profiler.enable()
            start = time.process_time()
            call = getattr(client, method)
            response = call(path, data) if data else call(path)
            # What a WSGI server does after each response (Django's test client does not):
            # close the connection unless CONN_MAX_AGE keeps it.
            close_old_connections()
            cpu = time.process_time() - start
            if page_profiler:
                page_profiler.disable()
        if response.status_code >= 400:
            raise SystemExit(f"{name}: {response.status_code}")
        if name == "place order POST" and "thank-you" not in response.get("Location", ""):
            raise SystemExit(f"order not placed: {response.get('Location')}")
        location = response.get("Location")
        record(name, len(queries), cpu)
        if os.environ.get("BENCH_PROFILE_SQL") and n == 1:
            print(f"--- {name}: {len(queries)} queries, {len(response.content)} bytes")
            for query in queries.captured_queries:
                print("   ", query["sql"][:300])


def main():
    Product = get_model("catalogue", "Product")
    StockRecord = get_model("partner", "StockRecord")
    call_command("migrate", verbosity=0)
    if not Product.objects.filter(upc__in=PRODUCTS).exists():
        with open(os.devnull, "w") as devnull:
            call_command("seed_demo", force=True, stdout=devnull)
    product_ids = [Product.objects.get(upc=upc).pk for upc in PRODUCTS]
    StockRecord.objects.filter(product_id__in=product_ids).update(
        num_in_stock=10**6, num_allocated=0
    )
    results = {}

    def record(name, queries, cpu):
        results.setdefault(name, []).append((queries, cpu))

    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    journey(client, product_ids, 0, lambda *a: None)  # warm-up
    profiler = None
    if os.environ.get("BENCH_PROFILE") == "cprofile":
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    for n in range(1, JOURNEYS + 1):
        journey(client, product_ids, n, record)
    if profiler:
        profiler.disable()
    print(f"checkout journey in-process on {connection.vendor}, DEBUG off, {JOURNEYS} journeys")
    print(f"{'page':<24} {'queries':>8} {'CPU ms p50':>11} {'CPU ms min':>11}")
    total_q = total_ms = 0
    for name, values in results.items():
        queries = max(q for q, _ in values)
        cpu = [c * 1000 for _, c in values]
        total_q += queries
        total_ms += statistics.median(cpu)
        print(f"{name:<24} {queries:>8} {statistics.median(cpu):>11.1f} {min(cpu):>11.1f}")
    print(f"{'whole journey':<24} {total_q:>8} {total_ms:>11.1f}")
    profiler = profiler or PAGE_PROFILER
    if profiler:
        import pstats

        stats = pstats.Stats(profiler)
        if os.environ.get("BENCH_PROFILE_OUT"):
            stats.dump_stats(os.environ["BENCH_PROFILE_OUT"])  # for pstats or snakeviz
        stats.sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative"))
        stats.print_stats(int(os.environ.get("BENCH_PROFILE_TOP", "60")))
    assert settings.DEBUG is False


if __name__ == "__main__":
    main()
