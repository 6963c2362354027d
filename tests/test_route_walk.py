"""Every page answers malformed input with a clear answer, never a 500.

The walk enumerates every URL pattern from the resolver (the Vietnamese addresses; the
English ones are the same views behind "/en/", walked once for a sample), fills the path
parameters with values from the demo data (and an order placed for the walk), and for
each demo role that may use a route (its valid page is not a sign-in redirect, 403 or
404; a public page: anonymous, with the buyer standing for the signed-in roles):

- GETs it with each path parameter replaced by malformed values (huge, 2**63, zero,
  negative, NUL, invalid UTF-8, "²", 10,000 characters, an impossible date);
- GETs it with every query parameter the page reads (recorded while its valid page
  renders, plus `page` and `next`) set to malformed values chosen by the parameter's
  kind (numbers: "abc", 2**70, -1, "²", 10,000 digits; dates: 30/02, 9999-12-31; pages:
  -1, abc, 999999; `next`: abc, //evil, /\\evil; NUL and %ff to all at once);
- POSTs its form (the fields found in the page, and the ones the view reads from an
  empty POST) filled the same way, with the CSRF token the site issued: the clients
  enforce CSRF checks, so a POST without a real token would get 403 and prove nothing.

The first role that may use a route gets every value; the others a sample (one query,
one form, 2**70 in the path), unless NONGSAN_WALK=full. It fails on any 500 and names the
route, the role and the input. It runs as three tests, each walking every third route,
so that the suite's workers share it. Known failures fixed by other work would be listed in
KNOWN (none now: the walk never dates a farm event 31/12/9999, whose bounds other work
fixes in traceability/forms.py).
"""

import itertools
import os
import re
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils.datastructures import MultiValueDict
from django.utils.translation import override
from oscar.core.loading import get_model

ROLES = {
    "anonymous": None,
    "buyer": "nguoimua@nongsan.test",
    "farmer": "nongdan@nongsan.test",
    "association": "canbohoi@nongsan.test",
    "post_office": "buudien@nongsan.test",
    "operator": "quantri@nongsan.test",
}

HUGE = str(2**70)
LONG = "9" * 10_000

# Malformed values, by kind of parameter. Path values are put into the URL as they would
# arrive from a browser (percent-encoded where a browser would encode them).
PATH_INT = ["0", HUGE, str(2**63)]
PATH_STR = ["%00", "%ff", "%C2%B2", "-1", HUGE, "2026-02-30", "x" * 10_000]
# Query and form values by the kind of parameter its name suggests; each request gives
# every key the next value of its own list, so a page takes as many requests as its
# longest list, not one per value. NUL and invalid UTF-8 go once to all keys at once
# (they are refused before any view).
NUMBERS = ["abc", HUGE, "-1", "%C2%B2", LONG]  # %C2%B2 is "²"
DATES = ["2026-02-30", "9999-12-31", "abc"]
NEXTS = ["abc", "//evil.example", "/%5Cevil.example"]
PAGES = ["-1", "abc", "999999"]
BROKEN = ["%00", "a%ffb"]
POST_NUMBERS = ["abc", HUGE, "²", LONG]
POST_DATES = ["2026-02-30", "9999-12-31", "31/02/2026", "abc"]
POST_NEXTS = ["abc", "//evil.example", "/\\evil.example", "abc"]
DATE_KEY = re.compile(r"(date|ngay|_from|_to|^from$|^to$|month|thang)", re.I)


def values_for(key: str) -> list[str]:
    if key in ("next", "redirect_url", "return_url"):
        return NEXTS
    if key in ("page", "page_limit", "per_page"):
        return PAGES
    return DATES if DATE_KEY.search(key) else NUMBERS


def post_values_for(key: str) -> list[str]:
    if key == "next":
        return POST_NEXTS
    return POST_DATES if DATE_KEY.search(key) else POST_NUMBERS


ALWAYS_QUERY = ("page", "next")
# NONGSAN_WALK=full: every role gets every malformed value, and Django's admin is walked
# for every model (about 10 minutes); by default the first role that may use a route gets
# them all, the others a mixed sample, and the admin the project's own models.
FULL = os.environ.get("NONGSAN_WALK") == "full"
ADMIN_SAMPLE = re.compile(r"^admin/(\^|\$|$|marketplace/|farmers/|login)")

# Routes the walk does not POST to: they end the session or delete what they are shown
# (the delete confirmations of Django's admin and Oscar's dashboard take any POST).
NO_POST = re.compile(r"(logout|delete|profile-delete|setlang|set_language|stripe)")
# Routes not walked at all: Django's own static file server and the Stripe webhook
# (signed requests only; its own tests send malformed ones).
SKIP = re.compile(r"^(\^media/|stripe/webhook/)")

