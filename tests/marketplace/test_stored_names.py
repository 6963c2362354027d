"""Names Oscar stores for payment events and payment methods ("Paid", "Cash on delivery")
are shown in the reader's language on the operator's order page, whatever language the
row was written in (marketplace.payments.labels)."""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from marketplace.payments import labels
from marketplace.payments.state import record_payment
from tests.marketplace.orders import checkout


@pytest.mark.parametrize(
    ("row", "vi", "en"),
    [
        (SimpleNamespace(code="paid", name="Paid"), "Đã trả", "Paid"),
        (SimpleNamespace(code="paid", name="Đã trả"), "Đã trả", "Paid"),
        (SimpleNamespace(code="refunded", name="Refunded"), "Đã hoàn tiền", "Refunded"),
        (SimpleNamespace(code="made-by-hand", name="Gọi lại"), "Gọi lại", "Gọi lại"),
    ],
)
def test_an_event_type_reads_in_the_readers_language(row, vi, en):
    with translation.override("vi"):
        assert labels.event_label(row) == vi
    with translation.override("en"):
        assert labels.event_label(row) == en


def test_a_payment_method_reads_in_the_readers_language():
    stored_in_english = SimpleNamespace(code="vietqr", name="VietQR bank transfer")
    with translation.override("vi"):
        assert labels.method_label(stored_in_english) == "Chuyển khoản ngân hàng qua VietQR"
    assert labels.method_label(None) == ""


@pytest.mark.django_db
def test_the_operators_order_page_shows_paid_in_vietnamese(demo):
    User = get_user_model()
    buyer = Client()
    buyer.force_login(User.objects.get(email="nguoimua@nongsan.test"))
    order = checkout(buyer, {"NS0005": 1}, method="vietqr")
    record_payment(order, method="vietqr", amount=order.total_incl_tax, reference="FT1")
    operator = Client()
    operator.force_login(User.objects.get(email="quantri@nongsan.test"))
    page = operator.get(f"/dashboard/orders/{order.number}/").content.decode()
    cells = re.findall(r"<td[^>]*>\s*([^<]+?)\s*</td>", page)
    assert "Đã trả" in cells  # the payment event
    assert "Chuyển khoản ngân hàng qua VietQR" in cells  # the payment source and its transaction
    assert "Paid" not in cells and "VietQR bank transfer" not in cells
    assert '<option value="paid">Đã trả</option>' in page  # "create payment event"
    english = operator.get(f"/en/dashboard/orders/{order.number}/").content.decode()
    assert "Paid" in re.findall(r"<td[^>]*>\s*([^<]+?)\s*</td>", english)
