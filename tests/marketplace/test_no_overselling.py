"""Nothing is oversold: stock is locked and re-checked inside the order placement
transaction (Oscar's own allocation does not look at what is left)."""

import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.utils import translation
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.apps.shipping.methods import Free
from oscar.core import prices
from oscar.core.loading import get_class, get_model

from tests.conftest import need
from tests.marketplace.test_checkout_address import GOOD
from tests.marketplace.test_farmer_products import users

OrderCreator = get_class("order.utils", "OrderCreator")
Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Default = get_class("partner.strategy", "Default")

DURIAN = "NS0005"


def basket_for(user, product, quantity):
    basket = Basket.objects.create(owner=user)
    basket.strategy = Default()
    basket.add_product(product, quantity=quantity)
    return basket


def place(basket, user, number):
    total = basket.total_incl_tax
    return OrderCreator().place_order(
        basket=basket,
        total=prices.Price(currency="VND", excl_tax=total, incl_tax=total),
        shipping_method=Free(),
        shipping_charge=prices.Price(currency="VND", excl_tax=Decimal(0), incl_tax=Decimal(0)),
        user=user,
        order_number=number,
    )


def test_checkout_places_orders_with_the_locking_creator():
    assert OrderCreator.__module__ == "marketplace.payments.orders"


@pytest.mark.django_db
def test_a_basket_asking_for_more_than_is_left_is_refused_and_nothing_changes(demo):
    buyer = users()["buyer"]
    durian = Product.objects.get(upc=DURIAN)
    record = durian.stockrecords.get()
    StockRecord.objects.filter(pk=record.pk).update(num_in_stock=3, num_allocated=1)
    basket = basket_for(buyer, durian, 3)
    with translation.override("en"), pytest.raises(UnableToPlaceOrder, match="Only 2 of"):
        place(basket, buyer, "NS-T1")
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (3, 1)
    assert not Order.objects.filter(number="NS-T1").exists()

    StockRecord.objects.filter(pk=record.pk).update(num_allocated=3)
    with translation.override("en"), pytest.raises(UnableToPlaceOrder, match="just sold out"):
        place(basket_for(buyer, durian, 1), buyer, "NS-T2")


@pytest.mark.django_db
def test_what_is_left_can_be_bought(demo):
    buyer = users()["buyer"]
    durian = Product.objects.get(upc=DURIAN)
    StockRecord.objects.filter(product=durian).update(num_in_stock=3, num_allocated=1)
    order = place(basket_for(buyer, durian, 2), buyer, "NS-T3")
    assert order.lines.get().quantity == 2
    assert durian.stockrecords.get().num_allocated == 3


@pytest.mark.django_db
def test_a_sell_out_during_checkout_sends_the_buyer_back_to_the_basket(client, demo):
    client.force_login(users()["buyer"])
    durian = Product.objects.get(upc=DURIAN)
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 2})
    client.post("/checkout/shipping-address/", GOOD)
    client.get("/checkout/shipping-method/")  # one method: Oscar records it and goes on
    client.get("/checkout/payment-method/")
    assert client.get("/checkout/preview/").status_code == 200
    # Meanwhile somebody else buys all but one.
    StockRecord.objects.filter(product=durian).update(num_in_stock=5, num_allocated=4)

    response = client.post("/checkout/preview/", {"action": "place_order"}, follow=True)

    assert response.redirect_chain[-1][0] == "/basket/"
    assert not Order.objects.exists()
    assert durian.stockrecords.get().num_allocated == 4
    assert response.context["basket"].num_items == 2  # nothing lost: the buyer lowers it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_checkouts_for_ten_units_make_exactly_ten_orders(django_db_setup):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    durian = Product.objects.get(upc=DURIAN)
    StockRecord.objects.filter(product=durian).update(num_in_stock=10, num_allocated=0)
    User = get_user_model()
    baskets = []
    for i in range(50):
        user = User.objects.create_user(username=f"buyer{i}", email=f"buyer{i}@example.com")
        baskets.append((user, basket_for(user, durian, 1)))

    placed, refused, errors = [], [], []
    start = threading.Barrier(50)

    def checkout(i, user, basket):
        try:
            start.wait()
            placed.append(place(basket, user, f"NS-C{i:03d}").number)
        except UnableToPlaceOrder as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=checkout, args=(i, user, basket))
        for i, (user, basket) in enumerate(baskets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(placed) == 10
    assert len(refused) == 40
    assert all("Sầu riêng Ri6 Krông Pắc" in message for message in refused)
    record = durian.stockrecords.get()
    assert record.num_allocated == 10
    assert Order.objects.count() == 10
