"""The public resolver and trace page: status codes, content, budgets, caching."""

import json
import re

import pytest
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from traceability import services
from traceability.models import FarmEvent, Lot, SerialNumber

from .conftest import GTIN13


@pytest.fixture(autouse=True)
def _site_address(settings):
    """Links in linksets and Link headers carry the site's one configured address
    (SITE_BASE_URL), never the request's host; here it is the test client's."""
    settings.SITE_BASE_URL = "http://testserver"


pytestmark = pytest.mark.django_db
G14 = "0" + GTIN13


def test_gtin13_and_gtin14_links_show_the_lot(client, gtin_lot):
    for gtin in (GTIN13, G14):
        for tail in ("", "/"):
            response = client.get(f"/01/{gtin}/10/DEMO-NS0005{tail}", follow=True)
            # One 307 to the default link: the trace page at the short link.
            assert response.redirect_chain == [(f"/t/{gtin_lot.short_code}/", 307)]
            assert response.status_code == 200, (gtin, tail)
            html = response.content.decode()
            assert "Sầu riêng Ri6 Krông Pắc" in html
            assert "Hộ ông Nguyễn Văn Hùng" in html
    # A serial number of the lot resolves to the lot too; one the lot never printed walks
    # up to the lot's link (tests/traceability/test_scans.py has the rest).
    SerialNumber.objects.create(lot=gtin_lot, serial="0001")
    serial = client.get(f"/01/{GTIN13}/10/DEMO-NS0005/21/0001/", follow=True)
    assert serial.redirect_chain == [(f"/t/{gtin_lot.short_code}/0001/", 307)]
    assert serial.status_code == 200
    unknown = client.get(f"/01/{GTIN13}/10/DEMO-NS0005/21/0002/")
    assert unknown.status_code == 307 and unknown["Location"] == f"/01/{G14}/10/DEMO-NS0005"


CHECK_DIGIT = "The last digit (check digit) of the product code (GTIN) is wrong."
LENGTH = "The product code (GTIN) must have 8, 12, 13 or 14 digits."
LOT = (
    "The lot code must have 1 to 20 characters of GS1's set: letters without accents, "
    "digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ only."
)
ORDER = (
    "The parts of the link are in the wrong order: after the product code "
    "come the variant (22), then the lot (10), then the serial number (21)."
)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (f"/01/{GTIN13[:-1]}0/10/DEMO-NS0005/", CHECK_DIGIT),
        ("/01/89312345678AB/10/DEMO-NS0005/", LENGTH),
        (f"/01/{GTIN13}/10/{'A' * 21}/", LOT),
        (f"/01/{GTIN13}/10/DEMO%20NS0005/", LOT),
        (f"/01/{GTIN13}/10/DEMO~NS0005/", LOT),
        (f"/01/{GTIN13}/21/S1/10/DEMO-NS0005/", ORDER),
    ],
)
def test_malformed_links_get_a_400_page_that_says_why(client, gtin_lot, path, why):
    response = client.get(path)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html and escape(gettext(why)) in html  # in Vietnamese once translated
    assert gettext("This product link is not valid") in html


def test_percent_encoded_lot_characters_are_decoded(client, gtin_lot):
    assert client.get(f"/01/{GTIN13}/10/DEMO%2DNS0005/", follow=True).status_code == 200
    # A "/" inside a lot code must be %2F; with the raw URI (gunicorn's RAW_URI) it is one
    # segment of the lot, not a new qualifier.
    Lot.objects.filter(pk=gtin_lot.pk).update(code="A/B")
    path = f"/01/{GTIN13}/10/A%2FB"
    found = client.get(path, RAW_URI=path)
    assert found.status_code == 307 and found["Location"] == f"/t/{gtin_lot.short_code}/"


