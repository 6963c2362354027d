"""A guest checks out with a Vietnamese phone number instead of an e-mail, and finds the
order later with its number and that phone (or the e-mail they gave): the order-status
form, the guest's order page and cancelling from it."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation
from oscar.core.loading import get_model

from marketplace.accounts import guest_orders
from marketplace.models import Parcel
from tests.marketplace.orders import checkout

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
LOOKUP = "/don-hang/tra-cuu/"


def text(response):
    return html.unescape(response.content.decode())


def start_as_guest(client, typed):
    product = Product.objects.get(upc="NS0005")
    client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    return client.post("/checkout/", {"username": typed, "options": "anonymous", "password": ""})


@pytest.mark.django_db
def test_a_guest_checks_out_with_a_phone_number_and_no_email(demo):
    guest = Client()
    response = start_as_guest(guest, "0912.345.678")
    assert response.status_code == 302 and response.url == "/checkout/shipping-address/"
    # The phone the guest gave is already on the delivery address form.
    page = text(guest.get("/checkout/shipping-address/"))
    assert 'value="0912 345 678"' in page
    order = checkout(guest, {})
    assert order.user is None and order.guest_email == ""
    assert guest_orders.order_phone(order) == "+84912345678"
    # The guest who just placed it sees its status page from the thank-you page.
    assert guest.get("/checkout/thank-you/").status_code == 200
    status = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    response = guest.get(status)
    assert response.status_code == 200 and order.number in text(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345", "Nhập địa chỉ e-mail hoặc số điện thoại Việt Nam"),
        ("+33 1 42 68 53 00", "Nhập địa chỉ e-mail hoặc số điện thoại Việt Nam"),
        ("khach@", "Nhập địa chỉ e-mail hoặc số điện thoại Việt Nam"),
    ],
)
def test_a_guest_who_types_neither_an_email_nor_a_vietnamese_phone_is_told_so(demo, typed, message):
    with translation.override("vi"):
        response = start_as_guest(Client(), typed)
    assert response.status_code == 200
    assert message in text(response)


@pytest.mark.django_db
def test_a_phone_with_an_account_signs_in_and_a_new_account_needs_an_email(demo):
    guest = Client()
    with translation.override("vi"):
        response = start_as_guest(guest, "0905 123 404")  # Nguyễn Thị Lan's account
        assert response.status_code == 200
        page = text(response)
        assert "Số điện thoại này đã có tài khoản" in page
        assert re.search(r'value="existing"[^>]*checked', page)  # "returning customer"
        response = guest.post(
            "/checkout/", {"username": "0912 345 678", "options": "new", "password": ""}
        )
        assert "Để tạo tài khoản, hãy nhập địa chỉ e-mail" in text(response)
    # A returning customer signs in with the phone number and the password.
    response = guest.post(
        "/checkout/", {"username": "0905 123 404", "options": "existing", "password": "nongsan2026"}
    )
    assert response.status_code == 302 and response.url == "/checkout/shipping-address/"
    signed_in = get_user_model().objects.get(pk=guest.session["_auth_user_id"])
    assert signed_in.username == "+84905123404"


@pytest.mark.django_db
def test_a_guest_finds_the_order_by_number_and_phone_however_typed(demo):
    placed = Client()
    start_as_guest(placed, "0912 345 678")
    order = checkout(placed, {})
    guest = Client()  # another day, another browser
    status = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    assert guest.get(status).status_code == 302  # to the form: not known yet
    page = text(guest.get(LOOKUP))
    assert 'name="number"' in page and 'name="contact"' in page
    with translation.override("vi"):
        wrong = guest.post(LOOKUP, {"number": order.number, "contact": "0912 345 679"})
    assert wrong.status_code == 200
    assert "Không có đơn hàng nào khớp" in text(wrong)
    response = guest.post(LOOKUP, {"number": order.number, "contact": "+84 912 345 678"})
    assert response.status_code == 302 and response.url == status
    page = text(guest.get(status))
    assert order.number in page and 'class="nongsan-cancel-form"' in page
    # From there the guest cancels it.
    cancel = f"/don-hang/{order.number}/{order.verification_hash()}/huy/"
    assert Client().post(cancel, {"reason": "mistake"}).status_code == 404
    guest.post(cancel, {"reason": "changed_mind"})
    assert Parcel.objects.get(order=order).status == "cancelled"


@pytest.mark.django_db
def test_the_signed_link_asks_for_the_email_or_phone_of_the_order(demo):
    order = checkout(Client(), {"NS0005": 1}, guest_email="khach@example.com")
    status = reverse(
        "customer:anon-order",
        kwargs={"order_number": order.number, "hash": order.verification_hash()},
    )
    guest = Client()
    form_url = guest.get(status).url
    # The phone of its delivery address is as good as the e-mail.
    response = guest.post(form_url, {"contact": "0912345678"})
    assert response.status_code == 302 and response.url == status
    other = Client()
    other.get(status)
    assert other.post(form_url, {"contact": "khac@example.com"}).status_code == 200
    assert other.post(form_url, {"contact": "KHACH@example.com"}).status_code == 302
    # The lookup by number finds it by e-mail too, but never an account's order.
    assert (
        Client().post(LOOKUP, {"number": order.number, "contact": "khach@example.com"}).status_code
        == 302
    )
    buyer = Client()
    buyer.force_login(get_user_model().objects.get(email="nguoimua@nongsan.test"))
    signed = checkout(buyer, {"NS0005": 1})
    assert guest_orders.find(signed.number, "phone", "+84912345678") is None


@pytest.mark.django_db
def test_the_order_status_form_is_throttled(demo, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "guest-order": (3, 900)}
    guest = Client()
    answers = [
        guest.post(LOOKUP, {"number": "100001", "contact": "0912345678"}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
