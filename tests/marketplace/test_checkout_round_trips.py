"""What the checkout no longer asks the database on every page or order still holds when it
changes: a product's photos and weight (kept in the cache until their rows change), the
an order number already used, a voucher, the products counted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.fulfilment import shipping
from tests.marketplace.orders import checkout
from tests.marketplace.test_farmer_products import users
from tests.marketplace.test_no_overselling import basket_for, place

Basket = get_model("basket", "Basket")
Benefit = get_model("offer", "Benefit")
Condition = get_model("offer", "Condition")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
ProductRecord = get_model("analytics", "ProductRecord")
Range = get_model("offer", "Range")
StockRecord = get_model("partner", "StockRecord")
Voucher = get_model("voucher", "Voucher")

DURIAN, PEPPER = "NS0005", "NS0009"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def parcel_weight(client):
    basket = client.get("/basket/").context["basket"]
    (parcel,) = shipping.parcels_of(basket)
    return parcel.weight_kg


@pytest.mark.django_db
def test_a_new_weight_prices_the_next_page_of_a_basket_already_quoted(client, demo):
    durian = Product.objects.get(upc=DURIAN)
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 2})
    before = parcel_weight(client)  # now in the cache
    durian.attr.weight = float(before / 2) + 1.5  # a 1.5 kg heavier fruit
    durian.save()  # as the producer's edit saves it (Oscar writes the values in bulk)
    assert parcel_weight(client) == before + 3


@pytest.mark.django_db
def test_a_photo_added_or_removed_shows_on_the_next_page(client, demo):
    durian = Product.objects.get(upc=DURIAN)
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})

    def photos():
        basket = client.get("/basket/").context["basket"]
        return [image.caption for image in basket.all_lines()[0].product.images.all()]

    shown = photos()  # now in the cache
    image = ProductImage.objects.create(
        product=durian,
        original=SimpleUploadedFile("mui.png", PNG, content_type="image/png"),
        caption="Múi vàng",
        display_order=99,
    )
    assert photos() == [*shown, "Múi vàng"]
    image.delete()
    assert photos() == shown


@pytest.mark.django_db
def test_an_order_number_used_already_places_nothing(demo):
    buyer = users()["buyer"]
    durian = Product.objects.get(upc=DURIAN)
    place(basket_for(buyer, durian, 1), buyer, "NS-T7")
    allocated = durian.stockrecords.get().num_allocated
    with pytest.raises(IntegrityError):
        place(basket_for(buyer, durian, 2), buyer, "NS-T7")
    assert Order.objects.filter(number="NS-T7").get().lines.get().quantity == 1
    assert durian.stockrecords.get().num_allocated == allocated


@pytest.mark.django_db
def test_an_order_with_a_voucher_records_its_use(client, demo):
    everything = Range.objects.create(name="Everything", includes_all_products=True)
    offer = ConditionalOffer.objects.create(
        name="Tết",
        offer_type=ConditionalOffer.VOUCHER,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=10),
    )
    now = timezone.now()
    voucher = Voucher.objects.create(
        name="Tết", code="TET2027", start_datetime=now, end_datetime=now + timedelta(days=3)
    )
    voucher.offers.add(offer)
    durian = Product.objects.get(upc=DURIAN)
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
    client.post("/basket/vouchers/add/", {"code": "TET2027"})
    order = checkout(client, {}, guest_email="hoa@example.vn")
    voucher.refresh_from_db()
    assert voucher.num_orders == 1
    assert order.discounts.get().voucher_code == "TET2027"
    assert order.total_excl_tax < order.basket_total_before_discounts_excl_tax + Decimal(
        order.shipping_excl_tax
    )


@pytest.mark.django_db
def test_the_products_of_an_order_are_counted_even_the_first_time(
    client, demo, django_capture_on_commit_callbacks
):
    durian, pepper = (Product.objects.get(upc=upc) for upc in (DURIAN, PEPPER))
    ProductRecord.objects.filter(product=pepper).delete()
    before = (
        ProductRecord.objects.filter(product=durian).values_list("num_purchases", flat=True).first()
    )
    with django_capture_on_commit_callbacks(execute=True):
        checkout(client, {DURIAN: 2, PEPPER: 3}, guest_email="hoa@example.vn")
    assert ProductRecord.objects.get(product=durian).num_purchases == (before or 0) + 2
    assert ProductRecord.objects.get(product=pepper).num_purchases == 3


@pytest.mark.django_db
def test_an_order_that_takes_the_last_units_takes_the_product_out_of_search(demo):
    from unittest import mock

    from marketplace.catalogue import stock
    from marketplace.models import SearchEntry
    from marketplace.search import indexing

    record = StockRecord.objects.get(product__upc=PEPPER)
    record.num_in_stock, record.num_allocated = 3, 0
    record.save()
    with mock.patch.object(indexing, "index_products", wraps=indexing.index_products) as rebuild:
        stock.reserve_lines([(record, 1, None)])  # as an order placed
        assert rebuild.call_count == 0  # two left: still in stock, the row not read either
        assert SearchEntry.objects.get(product_id=record.product_id).in_stock
        stock.reserve_lines([(record, 2, None)])  # the last ones
        assert not SearchEntry.objects.get(product_id=record.product_id).in_stock