# What the walk knows fails, fixed by other work in progress: (pattern matching
# "METHOD url [label]", reason). Each also has its own xfail test below; the walk lists
# the ones it met without failing.
KNOWN: list[tuple[re.Pattern, str]] = []

User = get_user_model()


# --------------------------------------------------------------------- the URL patterns
def patterns(resolvers=None, prefix="", namespace=""):
    """(route text, namespaced name, pattern) of every URL pattern, recursively."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield (
                prefix + str(entry.pattern),
                (f"{namespace}{entry.name}" if entry.name else None),
                entry,
            )


def parameters(route: str) -> list[tuple[str, str]]:
    """(name, kind) of each parameter of a route: kind "int" or "str"."""
    found = []
    for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        found.append((name, "int" if conv == "int" else "str"))
    for name, body in re.findall(r"\(\?P<(\w+)>([^)]*\)?)", route):
        found.append((name, "int" if body.startswith(r"-?\d") or body.startswith(r"\d") else "str"))
    return found


# ------------------------------------------------------------------- demo data values
def demo_values(order, line):
    """Valid values for the path parameters, from the demo data: by route text first,
    then by parameter name."""
    from farmers.models import Member, MemberDocument, MemberImport
    from marketplace.models import Certificate, Parcel, ProducerProfile
    from traceability.models import LabelSheet, Lot

    Product = get_model("catalogue", "Product")
    Category = get_model("catalogue", "Category")

    def first(qs, attr="pk", default="1"):
        obj = qs.order_by("pk").first()
        return str(getattr(obj, attr)) if obj is not None else default

    farmer = User.objects.get(email=ROLES["farmer"])
    producer = ProducerProfile.objects.filter(partner__users=farmer).first() or (
        ProducerProfile.objects.order_by("pk").first()
    )
    product = Product.objects.filter(stockrecords__partner=producer.partner).order_by("pk").first()
    lot = Lot.objects.filter(producer=producer).order_by("pk").first() or Lot.objects.first()
    member = Member.objects.filter(province_code=producer.province_code).order_by("pk").first()
    parcel = Parcel.objects.filter(order=order).first()
    category = Category.objects.order_by("pk").first()
    by_route = {
        "chung-nhan/<int:pk>": first(Certificate.objects.filter(producer=producer)),
        "can-bo/chung-nhan/<int:pk>": first(Certificate.objects.all()),
        "hoi-vien/<int:pk>": str(member.pk) if member else "1",
        "giay-to/<int:document_pk>": first(MemberDocument.objects.all()),
        "nhap-hoi-vien/<int:pk>": first(MemberImport.objects.all()),
        "san-pham/<int:pk>": str(product.pk),
        "san-pham-cho-duyet/<int:pk>": str(product.pk),
        "sua/<int:product_pk>": str(product.pk),
        "don-hang/<int:pk>": str(parcel.pk) if parcel else "1",
        "buu-gui/<int:pk>": str(parcel.pk) if parcel else "1",
        "nha-san-xuat/<int:pk>": str(producer.pk),
        "lo-hang/<int:pk>": str(lot.pk) if lot else "1",
        "nhan/<int:sheet_pk>": first(LabelSheet.objects.all()),
        "gan-lo/<int:line_pk>": str(line.pk),
        "<int:line_id>": str(line.pk),
        "category/": f"{category.slug}_{category.pk}",
        "_(?P<product_pk>": str(product.pk),
        "_(?P<pk>": str(product.pk),
        "basket/add/<int:pk>": str(product.pk),
        "categories/<int:pk>": str(category.pk),
        "dashboard/catalogue/products/<int:pk>": str(product.pk),
    }
    by_name = {
        "number": order.number,
        "order_number": order.number,
        "producer_slug": producer.slug,
        "slug": producer.slug,
        "product_slug": product.slug,
        "category_slug": category.slug,
        "kind": "hoi-vien",
        "short_code": lot.short_code if lot else "X",
        "language": "en",
        "rest": "",
        "old": "1",
        "serial": "1",
        "hash": "x",
        "key": "x",
        "to_key": "x",
        "object_id": "1",
        "app_label": "farmers",
        "action": "default_for_shipping",
        "uidb64": "MQ",
        "token": "x-x",
        "email_id": "1",
    }
    province_slug = "dak-lak"
    return by_route, by_name, province_slug


def fill(route, name, params, by_route, by_name, province_slug):
    values = {}
    for param, kind in params:
        value = None
        for marker, candidate in by_route.items():
            if marker in route and (
                f"<int:{param}>" in marker or f"<{param}>" in marker or f"?P<{param}>" in marker
            ):
                value = candidate
                break
        if value is None and route.startswith("tinh/") and param == "slug":
            value = province_slug
        if value is None:
            value = by_name.get(param, "1" if kind == "int" else "x")
        values[param] = value
    return values


def build(name, route, values):
    """The URL of `route` with `values`; None when it cannot be reversed."""
    if name:
        try:
            with override("vi"):
                return reverse(name, kwargs=values)
        except NoReverseMatch:
            pass
    # Patterns without a name (or whose name another pattern shadows): substitute.
    url = route
    for param, value in values.items():
        url = re.sub(rf"<(?:\w+:)?{param}>", value, url)
        url = re.sub(rf"\(\?P<{param}>[^)]*\)?\)(\*)?", value, url)
    url = url.replace("^", "").replace("$", "")
    if re.search(r"[<>()\\]", url):
        return None
    return "/" + url


SENTINEL = "zq9sentinel9qz"


def with_param(name, route, values, param, raw):
    """The URL with `param` replaced by the raw (already encoded) malformed value."""
    url = build(
        name, route, {**values, param: SENTINEL if not values[param].isdigit() else "918273645"}
    )
    if url is None:
        return None
    marker = SENTINEL if not values[param].isdigit() else "918273645"
    if marker not in url:
        return None
    return url.replace(marker, raw, 1)


# ----------------------------------------------------------------- what a view reads
@contextmanager
def reading_keys():
    """Record the keys any view reads from request.GET / request.POST."""
    from django.http import QueryDict

    seen: set[str] = set()
    originals = {
        name: getattr(MultiValueDict, name)
        for name in ("get", "getlist", "__getitem__", "__contains__")
    }

    def recorder(original):
        def wrapped(self, key, *args, **kwargs):
            if isinstance(self, QueryDict) and isinstance(key, str):
                seen.add(key)
            return original(self, key, *args, **kwargs)

        return wrapped

    for name, original in originals.items():
        setattr(MultiValueDict, name, recorder(original))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(MultiValueDict, name, original)


FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.I)
CSRF = re.compile(r"name=\"csrfmiddlewaretoken\" value=\"([^\"]+)\"")


# ---------------------------------------------------------------------------- the walk
class Walk:
    def __init__(self, clients):
        self.clients = clients
        self.failures: list[str] = []
        self.known: list[str] = []
        self.requests = 0
        self.routes = 0

    def send(self, role, method, url, data=None, label=""):
        client = self.clients[role]
        self.requests += 1
        if method == "get":
            response = client.get(url)
        else:
            payload = dict(data or {})
            payload["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
            response = client.post(url, payload)
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            reason = f"{exc[0].__name__}: {str(exc[1])[:160]}" if exc else str(response.status_code)
            case = f"{method.upper()} {url[:160]!r} as {role} [{label[:80]}] -> {reason}"
            if any(pattern.search(case) for pattern, _why in KNOWN):
                self.known.append(case)
            else:
                self.failures.append(case)
        return response


def usable(response) -> bool:
    """Whether the role may use the route: not sent to sign in, not refused."""
    if response.status_code in (401, 403, 404, 405):
        return False
    if response.status_code in (301, 302):
        location = response.get("Location", "")
        return "login" not in location and "dang-nhap" not in location
    return True


def clients_by_role():
    clients = {}
    for role, email in ROLES.items():
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        client.get("/accounts/login/")  # the site issues its CSRF cookie with the form
        assert "csrftoken" in client.cookies, role
        if email:
            client.force_login(User.objects.get(email=email))
        clients[role] = client
    return clients


def walk_route(walk, route, name, params, values, url, admin):
    first = True
    public = False
    for role in ROLES:
        if admin and role != "operator" and not (FULL and role == "anonymous"):
            continue  # Django's admin lets only the operator in
        if public and role != "buyer" and not FULL:
            continue  # a public page: the buyer stands for every signed-in role
        with reading_keys() as keys:
            probe = walk.send(role, "get", url, label=f"{route} valid")
        posting = probe.status_code == 405
        if not usable(probe) and not posting:
            continue
        public = public or role == "anonymous"
        # The first role that may use the route gets every malformed value; the others
        # (the same view, another scope) a mixed sample, unless NONGSAN_WALK=full.
        thorough = first or FULL
        first = False
        for param, kind in params:
            for raw in PATH_INT if kind == "int" else PATH_STR:
                if not thorough and raw != HUGE:
                    continue
                bad = with_param(name, route, values, param, raw)
                if bad:
                    walk.send(role, "get", bad, label=f"{route} {param}={raw[:20]}")
        query_keys = sorted(k for k in keys if k and len(k) < 40)[:12] + list(ALWAYS_QUERY)
        query_keys = list(dict.fromkeys(query_keys))
        rounds = max(len(values_for(k)) for k in query_keys) if thorough else 1
        if admin and not FULL:
            rounds = 2  # Django's admin: its own tests cover it; a sample here
        for n in range(rounds):
            query = "&".join(
                f"{quote(k)}={values_for(k)[(n + i) % len(values_for(k))]}"
                for i, k in enumerate(query_keys)
            )
            walk.send(role, "get", f"{url}?{query}", label=f"{route} ?{query[:100]}")
        if thorough:
            for raw in BROKEN:
                query = "&".join(f"{quote(k)}={raw}" for k in query_keys)
                walk.send(role, "get", f"{url}?{query}", label=f"{route} ?all={raw}")
        if admin or NO_POST.search(route) or NO_POST.search(name or ""):
            continue
        html = ""
        if probe.status_code == 200 and not probe.streaming:
            html = probe.content.decode("utf-8", "replace")
        fields = set(FIELD.findall(html)) if 'method="post"' in html.lower() else set()
        if not fields and not posting:
            continue
        with reading_keys() as post_keys:
            walk.send(role, "post", url, {}, label=f"{route} empty form")
        fields |= {k for k in post_keys if len(k) < 40}
        fields -= {"csrfmiddlewaretoken"}
        fields.add("next")
        fields = sorted(fields)
        for n in range(4 if thorough else 1):
            data = {k: post_values_for(k)[(n + i) % 4] for i, k in enumerate(fields)}
            walk.send(role, "post", url, data, label=f"{route} POST {str(data)[:120]}")
        if thorough:
            data = dict.fromkeys(fields, "a\x00b")
            walk.send(role, "post", url, data, label=f"{route} POST NUL")


# The walk in parts (every third route), so that the suite's workers share it.
PARTS = 3


@pytest.mark.parametrize("part", range(PARTS))
def test_every_route_answers_malformed_input_without_a_500(demo, settings, part):
    settings.AXES_ENABLED = False  # the walk signs nobody in by password
    settings.RATE_LIMITS = {}  # no throttles: every malformed input must reach its view
    started, cpu_started = time.monotonic(), time.process_time()
    from tests.marketplace.orders import checkout

    buyer = Client()
    buyer.force_login(User.objects.get(email=ROLES["buyer"]))
    order = checkout(buyer, {"NS0005": 1}, method="cod")
    line = order.lines.first()
    by_route, by_name, province_slug = demo_values(order, line)
    # A pre-order window of the demo farmer with the buyer's pre-order (a deposit by VietQR).
    from tests.marketplace import preorder_world

    preorder_world.vietqr_ready()
    window = preorder_world.window(User.objects.get(email=ROLES["farmer"]))
    walker = User.objects.get(email=ROLES["buyer"])
    preorder_world.give_address(walker)
    preorder = preorder_world.preorder(window, walker, 1)
    by_route = {
        "dat-truoc/<int:pk>": str(window.pk),
        "cua-toi/<int:pk>": str(preorder.pk),
        **by_route,
    }

    walk = Walk(clients_by_role())
    seen_urls = set()
    mine = (n % PARTS == part for n in itertools.count())
    for route, name, _pattern in patterns():
        if SKIP.match(route) or route.startswith("en/"):
            continue
        admin = route.startswith("admin/")
        if admin and not FULL and not ADMIN_SAMPLE.match(route):
            continue
        params = parameters(route)
        values = fill(route, name, params, by_route, by_name, province_slug)
        url = build(name, route, values)
        if url is None or url in seen_urls:
            continue
        seen_urls.add(url)
        if not next(mine):
            continue
        walk.routes += 1
        walk_route(walk, route, name, params, values, url, admin)
    # Every demo member's staff pages (each member's history differs: imports, system
    # actions without a person, withdrawn consents).
    from farmers.models import Member

    for pk in Member.objects.values_list("pk", flat=True) if part == 1 else ():
        for page in ("member-detail", "member-history", "member-access-log"):
            url = reverse(f"farmers:{page}", args=[pk])
            walk.send("operator", "get", url, label=f"{page} of member {pk}")
    # The English addresses: the same views; a sample proves the prefix reaches them.
    english = ("/en/catalogue/?category=" + HUGE, "/en/search/?q=%00", "/en/tinh/%ff/")
    for path in english if part == 2 else ():
        walk.send("anonymous", "get", path, label="en " + path)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    print(
        f"\nroute walk, part {part + 1} of {PARTS}: {walk.routes} routes, {walk.requests} requests,"
        f" {elapsed:.1f} s ({cpu:.1f} s of CPU); known failures met: {len(walk.known)}"
    )
    for case in walk.known:
        print("  known:", case)
    assert not walk.failures, f"{len(walk.failures)} answers were 500:\n" + "\n".join(walk.failures)
