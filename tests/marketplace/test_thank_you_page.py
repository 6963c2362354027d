"""The thank-you page reads the order with what it shows (marketplace.payments.selectors):
its discounts and surcharges when it has some, as Oscar's totals show them; the guest's
browser remembers the order from its placement, and its basket cookie goes with it."""

from decimal import Decimal

import pytest
from django.conf import settings
from oscar.core.loading import get_model

from marketplace.accounts import guest_orders
from marketplace.payments import selectors
from tests.marketplace.orders import checkout

OrderDiscount = get_model("order", "OrderDiscount")
Surcharge = get_model("order", "Surcharge")


@pytest.mark.django_db
def test_discounts_and_surcharges_show_when_the_order_has_some(client, demo):
    order = checkout(client, {"NS0005": 1}, guest_email="hoa@example.vn")
    assert (
        settings.OSCAR_BASKET_COOKIE_OPEN not in client.cookies
        or not client.cookies[settings.OSCAR_BASKET_COOKIE_OPEN].value
    )  # the submitted basket's cookie went with the order
    assert guest_orders.is_known(client.session, order)
    page = client.get("/checkout/thank-you/").content.decode()
    assert "Mùa vụ" not in page and "Phí đóng gói" not in page
    OrderDiscount.objects.create(
        order=order, category="Basket", offer_name="Mùa vụ", amount=Decimal("10000")
    )
    OrderDiscount.objects.create(
        order=order, category="Deferred", offer_name="Quà", message="Tặng kèm túi vải"
    )
    Surcharge.objects.create(
        order=order, name="Phí đóng gói", code="pack", incl_tax=Decimal("5000"), excl_tax=0
    )
    read = selectors.placed_order(pk=order.pk)
    kinds = selectors.order_discounts(read)
    assert [d.offer_name for d in kinds["basket"]] == ["Mùa vụ"]
    assert kinds["shipping"] == [] and [d.message for d in kinds["deferred"]] == [
        "Tặng kèm túi vải"
    ]
    assert [s.name for s in read.surcharges.all()] == ["Phí đóng gói"]
    page = client.get("/checkout/thank-you/").content.decode()
    assert "Phí đóng gói" in page and "Tặng kèm túi vải" in page
    assert "Basket total (after discounts)" in page or "sau giảm giá" in page.lower()
    assert not read.has_refunds and 'class="nongsan-refund-list"' not in page


@pytest.mark.django_db
def test_a_refund_shows_when_the_order_has_one(client, demo):
    from marketplace.payments.models import Refund

    order = checkout(client, {"NS0005": 1}, guest_email="hoa@example.vn")
    Refund.objects.create(
        order=order, source=order.sources.get(), amount=Decimal("7000"), reason="Dập"
    )
    assert selectors.placed_order(pk=order.pk).has_refunds
    page = client.get("/checkout/thank-you/").content.decode()
    assert 'class="nongsan-refund-list"' in page and "(Dập)" in page


@pytest.mark.django_db
def test_the_thank_you_page_writes_nothing(client, demo):
    """It only reads (on SQLite a write waits for the one write lock, behind every order
    being placed): no "analytics tracked" mark, as nongsan sends no tracker."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = checkout(client, {"NS0005": 1}, guest_email="hoa@example.vn")
    for _view in range(2):
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/checkout/thank-you/").content.decode()
        assert order.number in page
        assert "gtag(" not in page
        written = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
        assert written == []
