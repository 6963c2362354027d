"""Oscar's analytics counters are added after the commit, outside the order's locks."""

import pytest
from oscar.apps.analytics import receivers as oscar_receivers
from oscar.apps.basket.signals import basket_addition
from oscar.apps.order.signals import order_placed
from oscar.core.loading import get_model

from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import users

ProductRecord = get_model("analytics", "ProductRecord")
Product = get_model("catalogue", "Product")


def connected(signal):
    return signal._live_receivers(sender=None)[0]


def test_oscars_own_receivers_are_no_longer_connected():
    assert oscar_receivers.receive_order_placed not in connected(order_placed)
    assert oscar_receivers.receive_basket_addition not in connected(basket_addition)
    assert len(connected(basket_addition)) == 1


@pytest.mark.django_db
def test_counters_wait_for_the_commit_then_count_once(
    client, demo, django_capture_on_commit_callbacks
):
    client.force_login(users()["buyer"])
    durian = Product.objects.get(upc="NS0005")
    with django_capture_on_commit_callbacks(execute=False) as pending:
        checkout(client, {"NS0005": 2})
    assert not ProductRecord.objects.filter(product=durian, num_purchases__gt=0).exists()
    for callback in pending:
        callback()
    record = ProductRecord.objects.get(product=durian)
    assert record.num_purchases == 2 and record.num_basket_additions == 1
