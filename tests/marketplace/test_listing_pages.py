"""Catalogue, category, search, province and producer pages: what a buyer sees, bad input,
and a constant number of SQL queries whatever the page size and catalogue size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.models import ProducerProfile, SearchEntry
from marketplace.shops.services import open_producer_shop

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
ProductCategory = get_model("catalogue", "ProductCategory")
StockRecord = get_model("partner", "StockRecord")

BUDGET = 12  # DESIGN.md: listing pages, whatever the page size and catalogue size


def _catalogue(n, *, category=None):
    partner = open_producer_shop(
        name="HTX Thử nghiệm", kind="cooperative", province_code=66,
        commune_code=geo.find_commune(66, "Ea Kiết"),
    )  # fmt: skip
    for i in range(n):
        product = Product.objects.create(
            title=f"Cà phê thử {i}", description="Cà phê Đắk Lắk", is_public=True
        )
        StockRecord.objects.create(
            product=product, partner=partner, partner_sku=f"S{i}",
            price=Decimal(50000 + 1000 * i), price_currency="VND", num_in_stock=3,
        )  # fmt: skip
        if category is not None:
            ProductCategory.objects.create(product=product, category=category)
    return partner.producer_profile


def _queries(client, url):
    client.get(url)  # warm: session, basket, template caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.django_db
def test_listing_pages_run_a_constant_number_of_queries(client, settings):
    category = Category.add_root(name="Cà phê")
    producer = _catalogue(4, category=category)
    urls = {
        "catalogue": "/catalogue/",
        "catalogue-filtered": "/catalogue/?province=66&price=duoi-100k&cert=ocop&sort=price-asc",
        "category": category.get_absolute_url(),
        "search": "/search/?q=ca+phe",
        "province": "/tinh/dak-lak/",
        "producer": f"/nha-san-xuat/{producer.slug}/",
    }
    settings.OSCAR_PRODUCTS_PER_PAGE = 2
    small = {name: _queries(client, url) for name, url in urls.items()}
    _catalogue_more = 36
    partner = producer.partner
    for i in range(_catalogue_more):
        product = Product.objects.create(title=f"Cà phê thêm {i}", is_public=True)
        StockRecord.objects.create(
            product=product, partner=partner, partner_sku=f"M{i}",
            price=Decimal(90000 + i), price_currency="VND", num_in_stock=1,
        )  # fmt: skip
        ProductCategory.objects.create(product=product, category=category)
    settings.OSCAR_PRODUCTS_PER_PAGE = 30
    large = {name: _queries(client, url) for name, url in urls.items()}
    assert large == small
    assert max(large.values()) <= BUDGET, large


@pytest.mark.django_db
def test_product_page_stays_within_its_budget(client, demo):
    product = Product.objects.get(upc="NS0001")
    assert _queries(client, product.get_absolute_url()) <= 16  # with its pre-order windows


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "?province=abc&stars=9&price=bogus&sort=evil&page=999&in_stock=maybe",
        "?q=" + "cà phê " * 100,
        "?q=%27%22%3Cscript%3E",
        "?category=-1&producer=x&cert=unknown",
        "?page=0",
        "?page=-3",
    ],
)
def test_bad_filters_never_break_a_listing(client, demo, query):
    for path in ("/catalogue/", "/search/", "/tinh/dak-lak/"):
        response = client.get(path + query)
        assert response.status_code == 200, path + query
        assert '"<script>' not in response.content.decode()  # echoed queries are escaped


@pytest.mark.django_db
def test_a_nul_byte_in_a_listing_query_is_a_clear_400(client, demo):
    for path in ("/catalogue/", "/search/", "/tinh/dak-lak/"):
        response = client.get(path + "?q=%00%27")
        assert response.status_code == 400, path
        assert "ký tự" in response.content.decode()


@pytest.mark.django_db
def test_filters_combine_and_survive_pagination(client, demo, settings):
    settings.OSCAR_PRODUCTS_PER_PAGE = 2
    response = client.get("/catalogue/?province=66&in_stock=1")
    assert (
        response.context["paginator"].count
        == SearchEntry.objects.filter(province_code=66, in_stock=True).count()
    )
    html = response.content.decode()
    assert 'href="?province=66&amp;in_stock=1&amp;page=2"' in html
    page2 = client.get("/catalogue/?province=66&in_stock=1&page=2")
    assert all(e.province_code == 66 for e in page2.context["entries"])


@pytest.mark.django_db
def test_province_page_lists_its_producers_and_products(client, demo):
    response = client.get("/tinh/dak-lak/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hợp tác xã Cà phê Công bằng Ea Kiết" in html
    assert "Hộ ông Nguyễn Văn Hùng" in html
    assert "Hồ tiêu đen Chư Sê" not in html  # Gia Lai
    assert all(e.province_code == 66 for e in response.context["entries"])


@pytest.mark.django_db
def test_every_province_with_products_is_reachable_from_home(client, demo):
    html = client.get("/").content.decode()
    codes = set(SearchEntry.objects.values_list("province_code", flat=True))
    assert len(codes) >= 5
    for code in codes:
        from marketplace.shops.selectors import province_slug

        slug = province_slug(code)
        assert f'href="/tinh/{slug}/"' in html
        assert client.get(f"/tinh/{slug}/").status_code == 200


@pytest.mark.django_db
def test_unknown_province_and_producer_are_404(client, demo):
    assert client.get("/tinh/khong-co-tinh-nay/").status_code == 404
    assert client.get("/nha-san-xuat/khong-co/").status_code == 404


@pytest.mark.django_db
def test_producer_page_shows_profile_and_only_its_products(client, demo):
    producer = ProducerProfile.objects.get(partner__name="Hợp tác xã Hồ tiêu Chư Sê")
    response = client.get(f"/nha-san-xuat/{producer.slug}/")
    html = response.content.decode()
    assert "Hợp tác xã" in html  # type
    assert "Chư Sê" in html and "Gia Lai" in html
    assert producer.story in html
    assert {e.producer_id for e in response.context["entries"]} == {producer.pk}
    assert "Hồ tiêu đen Chư Sê 500g" in html


@pytest.mark.django_db
def test_product_page_links_to_its_producer(client, demo):
    product = Product.objects.get(upc="NS0009")
    html = client.get(product.get_absolute_url()).content.decode()
    producer = ProducerProfile.objects.get(partner__name="Hợp tác xã Hồ tiêu Chư Sê")
    assert f'href="/nha-san-xuat/{producer.slug}/"' in html


@pytest.mark.django_db
def test_out_of_stock_product_shows_no_add_button(client, demo):
    record = StockRecord.objects.get(product__upc="NS0013")
    record.num_in_stock = 0
    record.save()
    response = client.get("/search/?q=sam+ngoc+linh+tuoi")
    entry = next(e for e in response.context["entries"] if e.product.upc == "NS0013")
    assert entry.in_stock is False
    assert "Hết hàng" in response.content.decode() or "Out of stock" in response.content.decode()
