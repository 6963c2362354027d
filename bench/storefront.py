"""Storefront pages: SQL queries per page and server-side latency, with the demo data.

Run by `make bench` against a fresh database named by DATABASE_URL (migrated and seeded
here). Prints one line per page: queries, p50 and p95 over N requests (in-process test
client, so network and browser time are excluded).
"""

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

N = int(os.environ.get("BENCH_REQUESTS", "30"))


def main():
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False  # no debug toolbar-like overhead in timings
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", force=True, stdout=devnull)
    Product = get_model("catalogue", "Product")
    Category = get_model("catalogue", "Category")
    pages = {
        "catalogue": "/catalogue/",
        "category": Category.objects.get(name="Cà phê").get_absolute_url(),
        "product": Product.objects.get(upc="NS0001").get_absolute_url(),
        "search": "/search/?q=ca+phe",
        "basket": "/basket/",
    }
    client = Client()
    vendor = connection.vendor
    print(f"storefront on {vendor}, {Product.objects.count()} products, {N} requests a page")
    print(f"{'page':<10} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, url in pages.items():
        client.get(url)  # warm caches (templates, thumbnails)
        reset_queries()  # the log is a bounded deque, filled by migrate and seeding
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        query_count = len(queries)  # read now: later requests reset the log it views
        timings = []
        for _ in range(N):
            start = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
        print(f"{name:<10} {query_count:>7} {statistics.median(timings):>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    main()
