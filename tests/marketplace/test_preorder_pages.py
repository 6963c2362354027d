"""The pre-order pages: a farmer opens a window from the seller channel; buyers find it
("Sắp thu hoạch") on the product and province pages, pre-order there and cancel from
their pre-orders; other producers and other buyers get 404, bad input a message."""

import html

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from marketplace.models import Preorder, PreorderWindow
from tests.marketplace import preorder_world as world
from tests.marketplace.test_farmer_products import users


def vi(text, **values):
    with translation.override("vi"):
        return gettext(text) % values if values else gettext(text)


def body(response):
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(demo):
    world.vietqr_ready()
    return users()


def test_a_farmer_opens_pre_orders_from_the_seller_channel(people):
    farmer = signed_in(people["farmer"])
    assert "/cua-hang/dat-truoc/" in body(farmer.get("/cua-hang/"))
    assert body(farmer.get("/cua-hang/dat-truoc/"))
    product = world.durian()
    response = farmer.post(
        "/cua-hang/dat-truoc/mo/",
        {
            "product": product.pk,
            "harvest_from": "01/01/2099",
            "harvest_to": "20/01/2099",
            "cap": "30",
            "price": "185.000",
            "deposit_percent": "30",
        },
    )
    window = PreorderWindow.objects.get(product=product)
    assert response.status_code == 302 and (window.cap, window.price) == (30, 185000)
    page = body(farmer.get(f"/cua-hang/dat-truoc/{window.pk}/"))
    assert vi("Convert into orders") in page and vi("Close pre-orders early") in page
    # Another farmer sees nothing of it.
    other = signed_in(people["other_farmer"])
    assert other.get(f"/cua-hang/dat-truoc/{window.pk}/").status_code == 404
    assert other.post(f"/cua-hang/dat-truoc/{window.pk}/dong/").status_code == 404


def test_bad_dates_come_back_with_a_message(people):
    farmer = signed_in(people["farmer"])
    page = body(
        farmer.post(
            "/cua-hang/dat-truoc/mo/",
            {
                "product": world.durian().pk,
                "harvest_from": "20/01/2099",
                "harvest_to": "01/01/2099",
                "cap": "3",
                "price": "abc",
                "deposit_percent": "300",
            },
        )
    )
    assert vi("The harvest cannot end before it starts.") in page
    assert not PreorderWindow.objects.exists()


def test_buyers_find_the_coming_harvest_pre_order_and_cancel(people):
    window = world.window(people["farmer"], cap=5, price=200000, deposit_percent=30)
    product = world.durian()
    anonymous = Client()
    assert vi("Coming harvest") in body(anonymous.get(product.get_absolute_url()))
    assert f"/dat-truoc/{window.pk}/" in body(anonymous.get("/tinh/dak-lak/"))
    assert vi("Sign in to pre-order") in body(anonymous.get(f"/dat-truoc/{window.pk}/"))

    buyer = world.buyer()
    client = signed_in(buyer)
    address = world.address_of(buyer)
    too_many = client.post(
        f"/dat-truoc/{window.pk}/",
        {"quantity": "6", "address": address.pk, "method": "vietqr"},
    )
    assert vi("Only %(left)s more can be pre-ordered from this harvest.", left=5) in body(too_many)
    response = client.post(
        f"/dat-truoc/{window.pk}/", {"quantity": "2", "address": address.pk, "method": "vietqr"}
    )
    preorder = Preorder.objects.get(user=buyer)
    assert preorder.deposit == 120000
    # The deposit is paid like any VietQR order: its page shows the code and the amount.
    assert response["Location"].endswith(f"/accounts/orders/{preorder.deposit_order.number}/")
    deposit_page = body(client.get(response["Location"]))
    assert "120.000" in deposit_page and "<svg" in deposit_page

    mine = body(client.get("/dat-truoc/cua-toi/"))
    assert product.title in mine and vi("Cancel this pre-order") in mine
    # Another buyer cannot cancel it.
    assert (
        signed_in(world.buyer()).post(f"/dat-truoc/cua-toi/{preorder.pk}/huy/").status_code == 404
    )
    client.post(f"/dat-truoc/cua-toi/{preorder.pk}/huy/")
    preorder.refresh_from_db()
    assert preorder.status == "cancelled"


def test_a_closed_window_says_so(people):
    window = world.window(people["farmer"])
    signed_in(people["farmer"]).post(f"/cua-hang/dat-truoc/{window.pk}/dong/")
    page = body(signed_in(world.buyer()).get(f"/dat-truoc/{window.pk}/"))
    assert vi("Pre-orders for this harvest are closed.") in page
    assert Client().get("/dat-truoc/999999999/").status_code == 404


def test_staff_open_pre_orders_for_producers_in_their_scope_only(people):
    window = world.window(people["farmer"])
    operator = signed_in(people["operator"])
    assert vi("Pre-orders for the harvest") in body(operator.get("/can-bo/"))
    assert world.durian().title in body(operator.get("/cua-hang/dat-truoc/"))
    assert operator.get(f"/cua-hang/dat-truoc/{window.pk}/").status_code == 200
    for role in ("buyer", "post_office_staff"):
        assert signed_in(people[role]).get("/cua-hang/dat-truoc/").status_code == 403
    # A branch sees the windows of its commune's producers, no other.
    branch = signed_in(people["branch_staff"])
    assert branch.get("/cua-hang/dat-truoc/").status_code == 200
    from marketplace.core.scope import scope_of
    from marketplace.models import ProducerProfile

    in_scope = scope_of(people["branch_staff"]).producers(ProducerProfile.objects.all())
    reach = in_scope.filter(partner_id=window.partner_id).exists()
    assert branch.get(f"/cua-hang/dat-truoc/{window.pk}/").status_code == (200 if reach else 404)
