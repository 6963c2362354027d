"""The operator finds the marketplace pages in Oscar's dashboard menu; nobody else sees
them there."""

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext

from tests.marketplace.test_farmer_products import users

PAGES = [
    "/quan-tri/",
    "/quan-tri/san-pham-cho-duyet/",
    "/quan-tri/chung-nhan/",
    "/quan-tri/chuyen-khoan/",
    "/buu-dien/buu-gui/",
    "/quan-tri/tien-buu-dien-nop/",
    "/quan-tri/cai-dat-thanh-toan/",
    "/can-bo/",
]


@pytest.mark.django_db
def test_the_operator_has_a_marketplace_menu_whose_links_work(client, demo):
    client.force_login(users()["operator"])
    html = client.get("/dashboard/").content.decode()
    with translation.override("vi"):
        assert gettext("Marketplace") in html
    for url in PAGES:
        assert f'href="{url}"' in html, url
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_a_farmer_in_the_dashboard_does_not_see_it(client, demo):
    client.force_login(users()["farmer"])
    response = client.get("/dashboard/", follow=True)
    html = response.content.decode()
    for url in PAGES:
        assert f'href="{url}"' not in html, url


@pytest.mark.django_db
def test_the_dashboard_order_page_shows_payment_parcels_and_the_next_step(client, search_index):
    from oscar.core.loading import get_model

    from tests.marketplace.test_i18n_roles import with_demo_orders

    Order = get_model("order", "Order")
    with_demo_orders()
    client.force_login(users()["operator"])
    two_farms, awaiting, _paid, delivered, *_others = Order.objects.order_by("number")
    html = client.get(f"/dashboard/orders/{awaiting.number}/").content.decode()
    assert f'href="/quan-tri/chuyen-khoan/?q={awaiting.number}"' in html
    html = client.get(f"/dashboard/orders/{two_farms.number}/").content.decode()
    assert len(re.findall(r'href="/buu-dien/buu-gui/\d+/"', html)) == 2
    # Nothing collected yet: no refund, but the page where parcels are cancelled.
    with translation.override("vi"):
        assert gettext("Refunds and cancellations") in html
        assert f">{gettext('Refund')}</a>" not in html
    html = client.get(f"/dashboard/orders/{delivered.number}/").content.decode()
    with translation.override("vi"):
        assert f">{gettext('Refund')}</a>" in html  # the cash collected may be refunded
    with translation.override("vi"):
        assert gettext("Collected on delivery") in html
