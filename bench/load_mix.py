"""The mix of bench/load.py, shared by its locustfile (which imports locust, and with it
gevent's patches) and by load.py itself (which must not): the share of each kind of visitor,
and the name of each endpoint, by which locust's statistics and the server's access log are
both grouped."""

import re

# Share of visitors (locust's `weight` of each user class of locustfile.py), in %.
WEIGHTS = {"Browser": 80, "Scanner": 12, "Buyer": 5, "Worker": 3}

# The request that places an order (its count, less its failures, is the orders placed).
PLACE_ORDER = "checkout: place order"

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
