"""The mix of bench/load.py, shared by its locustfile (which imports locust, and with it
gevent's patches) and by load.py itself (which must not): the share of each kind of visitor,
and the name of each endpoint, by which locust's statistics and the server's access log are
both grouped."""

import csv
import json
import os
import re

# Share of visitors (locust's `weight` of each user class of locustfile.py), in %.
WEIGHTS = {"Browser": 80, "Scanner": 12, "Buyer": 5, "Worker": 3}

# The request that places an order (its count, less its failures, is the orders placed).
PLACE_ORDER = "checkout: place order"

# The delivery address a guest buyer types (bench/checkout.py and the load's buyers).
ADDRESS = {
    "first_name": "Nguyễn Thị Hoa",
    "phone_number": "0912 345 678",
    "province": "66",  # Đắk Lắk
    "commune": "Ea Kao",
    "line1": "Thôn 3",
    "notes": "",
}

# Endpoint names: (name, regular expression of the path). The first that matches names it.
ENDPOINT = (
    ("home", r"^/$"),
    ("catalogue", r"^/catalogue/$"),
    ("category", r"^/catalogue/category/"),
    ("product", r"^/catalogue/[^/]+_\d+/$"),
    ("search", r"^/search/"),
    ("province", r"^/tinh/"),
    ("producer", r"^/nha-san-xuat/"),
    ("trace: short link", r"^/t/"),
    ("trace: digital link", r"^/01/"),
    ("basket", r"^/basket/$"),
    ("basket: add", r"^/basket/add/"),
    ("checkout: guest", r"^/checkout/$"),
    ("checkout: shipping address", r"^/checkout/shipping-address/"),
    ("checkout: shipping method", r"^/checkout/shipping-method/"),
    ("checkout: payment method", r"^/checkout/payment-method/"),
    ("checkout: payment details", r"^/checkout/payment-details/"),
    ("checkout: preview", r"^/checkout/preview/"),
    ("checkout: thank you", r"^/checkout/thank-you/"),
    ("sign-in", r"^/accounts/login/"),
    ("farmer: shop", r"^/cua-hang/$"),
    ("farmer: products", r"^/cua-hang/san-pham/"),
    ("farmer: lots", r"^/lo-hang/"),
    ("staff: home", r"^/can-bo/$"),
    ("staff: members", r"^/can-bo/hoi-vien/"),
)
_ENDPOINT = [(name, re.compile(pattern)) for name, pattern in ENDPOINT]


def endpoint(path: str) -> str:
    """The endpoint name of a path (without its query), or "other"."""
    for name, pattern in _ENDPOINT:
        if pattern.search(path):
            return name
    return "other"


def _percentile(histogram: dict[int, int], q: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= q * total:
            return float(value)
    return float(max(histogram))


def read_stats(prefix: str) -> tuple[dict[str, dict], list[dict]]:
    """A locust run's final statistics (written with `--json-file PREFIX --csv PREFIX`):
    {endpoint name or "Aggregated": {requests, failures, p50, p95 (ms), rps}}, the methods of
    one name together, and its failures (method, name, error, occurrences). The JSON file is
    written once every user has stopped; locust's CSV statistics, written every second, can
    miss the last requests."""
    with open(prefix + ".json", encoding="utf-8") as handle:
        entries = json.load(handle)
    merged: dict[str, dict] = {}
    for entry in entries:
        for name in (entry["name"], "Aggregated"):
            row = merged.setdefault(
                name, {"requests": 0, "failures": 0, "histogram": {}, "start": [], "end": []}
            )
            row["requests"] += entry["num_requests"]
            row["failures"] += entry["num_failures"]
            for value, count in entry["response_times"].items():
                row["histogram"][int(value)] = row["histogram"].get(int(value), 0) + count
            row["start"].append(entry["start_time"])
            if entry["last_request_timestamp"]:
                row["end"].append(entry["last_request_timestamp"])
    stats = {}
    for name, row in merged.items():
        elapsed = (max(row["end"]) - min(row["start"])) if row["end"] else 0
        stats[name] = {
            "requests": row["requests"],
            "failures": row["failures"],
            "p50": _percentile(row["histogram"], 0.50),
            "p95": _percentile(row["histogram"], 0.95),
            "rps": row["requests"] / elapsed if elapsed > 0 else 0.0,
        }
    failures = []
    if os.path.exists(prefix + "_failures.csv"):
        with open(prefix + "_failures.csv", encoding="utf-8") as handle:
            failures = list(csv.DictReader(handle))
    return stats, failures
