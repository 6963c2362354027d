"""Checkout under gunicorn: orders placed per second by 10 concurrent buyers, and the
latency of each checkout page.

Run by `make bench` (scripts/bench.sh) with DATABASE_URL and MEDIA_ROOT set: migrates and
seeds the demo data, gives the two products every buyer takes plenty of stock, collects
the static files, and serves the app with gunicorn (DEBUG off, 4 sync workers: a worker
waiting on a stock-record lock is not using a CPU). Then BENCH_BUYERS (default 10) client
threads, each a guest with its own session, place BENCH_ORDERS (default 100) orders in
all, each one the whole journey a buyer makes:

    add durian (Krông Pắc, Đắk Lắk) and pepper (Chư Sê, Gia Lai) to the basket,
    guest gateway, shipping address form (GET, POST), whatever it redirects to (the
    payment page when there is one delivery method), the payment page (GET: it shows the
    order and confirms it), place order (POST "cash on delivery"), thank-you page.

Every buyer takes the same two products, so every placement locks the same two stock
records (SELECT … FOR UPDATE in marketplace.payments.orders): the worst case for contention. The
figure reported is orders per second over the wall time of all journeys, with p50/p95 of
each page as the client sees it (the client threads run on the same machine and compete
with gunicorn for the CPUs). At the end the orders, the parcels (two per order) and the
stock allocated are checked against what the buyers placed, and verify_ledger's checks
(marketplace.finance.checks) must all pass.
"""

import os
import shutil
import statistics
import sys
import threading
import time

import requests  # noqa: E402
import serving  # noqa: E402 - sets up Django; the app served as in production
from django.db import connection, connections  # noqa: E402
from django.db.models import F  # noqa: E402
from load_mix import ADDRESS  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

BUYERS = int(os.environ.get("BENCH_BUYERS", "10"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "100"))
WORKERS = 4
PRODUCTS = ("NS0005", "NS0009")
PAGES = (
    "shipping address",
    "shipping address POST",
    "payment details",
    "place order POST",
    "thank you",
)


class Buyer:
    def __init__(self, base: str, product_ids: dict):
        self.base = base
        self.product_ids = product_ids
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = "vi"
        self.timings = {page: [] for page in PAGES}
        self.requests = 0

    def _token(self) -> str:
        return self.session.cookies.get("csrftoken", "")

    def _call(self, page, method, path, data=None, expect=(200, 302)):
        self.requests += 1
        start = time.perf_counter()
        if method == "GET":
            response = self.session.get(self.base + path, allow_redirects=False, timeout=60)
        else:
            data = {**(data or {}), "csrfmiddlewaretoken": self._token()}
            response = self.session.post(
                self.base + path, data=data, allow_redirects=False, timeout=60
            )
        if page:
            self.timings[page].append(time.perf_counter() - start)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {response.status_code}")
        return response

    def place_order(self, n: int) -> None:
        self.session.cookies.clear()
        self._call(None, "GET", "/basket/")  # the CSRF cookie
        for product_id in self.product_ids.values():
            self._call(None, "POST", f"/basket/add/{product_id}/", {"quantity": 1})
        self._call(
            None,
            "POST",
            "/checkout/",
            {"username": f"buyer{n}@bench.test", "options": "anonymous", "password": ""},
        )
        self._call("shipping address", "GET", "/checkout/shipping-address/", expect=(200,))
        response = self._call(
            "shipping address POST", "POST", "/checkout/shipping-address/", ADDRESS, expect=(302,)
        )
        # As a browser: follow where the address step leads (straight to the payment page
        # when one delivery method; any step in between is followed and counted).
        location = response.headers["Location"]
        while location != "/checkout/payment-details/":
            location = self._call(None, "GET", location, expect=(302,)).headers["Location"]
        self._call("payment details", "GET", location, expect=(200,))
        response = self._call(
            "place order POST",
            "POST",
            "/checkout/preview/",
            {"action": "place_order", "method": "cod"},
            expect=(302,),
        )
        if "thank-you" not in response.headers.get("Location", ""):
            raise RuntimeError(
                f"order not placed: redirected to {response.headers.get('Location')}"
            )
        self._call("thank you", "GET", "/checkout/thank-you/", expect=(200,))


