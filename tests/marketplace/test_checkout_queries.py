"""Query budgets of the checkout, page by page: the journey bench/checkout.py times (a guest
buys durian from Đắk Lắk and pepper from Gia Lai, cash on delivery), so that what made it
faster stays (marketplace.payments.basket_middleware, marketplace.catalogue.strategy,
shipping.basket_quote). Each page still does what the buyer sees."""

import pytest
from django.utils import translation
from oscar.core.loading import get_model

from marketplace.models import MarketplaceSettings, Parcel
from marketplace.payments.basket_add import options_exist
from marketplace.payments.offers import offers_exist
from tests.marketplace.test_checkout_address import GOOD

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

DURIAN, PEPPER = "NS0005", "NS0009"  # two producers: two parcels

# Queries each page may make here (the test database's savepoints included). The same
# in-process journey made 24, 32, 19, 17, 18, 20, 21, 28, 32, 82 and 24 queries on these
# pages before the basket was read once a request (bench/checkout_profile.py); then
# 23, 29, 14, 13, 14, 15, 18, 16, 30, 66 and 24 before a line's options were read only for
# lines that have some, offers looked for only while some exist, the delivery rates cached
# and the producers read with the lines; then (without the delivery-method and
# payment-method steps, which the address step now skips) 22, 25, 10, 9, 10, 9, 23, 59 and
# 23 before adding to the basket used the lines the middleware read
# (marketplace.payments.basket_add), a guest's basket was read with its lines, the
# marketplace settings were cached, an order's stock records were locked and reserved
# together (marketplace.catalogue.stock.reserve_lines) and the thank-you page read the
# order with what it shows (marketplace.payments.selectors.placed_order); the gateway and
# the address POST then made 8 each with a new session's key no longer looked up first
# (marketplace.core.sessions) and the shipping countries read from the cache; then 39 to
# place the order before its stock records were locked last and their allocations,
# low-stock alerts and search rows written and read together (marketplace.payments.orders.
# reserve_stock_of) and its parcels written collecting cash on delivery. The payment page
# shows the order and places it (no preview step). Then 8, 8, 8, 17, 35 and 9 on the
# pages from the gateway on, before a product's photos and weight were kept in the cache
# (basket_middleware.prefetch_images, shipping.product_weights), the order was written
# without Oscar's look-up of its number, its savepoint and its voucher queries while no
# voucher exists (orders.OrderCreator), the products bought were counted in one UPDATE
# after the commit (core.analytics.count_purchases) and the thank-you page no longer
# marked the order tracked for an analytics event it does not send; then 28 to place the
# order before its
# lines and their prices were written in one INSERT each (orders.OrderCreator.create_lines)
# and the search rows were read after the reservation only for a record left with nothing
# to sell. (Oscar's freeze of the basket, its own UPDATE before the order's transaction,
# stays for every method: an item another tab adds meanwhile then goes to a new basket
# instead of one being submitted.) Each budget: measured + 1.
BUDGETS = {
    "add durian": 10,
    "add pepper": 11,
    "guest gateway": 7,
    "shipping address": 6,  # the delivery rates read here, then from the cache
    "shipping address POST": 6,
    "payment details": 14,  # the lines' thumbnails made here the first time
    "place order POST": 26,
    "thank you": 6,
}