def test_unknown_lots_walk_up_to_the_product_and_unknown_short_codes_are_404(client, gtin_lot):
    unknown = client.get(f"/01/{GTIN13}/10/NO-SUCH-LOT/")
    assert unknown.status_code == 307
    assert unknown["Location"] == gtin_lot.product.get_absolute_url()
    assert client.get("/01/8931234567880/10/DEMO-NS0005/").status_code in (400, 404)
    assert client.get("/t/ZZZZZZZZ/").status_code == 404
    assert client.get("/t/not-a-code/").status_code == 404


def test_link_type_all_lists_the_links_as_json(client, gtin_lot):
    response = client.get(f"/01/{GTIN13}/10/DEMO-NS0005/?linkType=all")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/linkset+json")
    data = json.loads(response.content)["linkset"][0]
    assert data["anchor"] == f"http://testserver/01/{G14}/10/DEMO-NS0005"
    hrefs = [link["href"] for link in data["https://ref.gs1.org/voc/traceability"]]
    short = gtin_lot.short_code
    assert f"http://testserver/t/{short}/" in hrefs
    assert f"http://testserver/en/t/{short}/" in hrefs
    assert f"http://testserver/en/01/{G14}/10/DEMO-NS0005" in hrefs
    assert data["https://ref.gs1.org/voc/pip"][0]["href"].startswith("http://testserver/catalogue/")
    # The short link answers too; a product without GTIN has only /t/ links.
    other = Lot.objects.get(code="DEMO-NS0001")
    data = json.loads(client.get(f"/t/{other.short_code}/?linkType=all").content)["linkset"][0]
    hrefs = [link["href"] for link in data["https://ref.gs1.org/voc/traceability"]]
    assert hrefs == [
        f"http://testserver/t/{other.short_code}/",
        f"http://testserver/en/t/{other.short_code}/",
    ]


def test_the_trace_page_shows_what_circular_02_asks_for(client, gtin_lot):
    html = client.get(f"/t/{gtin_lot.short_code}/").content.decode()
    producer = gtin_lot.producer
    assert f'href="/nha-san-xuat/{producer.slug}/"' in html
    assert "Thôn 3" in html and "Đắk Lắk" in html and "Krông Pắc" in html
    assert G14 in html and "DEMO-NS0005" in html
    assert 'loading="lazy"' in html and "/media/" in html
    assert gtin_lot.product.get_absolute_url() in html  # buy this product
    assert gtin_lot.expiry_date.strftime("%d/%m/%Y") in html
    assert "Abamectin 1.8EC" in html
    assert gettext("Record intact") in html
    assert f'href="/en/t/{gtin_lot.short_code}/"' in html
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(ld)
    assert data["@type"] == "Product" and data["gtin"] == G14
    assert data["@id"] == f"http://testserver/01/{G14}/10/DEMO-NS0005"
    assert data["brand"]["name"] == data["manufacturer"]["name"] == "Hộ ông Nguyễn Văn Hùng"


def test_certificates_valid_at_harvest_are_listed(client, traces):
    from marketplace.models import Certificate

    lot = Lot.objects.get(code="DEMO-NS0001")
    harvested = services.harvest_date(services.timeline(list(lot.events.all())))
    active = Certificate.objects.badges(on=harvested, product=lot.product).filter(
        producer=lot.producer
    )
    html = client.get(f"/t/{lot.short_code}/").content.decode()
    assert active.exists()  # the demo cooperative has verified certificates
    for certificate in active:
        assert certificate.number in html
    for certificate in Certificate.objects.filter(producer=lot.producer).exclude(
        pk__in=active.values("pk")
    ):
        assert certificate.number not in html


def test_the_pre_harvest_flag_is_shown_only_for_the_violating_lot(client, traces):
    flag = gettext("Harvested before the pre-harvest interval ended")
    violating = Lot.objects.get(code="DEMO-NS0006")
    html = client.get(f"/t/{violating.short_code}/").content.decode()
    assert flag in html and 'class="warn"' in html
    for code in ("DEMO-NS0005", "DEMO-NS0007", "DEMO-NS0001", "DEMO-NS0025"):
        lot = Lot.objects.get(code=code)
        assert flag not in client.get(f"/t/{lot.short_code}/").content.decode(), code


