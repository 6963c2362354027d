"""The storefront as a buyer on a phone meets it: a provincial marketplace's home page,
one compact header with the search box on every page, a light page (no Oscar theme), the
basket by producer, and the VietQR box with its save and copy buttons."""

import datetime
import html as html_lib
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from oscar.core.loading import get_model

from marketplace.models import Certificate, ProducerProfile
from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import users

Product = get_model("catalogue", "Product")

pytestmark = pytest.mark.django_db

OSCAR_THEME = ("oscar/css/styles.css", "bootstrap.bundle", "jquery", "oscar/js/oscar/ui.js")


def vi(message) -> str:
    with translation.override("vi"):
        return gettext(message)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html_lib.unescape(response.content.decode())


def test_home_is_a_provincial_marketplace(client, demo):
    body = page(client, "/")
    # The province banner: the province with the most products first, then every province.
    assert 'class="ns-banner"' in body
    assert vi("Specialities of %(province)s") % {"province": "Đắk Lắk"} in body
    assert 'href="/tinh/dak-lak/"' in body and 'href="/tinh/can-tho/"' in body
    # Category tiles, OCOP products, featured producers, new products.
    assert body.count('class="ns-tiles"') == 1 and "Hạt và đặc sản khô" in body
    for heading in ("OCOP products", "Featured producers", "New in the market"):
        assert vi(heading) in body
    assert "?cert=ocop" in body
    producers = body[body.index('class="ns-producers"') :]
    assert producers.count('class="ns-producer"') == 4
    assert "nongsan-badge-" in producers
    # English at /en/.
    english = page(client, "/en/")
    assert "Featured producers" in english and 'href="/en/tinh/dak-lak/"' in english


def test_a_producer_badge_on_home_follows_the_one_badge_rule(client, demo):
    """Featured producers show only certificates that Certificate.objects.badges lets
    through: an expired one loses its badge on the home page too."""
    body = page(client, "/")
    shown = set(re.findall(r'href="/chung-nhan/(\d+)/"', body[body.index("ns-producers") :]))
    assert shown
    first = Certificate.objects.get(pk=int(sorted(shown)[0]))
    first.valid_until = timezone.localdate() - datetime.timedelta(days=1)
    first.save(update_fields=["valid_until"])
    body = page(client, "/")
    shown = set(re.findall(r'href="/chung-nhan/(\d+)/"', body[body.index("ns-producers") :]))
    assert str(first.pk) not in shown


def test_home_has_a_query_budget(client, demo, django_assert_max_num_queries):
    page(client, "/")
    with django_assert_max_num_queries(10):
        client.get("/")


@pytest.mark.parametrize(
    "url",
    ["/", "/catalogue/", "/search/?q=ca+phe", "/basket/", "/tinh/dak-lak/", "/accounts/login/"],
)
def test_storefront_pages_are_light_with_the_search_box(client, demo, url):
    body = page(client, url)
    assert "nongsan/store.css" in body
    for asset in OSCAR_THEME:
        assert asset not in body, (url, asset)
    assert body.count('id="ns-q"') == 1  # the header's search box, on every page
    assert "<script>" not in body and " onclick=" not in body


def test_product_page_is_light_within_its_budget(client, demo, django_assert_max_num_queries):
    url = Product.objects.get(upc="NS0001").get_absolute_url()
    page(client, url)
    with django_assert_max_num_queries(16):
        body = html_lib.unescape(client.get(url).content.decode())
    for asset in OSCAR_THEME:
        assert asset not in body
    assert 'id="ns-q"' in body


def test_farmer_pages_keep_oscars_theme_under_the_same_header(client, demo):
    client.force_login(users()["farmer"])
    body = page(client, "/cua-hang/")
    assert "oscar/css/styles.css" in body and "nongsan/js/page.js" in body
    assert 'id="role_home_link"' in body and 'id="ns-q"' in body
    assert "<script>" not in body