@pytest.mark.django_db
def test_each_checkout_page_keeps_its_query_budget(client, demo, django_assert_max_num_queries):
    durian, pepper = (Product.objects.get(upc=upc) for upc in (DURIAN, PEPPER))
    allocated = dict(StockRecord.objects.values_list("pk", "num_allocated"))
    client.get("/basket/")
    offers_exist()  # known, as on a site that has served a page (marketplace.payments.offers)
    MarketplaceSettings.load()  # its row exists, as on a site that has served a page
    options_exist()  # and whether product options exist (marketplace.payments.basket_add)

    def visit(name, method, path, data=None, status=302):
        call = getattr(client, method)
        with django_assert_max_num_queries(BUDGETS[name]):
            response = call(path, data) if data else call(path)
        assert response.status_code == status, (name, response.content.decode()[:1000])
        return response

    with translation.override("vi"):
        visit("add durian", "post", f"/basket/add/{durian.pk}/", {"quantity": 1})
        visit("add pepper", "post", f"/basket/add/{pepper.pk}/", {"quantity": 2})
        visit(
            "guest gateway",
            "post",
            "/checkout/",
            {"username": "hoa@example.vn", "options": "anonymous", "password": ""},
        )
        page = visit("shipping address", "get", "/checkout/shipping-address/", status=200)
        assert 'name="commune"' in page.content.decode()  # the address form
        assert 'value="Ea Kao"' not in page.content.decode()  # empty for a new guest
        # One delivery method: the address step records it and goes straight to payment
        # (no round trips through the delivery-method and payment-method steps).
        response = visit("shipping address POST", "post", "/checkout/shipping-address/", GOOD)
        assert response["Location"] == "/checkout/payment-details/"
        # The payment page confirms the order: address, contents, totals, the methods.
        page = visit("payment details", "get", "/checkout/payment-details/", status=200)
        assert 'value="cod"' in page.content.decode()
        assert "Ea Kao" in page.content.decode()  # the address the buyer typed
        placed = visit(
            "place order POST",
            "post",
            "/checkout/preview/",
            {"action": "place_order", "method": "cod"},
        )
        assert "thank-you" in placed["Location"]
        page = visit("thank you", "get", "/checkout/thank-you/", status=200).content.decode()

    order = Order.objects.get()
    assert order.number in page
    assert durian.title in page and pepper.title in page
    # Priced and reserved as the buyer saw it: one parcel per producer, the stock held.
    parcels = Parcel.objects.filter(order=order)
    assert parcels.count() == 2
    assert order.total_incl_tax == sum(p.goods_total + p.shipping_charge for p in parcels)
    for line in order.lines.all():
        before = allocated[line.stockrecord_id] or 0
        assert line.stockrecord.num_allocated == before + line.quantity


@pytest.mark.django_db
def test_an_orders_stock_records_are_locked_last(client, demo):
    """Every buyer of a product waits for its stock record while an order holds it locked:
    the order, its lines, parcels, payment source and the basket's submission are written
    first, and only the reservation (one UPDATE, the low-stock alerts read once, the search
    rows only for a record left with nothing to sell) comes between the lock and the end
    of the request's transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    durian, pepper = (Product.objects.get(upc=upc) for upc in (DURIAN, PEPPER))
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
    client.post(f"/basket/add/{pepper.pk}/", {"quantity": 2})
    client.post("/checkout/", {"username": "hoa@example.vn", "options": "anonymous"})
    client.post("/checkout/shipping-address/", GOOD)
    with translation.override("vi"):
        client.post("/checkout/preview/", {"method": "cod"})
        with CaptureQueriesContext(connection) as queries:
            placed = client.post("/checkout/preview/", {"action": "place_order"})
    assert "thank-you" in placed["Location"]
    sql = [query["sql"] for query in queries.captured_queries]
    lock = next(
        i for i, q in enumerate(sql) if q.startswith("SELECT") and 'FROM "partner_stockrecord"' in q
    )
    before = " ".join(sql[:lock])
    for written in ('INSERT INTO "order_order"', 'INSERT INTO "marketplace_parcel"'):
        assert written in before
    assert 'INSERT INTO "payment_source"' in before and "'Submitted'" in before
    # (savepoints, and the session saved once the view has answered)
    skipped = ("SAVEPOINT", "RELEASE SAVEPOINT", 'UPDATE "django_session"')
    after = [q for q in sql[lock + 1 :] if not q.startswith(skipped)]
    assert len(after) == 2, after  # plenty left: still in stock, the search rows as they were
    assert after[0].startswith('UPDATE "partner_stockrecord"')
    assert '"partner_stockalert"' in after[1]
    order = Order.objects.get()
    assert not Parcel.objects.filter(order=order).exclude(cod_amount__gt=0).exists()