def server_cpu(server) -> float:
    """CPU seconds (user and system) gunicorn's master and workers have used so far."""
    import psutil

    total = 0.0
    master = psutil.Process(server.process.pid)
    for process in [master, *master.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def database_cpu() -> float:
    """CPU seconds PostgreSQL's processes on this machine have used so far (0 when none
    can be read: SQLite works inside the workers)."""
    import psutil

    total = 0.0
    for process in psutil.process_iter(["name"]):
        if process.info["name"] not in ("postgres", "postmaster"):
            continue
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += times.user + times.system
    return total


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main():
    Product = get_model("catalogue", "Product")
    StockRecord = get_model("partner", "StockRecord")
    Order = get_model("order", "Order")
    from marketplace.finance.checks import CHECKS
    from marketplace.models import Parcel

    serving.seed_demo()
    product_ids = {upc: Product.objects.get(upc=upc).pk for upc in PRODUCTS}
    # Plenty of stock; what the demo's open orders hold stays reserved (verify_ledger).
    StockRecord.objects.filter(product_id__in=product_ids.values()).update(
        num_in_stock=F("num_allocated") + 10**6
    )
    allocated_before = sum(
        StockRecord.objects.filter(product_id__in=product_ids.values()).values_list(
            "num_allocated", flat=True
        )
    )
    last_pk = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    vendor = connection.vendor
    connections.close_all()

    workdir, static_root = serving.collected_static("bench-checkout-")
    server = serving.Server(
        workdir,
        static_root=static_root,
        extra_env=serving.MEMORY_BROKER,
        name="checkout",
        workers=WORKERS,
    )
    errors = []
    try:
        server.wait_for("/basket/")
        base = f"http://127.0.0.1:{server.port}"
        Buyer(base, product_ids).place_order(0)  # warm every worker's templates
        for _ in range(8):
            requests.get(base + "/checkout/shipping-address/", timeout=30)

        buyers = [Buyer(base, product_ids) for _ in range(BUYERS)]
        lock = threading.Lock()
        counter = [0]

        def run(buyer):
            while True:
                with lock:
                    if counter[0] >= ORDERS:
                        return
                    counter[0] += 1
                    n = counter[0]
                try:
                    buyer.place_order(n)
                except Exception as exc:  # reported, and fails the bench below
                    with lock:
                        errors.append(str(exc))

        threads = [threading.Thread(target=run, args=(b,)) for b in buyers]
        server_start, database_start = server_cpu(server), database_cpu()
        start, client_start = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_start  # this process: the buyers' threads
        server_used = server_cpu(server) - server_start
        database_used = database_cpu() - database_start
    finally:
        server.stop()
        if errors:
            with open(server.log_path, "rb") as log:
                sys.stderr.write(log.read().decode("utf-8", "replace")[-4000:])
        shutil.rmtree(workdir, ignore_errors=True)

    placed = Order.objects.filter(pk__gt=last_pk).count() - 1  # minus the warm-up order
    parcels = Parcel.objects.filter(order__pk__gt=last_pk).count()
    allocated = (
        sum(
            StockRecord.objects.filter(product_id__in=product_ids.values()).values_list(
                "num_allocated", flat=True
            )
        )
        - allocated_before
    )
    ledger = [problem for check in CHECKS for problem in check()]
    per_journey = sum(b.requests for b in buyers) / max(
        1, sum(1 for b in buyers for _ in b.timings["thank you"])
    )
    print(
        f"checkout under gunicorn ({WORKERS} sync workers, DEBUG off) on {vendor}: "
        f"{BUYERS} concurrent guest buyers, {ORDERS} orders of 2 products from 2 producers, "
        "cash on delivery"
    )
    print(
        f"orders placed: {placed} in {elapsed:.1f} s -> {placed / elapsed:.1f} orders/s "
        f"(whole journeys of {per_journey:.0f} requests each); errors: {len(errors)}"
    )
    print(
        f"client CPU (the buyers' threads, same machine): {client_cpu * 1000 / max(1, placed):.1f}"
        f" ms a journey; server CPU (gunicorn's workers): {server_used * 1000 / max(1, placed):.1f}"
        " ms a journey"
        + (
            f"; PostgreSQL's processes: {database_used * 1000 / max(1, placed):.1f} ms a journey"
            if vendor == "postgresql"
            else ""
        )
    )
    print(f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8}")
    merged = {page: [t for b in buyers for t in b.timings[page]] for page in PAGES}
    for page in PAGES:
        values = merged[page]
        print(
            f"{page:<24} {statistics.median(values) * 1000:>8.1f} "
            f"{percentile(values, 0.95) * 1000:>8.1f}"
        )
    ok = placed == ORDERS and not errors
    ok = ok and parcels == 2 * (placed + 1) and allocated == 2 * (placed + 1) and not ledger
    print(
        f"check: {placed} orders, {parcels} parcels (2 an order), {allocated} units allocated, "
        f"verify_ledger: {len(ledger) or 'OK'} -> {'OK' if ok else 'MISMATCH'}"
    )
    for error in errors[:5]:
        print("error:", error)
    for problem in ledger[:5]:
        print("ledger:", problem)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
