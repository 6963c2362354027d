"""Search at scale: a generated catalogue (BENCH_PRODUCTS, default 50,000) on the database
named by DATABASE_URL, then 20 diverse searches (with and without diacritics, with
facets), each repeated BENCH_REPEAT times.

Reports, per search and overall, p50 and p95 of:
  - query:   the search query itself (matching, ranking, count and one page of rows);
  - listing: the whole listing (the above plus every facet count);
  - page:    the full HTML page through Django (in-process, no network), with its SQL count;
  - kept:    the same page asked again at once, its listing's counts kept
             (marketplace.search.listing.catalogue_changed is called before every other
             measure, so query, listing and page read the catalogue every time).
"""

import os
import random
import statistics
import sys
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from oscar.apps.catalogue.categories import create_from_breadcrumbs  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402
from oscar.core.utils import slugify  # noqa: E402
from vietnam_provinces import Province, Ward  # noqa: E402

from marketplace.models import Certificate, ProducerProfile, SearchEntry  # noqa: E402
from marketplace.search import indexing, receivers  # noqa: E402
from marketplace.search.listing import catalogue_changed, run_listing  # noqa: E402

Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

N = int(os.environ.get("BENCH_PRODUCTS", "50000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
PRODUCERS = max(10, N // 100)

NOUNS = {
    "Cà phê": ["Robusta", "Arabica", "Culi", "rang xay", "hạt rang mộc", "phin"],
    "Gạo": ["ST25", "ST24", "nếp cái hoa vàng", "lứt", "tám thơm", "Jasmine"],
    "Trái cây": ["Sầu riêng Ri6", "Bơ booth", "Xoài cát Hòa Lộc", "Nhãn lồng", "Vải thiều",
                 "Thanh long ruột đỏ", "Mận hậu", "Chôm chôm", "Măng cụt", "Bưởi da xanh"],
    "Gia vị": ["Hồ tiêu đen", "Tiêu sọ trắng", "Quế thanh", "Hành tím", "Tỏi Lý Sơn", "Ớt"],
    "Mật ong": ["Mật ong hoa cà phê", "Mật ong rừng", "Mật ong hoa nhãn", "Mật ong bạc hà"],
    "Dược liệu": ["Sâm Ngọc Linh", "Đương quy", "Atisô", "Đinh lăng", "Gừng gió"],
    "Chè và trà": ["Chè Tân Cương", "Chè Shan tuyết", "Trà atisô", "Chè móc câu"],
    "Hạt và đặc sản khô": ["Hạt mắc ca", "Hạt điều", "Long nhãn", "Hồng sấy dẻo", "Miến dong"],
}  # fmt: skip
SIZES = ["250g", "500g", "1kg", "2kg", "5kg", "hộp 500g", "túi 1kg", "chai 500ml"]
SEARCHES = [
    "ca phe", "Cà phê Robusta", "CA PHE ARABICA", "gao st25", "Gạo ST25 5kg", "sau rieng",
    "Sầu riêng Ri6", "ho tieu den", "mat ong rung", "Mật ong hoa nhãn", "sam ngoc linh",
    "che tan cuong", "dak lak", "Đắk Lắk cà phê", "hat mac ca 500g", "xoai cat hoa loc",
    "ca phe&province=66&cert=ocop", "gao&price=100k-300k&in_stock=1",
    "mat ong&stars=4&stars=5", "tieu&province=52&sort=price-asc",
]  # fmt: skip


def generate():
    rng = random.Random(2026)
    provinces = [p.code.value for p in Province.iter_all()]
    communes = {}
    for ward in Ward.iter_all():
        communes.setdefault(ward.province_code.value, []).append(ward.code.value)
    categories = {name: create_from_breadcrumbs(name) for name in NOUNS}
    with transaction.atomic(), receivers.paused():
        partners = Partner.objects.bulk_create(
            [Partner(name=f"HTX Nông sản số {i}", code=f"htx-bench-{i}") for i in range(PRODUCERS)]
        )
        profiles = []
        for i, partner in enumerate(partners):
            province = provinces[i % len(provinces)]
            profiles.append(
                ProducerProfile(
                    partner=partner,
                    slug=f"htx-bench-{i}",
                    kind="cooperative",
                    province_code=province,
                    commune_code=rng.choice(communes[province]),
                )  # fmt: skip
            )
        profiles = ProducerProfile.objects.bulk_create(profiles)
        today = timezone.localdate()
        certificates = []
        for profile in profiles[::4]:
            kind = rng.choice(["ocop", "ocop", "vietgap", "globalgap", "organic"])
            certificates.append(
                Certificate(
                    producer=profile,
                    kind=kind,
                    number=f"B{profile.pk}",
                    ocop_stars=rng.choice([3, 4, 5]) if kind == "ocop" else None,
                    issuer="UBND tỉnh",
                    valid_from=today.replace(year=today.year - 1),
                    valid_until=today.replace(year=today.year + 1),
                    status="verified",
                )  # fmt: skip
            )
        Certificate.objects.bulk_create(certificates)
        products, records, links = [], [], []
        for i in range(N):
            category = rng.choice(list(NOUNS))
            profile = profiles[i % PRODUCERS]
            title = f"{rng.choice(NOUNS[category])} {rng.choice(SIZES)} {profile.province_name}"
            products.append(
                Product(
                    title=title,
                    slug=slugify(title)[:128],
                    is_public=True,
                    structure="standalone",
                    upc=f"B{i:08d}",
                    description=f"{category} của {profile.partner.name}, {profile.commune_name}.",
                )  # fmt: skip
            )
        products = Product.objects.bulk_create(products, batch_size=2000)
        for i, product in enumerate(products):
            profile = profiles[i % PRODUCERS]
            records.append(
                StockRecord(
                    product=product,
                    partner=profile.partner,
                    partner_sku=f"B{i}",
                    price=Decimal(rng.randrange(20, 3000) * 1000),
                    price_currency="VND",
                    num_in_stock=rng.choice([0, 3, 10, 50, 100]),
                )  # fmt: skip
            )
            category = next(k for k, v in NOUNS.items() if product.title.startswith(tuple(v)))
            links.append(ProductCategory(product=product, category=categories[category]))
        StockRecord.objects.bulk_create(records, batch_size=2000)
        ProductCategory.objects.bulk_create(links, batch_size=2000)
    start = time.perf_counter()
    indexed = indexing.reindex_all()
    print(f"generated {N} products from {PRODUCERS} producers; indexed {indexed} "
          f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def pct(values, p):
    values = sorted(values)
    return values[max(0, int(round(p * len(values))) - 1)]


def main():
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    # One client sends every search from one address; the search throttle (a 429 after a
    # few dozen a minute, marketplace.core.ratelimit) would answer instead of the page.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": None}
    call_command("migrate", verbosity=0)
    if SearchEntry.objects.count() < N:
        generate()
    client = Client()
    totals = {"query": [], "listing": [], "page": [], "kept": []}
    print(f"{'search':<42} {'hits':>6} {'query p50/p95 ms':>17} {'listing p50/p95':>16} "
          f"{'page p50/p95':>13} {'SQL':>4} {'kept p50/p95':>13} {'SQL':>4}")  # fmt: skip
    for search in SEARCHES:
        q, _, rest = search.partition("&")
        params = QueryDict(mutable=True)
        params.update(QueryDict(rest))
        params["q"] = q
        timings = {"query": [], "listing": [], "page": [], "kept": []}
        url = "/search/?" + params.urlencode()
        for _ in range(REPEAT):
            listing = None
            catalogue_changed()
            start = time.perf_counter()
            listing = run_listing(params)
            timings["listing"].append((time.perf_counter() - start) * 1000)
            # The search query itself: matching + ranking + count + one page of rows.
            from marketplace.search.listing import Selection, order_entries, search_filter

            selection = Selection.from_query(params)
            start = time.perf_counter()
            qs = order_entries(
                search_filter(selection.q).filter(selection.all_q()), selection
            ).select_related("product", "producer__partner")
            hits = qs.count()
            list(qs[:24])
            timings["query"].append((time.perf_counter() - start) * 1000)
            catalogue_changed()
            start = time.perf_counter()
            response = client.get(url)
            timings["page"].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
            start = time.perf_counter()
            response = client.get(url)
            timings["kept"].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        reset_queries()
        catalogue_changed()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        sql = len(captured)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        sql_kept = len(captured)
        for key in totals:
            totals[key] += timings[key]
        t = {k: (statistics.median(v), pct(v, 0.95)) for k, v in timings.items()}
        print(
            f"{search[:42]:<42} {hits:>6} {t['query'][0]:>8.1f}/{t['query'][1]:<8.1f}"
            f"{t['listing'][0]:>7.1f}/{t['listing'][1]:<8.1f}"
            f"{t['page'][0]:>6.1f}/{t['page'][1]:<6.1f} {sql:>4}"
            f" {t['kept'][0]:>6.1f}/{t['kept'][1]:<6.1f} {sql_kept:>4}"
        )
        assert listing is not None
    print(f"all {len(SEARCHES)} searches × {REPEAT} on {connection.vendor} with "
          f"{SearchEntry.objects.count()} products:")  # fmt: skip
    for key, values in totals.items():
        p50, p95 = statistics.median(values), pct(values, 0.95)
        print(f"  {key:<8} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


if __name__ == "__main__":
    main()