def test_budget_size_no_javascript_and_http_caching(
    client, gtin_lot, django_assert_max_num_queries, django_assert_num_queries
):
    # Every page view below is a scan: traceability.scans sends it to the Celery task
    # `traceability.record_scan` with .delay(). In production the broker takes it and the
    # request makes no query for it; here tasks run eagerly, so its single INSERT runs
    # inside the request and is counted below as the "+ 1" (and asserted to be that).
    # test_scans.py proves the 0-query warm page with the task sent to a broker.
    url = f"/t/{gtin_lot.short_code}/"
    with django_assert_max_num_queries(4 + 1) as queries:
        cold = client.get(url)
    assert 'INSERT INTO "traceability_scan"' in queries.captured_queries[-1]["sql"]
    assert cold.status_code == 200
    html = cold.content.decode()
    assert len(cold.content) <= 30_000
    assert html.count("<script") == 1 and '<script type="application/ld+json">' in html
    assert "javascript:" not in html and " on" + "click=" not in html
    assert cold["Cache-Control"] == "public, max-age=300"
    etag = cold["ETag"]
    assert etag.startswith('"') and len(etag) > 10

    with django_assert_num_queries(0 + 1) as queries:  # the scan's INSERT only
        warm = client.get(url)
    assert 'INSERT INTO "traceability_scan"' in queries.captured_queries[0]["sql"]
    assert warm.content == cold.content and warm["ETag"] == etag
    with django_assert_num_queries(1):  # the GS1 link → lot mapping, then a redirect
        dl_cold = client.get(f"/01/{GTIN13}/10/DEMO-NS0005/")
    with django_assert_num_queries(0):
        dl_warm = client.get(f"/01/{GTIN13}/10/DEMO-NS0005/")
    assert dl_cold.status_code == dl_warm.status_code == 307
    assert dl_warm["Location"] == url  # the page above, warm

    with django_assert_num_queries(0):  # a 304 is not a scan
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200

    # A new event changes the page, its ETag, and is shown at once.
    services.record_event(
        lot=gtin_lot,
        by=None,
        kind=FarmEvent.Kind.SHIPPING,
        event_time=timezone.now(),
        details={"carrier": "Bưu điện Đắk Lắk", "destination": "Kho Hà Nội"},
    )
    fresh = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag
    assert "Kho Hà Nội" in fresh.content.decode()


def test_the_english_page_has_english_labels(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0006")
    response = client.get(f"/en/t/{lot.short_code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for label in ("Record intact", "Producer", "Expiry date", "Harvest", "Standards applied"):
        assert label in html
    assert "Harvested before the pre-harvest interval ended" in html
    # Waiting for the operator's review: a warning in English, and nothing to buy.
    assert "Not for sale: do not buy or eat this lot" in html
    assert "Buy this product" not in html
    fresh = Lot.objects.get(code="DEMO-NS0005")
    assert "Buy this product" in client.get(f"/en/t/{fresh.short_code}/").content.decode()
    assert f'href="/t/{lot.short_code}/"' in html  # back to Vietnamese
    assert response["Content-Language"] == "en"


def test_a_head_request_and_a_post_are_handled(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0001")
    assert client.head(f"/t/{lot.short_code}/").status_code == 200
    assert client.post(f"/t/{lot.short_code}/").status_code == 405


@pytest.mark.django_db
def test_the_linkset_names_the_configured_address_whatever_host_was_asked(
    client, settings, gtin_lot
):
    settings.SITE_BASE_URL = "https://nongsan.example"
    settings.ALLOWED_HOSTS = ["*"]
    path = f"/01/{G14}/10/DEMO-NS0005?linkType=linkset"
    one = client.get(path, HTTP_HOST="127.0.0.1:8000").json()
    other = client.get(path, HTTP_HOST="shop.other.example").json()
    assert one == other
    assert one["linkset"][0]["anchor"] == f"https://nongsan.example/01/{G14}/10/DEMO-NS0005"