def basket_of(client, quantities):
    for upc, quantity in quantities.items():
        product = Product.objects.get(upc=upc)
        client.post(f"/basket/add/{product.pk}/", {"quantity": quantity})


def test_the_basket_is_grouped_by_producer_with_a_delivery_estimate(client, demo):
    basket_of(client, {"NS0005": 1, "NS0009": 2, "NS0007": 1})  # two farms
    body = page(client, "/basket/")
    assert body.count('class="ns-parcel nongsan-basket-parcel"') == 2
    with translation.override("vi"):
        ships = ngettext(
            "Your basket ships as %(counter)s parcel, one per producer.",
            "Your basket ships as %(counter)s separate parcels, one per producer.",
            2,
        )
    assert ships % {"counter": 2} in body
    assert body.count('class="mb-0 small nongsan-muted nongsan-parcel-estimate"') == 2
    durian_farm = ProducerProfile.objects.get(partner__stockrecords__product__upc="NS0005")
    section = body[body.index(f'data-partner="{durian_farm.partner_id}"') :]
    section = section[: section.index("</section>")]
    assert durian_farm.partner.name in section
    assert "Sầu riêng" in section and "Hồ tiêu" not in section


def test_removing_a_line_works_without_javascript(client, demo):
    basket_of(client, {"NS0005": 1, "NS0009": 1})
    body = page(client, "/basket/")
    # The remove button is a submit button naming the line's DELETE field.
    names = re.findall(r'<button[^>]*name="(form-\d+-DELETE)" value="on"', body)
    assert len(names) == 2
    data = dict(
        re.findall(r'name="(form-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d+)"', body)
    )
    for index, pk in enumerate(re.findall(r'name="form-\d+-id" value="(\d+)"', body)):
        data[f"form-{index}-id"] = pk
        data[f"form-{index}-quantity"] = "1"
    data[names[0]] = "on"
    response = client.post("/basket/", data)
    assert response.status_code == 302
    body = page(client, "/basket/")
    assert body.count('class="ns-parcel nongsan-basket-parcel"') == 1


def count_queries(client, url) -> int:
    from django.db import connection

    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        assert client.get(url).status_code == 200
    return count[0]


def test_the_basket_page_has_a_query_budget(client, demo):
    """Grouping by producer reads the parcels in a constant number of queries; Oscar's
    own lines (thumbnail, availability) cost a few per line, as before."""
    basket_of(client, {"NS0005": 1})
    page(client, "/basket/")
    one_line = count_queries(client, "/basket/")
    basket_of(client, {"NS0009": 1, "NS0007": 1, "NS0001": 1})
    page(client, "/basket/")
    four_lines = count_queries(client, "/basket/")
    assert one_line <= 30
    assert (four_lines - one_line) / 3 <= 4, (one_line, four_lines)


def test_the_vietqr_box_offers_to_save_the_code_and_copy_each_value(client, demo):
    client.force_login(users()["buyer"])
    order = checkout(client, {"NS0005": 1}, method="vietqr")
    body = page(client, f"/accounts/orders/{order.number}/")
    box = body[body.index("nongsan-vietqr") :]
    assert re.search(r'href="data:image/png;base64,[A-Za-z0-9+/=]+" download="vietqr-', box)
    assert vi("Save QR image") in box
    for label in ("Copy account number", "Copy amount", "Copy transfer content"):
        assert vi(label) in box
    # The copy buttons carry the values as a banking app wants them: digits only.
    amount = int(order.total_incl_tax)
    assert f'data-copy="{amount}"' in box
    assert re.search(r"<button[^>]*hidden[^>]*data-copy=", box)  # shown by store.js only


def test_a_url_for_the_english_home_keeps_its_header(client, demo):
    body = page(client, reverse("home").replace("/", "/en/", 1))
    assert 'lang="en"' in body and 'id="ns-q"' in body
