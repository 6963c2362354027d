"""The visitors of bench/load.py (locust): who comes to the marketplace, in what share, and
what each does. Run by load.py as `locust -f bench/locustfile.py`, with BENCH_LOAD_DATA the
path of a JSON file of real addresses from the database under test (load.py's
`scenario_data`): product, category, province and producer pages, lot codes and their GS1
Digital Links, the two products a buyer takes, the farmer's and the staff member's sign-in.

The mix (locust user classes, `weight`: the share of visitors):

- Browser, 80 %: home, catalogue, category, product, province and producer pages, and
  searches (with and without diacritics, some with a facet);
- Scanner, 12 %: a phone scanning a label: the short link /t/CODE/ or the Digital Link;
- Buyer, 5 %: a guest's whole checkout journey, ending with a cash-on-delivery order placed
  (the same requests as bench/checkout.py);
- Worker, 3 %: a signed-in farmer (shop, products, lots) or association staff member
  (staff home, members).

Every request is named by what it is (bench/load_mix.py, also used by load.py to group the
server's access log), so the statistics are per endpoint, not per URL. A request fails when
its status is not the one that page answers with, and a journey stops at its first failure.
"""

import itertools
import json
import os
import random
import uuid

from load_mix import ADDRESS, PLACE_ORDER, WEIGHTS, endpoint
from locust import HttpUser, between, task

# Think time between two tasks of one visitor, in seconds (the test shortens it).
WAIT = between(*(float(s) for s in os.environ.get("BENCH_LOAD_THINK", "1,4").split(",")))

SEARCHES = (
    "cà phê",
    "ca phe",
    "sầu riêng",
    "sau rieng",
    "hồ tiêu",
    "tieu",
    "mật ong",
    "gạo ST25",
    "chè Tân Cương",
    "sâm",
    "bơ",
    "mắc ca",
)
# Facets a shopper narrows a search with (province, certificate, stock, order).
FACETS = (
    {"province": "66"},
    {"province": "52", "sort": "price-asc"},
    {"cert": "ocop"},
    {"in_stock": "1"},
)


def _data() -> dict:
    path = os.environ.get("BENCH_LOAD_DATA")
    if not path:
        raise SystemExit("BENCH_LOAD_DATA: the scenario's JSON file (bench/load.py writes it)")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


DATA = _data()


class Visitor(HttpUser):
    abstract = True
    wait_time = WAIT

    def on_start(self):
        self.client.headers["Accept-Language"] = "vi"

    def call(self, method, path, *, name=None, data=None, expect=(200,), check=None):
        """One request; a failure unless its status is in `expect` (redirects are not
        followed) and `check(response)` is true. Returns the response, or None on failure."""
        name = name or endpoint(path.split("?")[0])
        kwargs = {"allow_redirects": False, "name": name, "catch_response": True}
        if method == "POST":
            data = {**(data or {}), "csrfmiddlewaretoken": self.client.cookies.get("csrftoken")}
            kwargs["data"] = data
        with self.client.request(method, path, **kwargs) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code}, expected {expect}")
                return None
            if check is not None and not check(response):
                response.failure(f"unexpected answer ({response.headers.get('Location', '')})")
                return None
            response.success()
            return response


class Browser(Visitor):
    """Someone shopping around: pages of the storefront and searches."""

    weight = WEIGHTS["Browser"]

    @task(2)
    def home(self):
        self.call("GET", "/")

    @task(2)
    def catalogue(self):
        self.call("GET", "/catalogue/")

    @task(3)
    def category(self):
        self.call("GET", random.choice(DATA["categories"]))

    @task(6)
    def product(self):
        self.call("GET", random.choice(DATA["products"]))

    @task(4)
    def search(self):
        query = {"q": random.choice(SEARCHES)}
        if random.random() < 0.3:
            query.update(random.choice(FACETS))
        with self.client.get(
            "/search/", params=query, name="search", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")

    @task(1)
    def province(self):
        self.call("GET", random.choice(DATA["provinces"]))

    @task(1)
    def producer(self):
        self.call("GET", random.choice(DATA["producers"]))


class Scanner(Visitor):
    """A phone that has just scanned a label: one trace page, by either link printed."""

    weight = WEIGHTS["Scanner"]

    @task
    def short_link(self):
        self.call("GET", random.choice(DATA["short_links"]))

    @task
    def digital_link(self):
        self.call("GET", random.choice(DATA["digital_links"]), expect=(200, 302, 303, 307))


class Buyer(Visitor):
    """A guest who buys: two products into the basket, then the whole checkout, paying cash
    on delivery. Each journey is a new guest (its own session, its own e-mail)."""

    weight = WEIGHTS["Buyer"]

    @task
    def journey(self):
        self.client.cookies.clear()
        if not self.call("GET", "/basket/"):  # the CSRF cookie
            return
        for product_id in DATA["checkout_products"]:
            if not self.call(
                "POST", f"/basket/add/{product_id}/", data={"quantity": 1}, expect=(302,)
            ):
                return
        email = f"khach-{uuid.uuid4().hex[:12]}@bench.test"
        steps = (
            (
                "POST",
                "/checkout/",
                {"username": email, "options": "anonymous", "password": ""},
                (302,),
            ),
            ("GET", "/checkout/shipping-address/", None, (200,)),
            # One delivery method: the address step leads straight to the payment page.
            ("POST", "/checkout/shipping-address/", ADDRESS, (302,)),
            ("GET", "/checkout/payment-details/", None, (200,)),
        )
        for method, path, data, expect in steps:
            if not self.call(method, path, data=data, expect=expect):
                return
        placed = self.call(
            "POST",
            "/checkout/preview/",
            name=PLACE_ORDER,
            data={"action": "place_order", "method": "cod"},
            expect=(302,),
            check=lambda r: "thank-you" in r.headers.get("Location", ""),
        )
        if placed:
            self.call("GET", "/checkout/thank-you/")


# BENCH_LOAD_ROLE=farmer or staff: every worker signs in as that one (the test).
_ROLES = itertools.cycle(
    (os.environ["BENCH_LOAD_ROLE"],) if os.environ.get("BENCH_LOAD_ROLE") else ("farmer", "staff")
)


class Worker(Visitor):
    """A farmer or an association staff member at work, signed in (the two alternate)."""

    weight = WEIGHTS["Worker"]

    def on_start(self):
        super().on_start()
        self.role = next(_ROLES)
        login, password = DATA["accounts"][self.role]
        self.call("GET", "/accounts/login/")
        self.signed_in = bool(
            self.call(
                "POST",
                "/accounts/login/",
                data={"login-username": login, "login-password": password, "login_submit": "1"},
                expect=(302,),
            )
        )

    @task
    def page(self):
        if self.signed_in:
            self.call("GET", random.choice(DATA["pages"][self.role]))
