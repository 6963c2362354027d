"""What the basket middleware leaves out each request (marketplace.payments.basket_middleware)
never changes what the buyer gets: offers are looked for again as soon as one exists, and
a line added with options keeps them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from marketplace.payments.basket_middleware import _has_options, no_attributes
from marketplace.payments.offers import offers_exist

Basket = get_model("basket", "Basket")
Benefit = get_model("offer", "Benefit")
Condition = get_model("offer", "Condition")
ConditionalOffer = get_model("offer", "ConditionalOffer")
Option = get_model("catalogue", "Option")
Product = get_model("catalogue", "Product")
Range = get_model("offer", "Range")
Voucher = get_model("voucher", "Voucher")
Selector = get_class("partner.strategy", "Selector")


@pytest.mark.django_db
def test_offers_are_looked_for_again_once_a_voucher_exists(demo):
    assert offers_exist() == (False, False)  # remembered
    now = timezone.now()
    voucher = Voucher.objects.create(
        name="Tết", code="TET2027", start_datetime=now, end_datetime=now + timedelta(days=3)
    )
    assert offers_exist() == (False, True)
    voucher.delete()
    assert offers_exist() == (False, False)


@pytest.mark.django_db
def test_a_site_offer_made_after_the_site_remembered_none_still_applies(client, demo):
    assert offers_exist() == (False, False)  # remembered, as on a running site
    everything = Range.objects.create(name="Everything", includes_all_products=True)
    ConditionalOffer.objects.create(
        name="Mùa sầu riêng",
        offer_type=ConditionalOffer.SITE,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=10),
    )
    durian = Product.objects.get(upc="NS0005")
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
    basket = client.get("/basket/").context["basket"]
    assert [d["name"] for d in basket.offer_discounts] == ["Mùa sầu riêng"]
    assert basket.total_incl_tax < basket.total_incl_tax_excl_discounts


@pytest.mark.django_db
def test_a_line_added_with_options_keeps_them(demo, django_assert_num_queries):
    durian, pepper = (Product.objects.get(upc=upc) for upc in ("NS0005", "NS0009"))
    note = Option.objects.create(name="Gift note", code="gift-note", type=Option.TEXT)
    basket = Basket.objects.create()
    basket.strategy = Selector().strategy()
    basket.add_product(durian, 1, options=[{"option": note, "value": "Chúc mừng năm mới"}])
    basket.add_product(pepper, 1)
    with_note, plain = basket.lines.order_by("pk")
    assert _has_options(with_note) and not _has_options(plain)
    assert [a.value for a in with_note.attributes.all()] == ["Chúc mừng năm mới"]
    no_attributes(plain)
    with django_assert_num_queries(0):
        assert list(plain.attributes.all()) == []


@pytest.mark.django_db
def test_oscars_basket_page_and_add_message_load_the_quiet_applicator(client, demo):
    """Every place Oscar loads its applicator (the basket page's offer hints, the message
    after adding) gets this one: no offer or voucher query while none exists, Oscar's
    hint as soon as an offer is partly met."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from oscar.apps.basket import utils, views

    from marketplace.payments import offers

    assert views.Applicator is offers.Applicator and utils.Applicator is offers.Applicator
    durian = Product.objects.get(upc="NS0005")
    assert offers_exist() == (False, False)
    with CaptureQueriesContext(connection) as queries:
        client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
        assert client.get("/basket/").status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "offer_conditionaloffer" not in sql and "voucher_voucher" not in sql

    everything = Range.objects.create(name="Everything", includes_all_products=True)
    ConditionalOffer.objects.create(
        name="Mua 3 tặng 10%",
        offer_type=ConditionalOffer.SITE,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=3),
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=10),
    )
    page = client.get("/basket/")
    assert [m["offer"].name for m in page.context["upsell_messages"]] == ["Mua 3 tặng 10%"]


@pytest.mark.django_db
def test_a_guests_lines_read_by_the_prepared_query_are_the_orms(demo):
    """The guest basket's one query is prepared (compiled once per connection): the lines,
    their basket, product, class, stock record, partner and profile are the ORM's; an
    ordered basket, a key that is not a number or out of range give nothing."""
    from marketplace.payments import basket_middleware

    durian, pepper = (Product.objects.get(upc=upc) for upc in ("NS0005", "NS0009"))
    basket = Basket.objects.create()
    basket.strategy = Selector().strategy()
    basket.add_product(durian, 2)
    basket.add_product(pepper, 1)

    def shape(lines):
        return [
            (
                line.pk,
                line.quantity,
                line.price_incl_tax,
                line.basket.pk,
                line.basket.status,
                line.product.title,
                line.product.product_class.requires_shipping,
                line.stockrecord.partner.name,
                line.stockrecord.partner.producer_profile.province_code,
            )
            for line in lines
        ]

    orm = basket_middleware._read(
        basket.lines.filter(basket__owner=None, basket__status=Basket.OPEN).select_related("basket")
    )
    for _ in range(2):  # compiled, then only run
        assert shape(basket_middleware._guest_lines(str(basket.pk))) == shape(orm)
    basket.submit()
    assert basket_middleware._guest_lines(str(basket.pk)) == []
    for bad in ("abc", "-3", str(2**63), "²"):
        assert basket_middleware._guest_lines(bad) == []


@pytest.mark.django_db
def test_the_lines_photos_are_the_prefetched_ones_without_another_query(demo):
    from django.db import connection
    from django.db.models import prefetch_related_objects
    from django.test.utils import CaptureQueriesContext

    from marketplace.payments import basket_middleware

    ProductImage = get_model("catalogue", "ProductImage")
    durian, pepper = (Product.objects.get(upc=upc) for upc in ("NS0005", "NS0009"))
    second = ProductImage.objects.get(product=durian)
    ProductImage.objects.filter(pk=second.pk).update(display_order=5)
    ProductImage.objects.create(product=durian, original=second.original, display_order=1)
    basket = Basket.objects.create()
    basket.strategy = Selector().strategy()
    basket.add_product(durian, 1)
    basket.add_product(pepper, 1)

    expected = basket_middleware._guest_lines(str(basket.pk))
    prefetch_related_objects(expected, "product__images")
    lines = basket_middleware._complete(basket_middleware._guest_lines(str(basket.pk)))
    with CaptureQueriesContext(connection) as queries:
        got = [[(i.pk, i.product.pk) for i in line.product.images.all()] for line in lines]
        primary = [line.product.primary_image().pk for line in lines]
    assert not queries.captured_queries
    assert got == [[(i.pk, i.product.pk) for i in line.product.images.all()] for line in expected]
    assert primary == [line.product.primary_image().pk for line in expected]
    assert got[0][0][0] != second.pk  # display order: the new first photo first
