"""The operator finds the marketplace pages in Oscar's dashboard menu; nobody else sees
them there."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from tests.marketplace.test_farmer_products import users

PAGES = [
    "/quan-tri/san-pham-cho-duyet/",
    "/quan-tri/chung-nhan/",
    "/quan-tri/chuyen-khoan/",
    "/buu-dien/buu-gui/",
    "/quan-tri/doi-soat-cod/",
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
