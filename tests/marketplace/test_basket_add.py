"""Adding to the basket with the lines the middleware read (marketplace.payments.basket_add)
and the guest's basket read with its lines (marketplace.payments.basket_middleware) still
do what Oscar's do: the line grows, the message gives the new total, the stock counts what
the basket holds, options are asked for as soon as one exists, a business buyer's line
follows its price break, and an ordered basket is never opened again."""

import html
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from oscar.core.loading import get_model

from marketplace.models import MarketplaceSettings
from tests.marketplace.test_farmer_products import client_for, users
from tests.marketplace.test_wholesale import approve, trade  # noqa: F401  (fixture)

Basket = get_model("basket", "Basket")
Option = get_model("catalogue", "Option")
Product = get_model("catalogue", "Product")


def add(client, product, quantity, **data):
    return client.post(
        reverse("basket:add", kwargs={"pk": product.pk}),
        {"quantity": quantity, **data},
        follow=True,
    )


def messages_of(response) -> str:
    return html.unescape(" ".join(str(m) for m in response.context["messages"]))


@pytest.mark.django_db
def test_adding_again_grows_the_line_and_the_message_gives_the_new_total(client, demo):
    rice, pepper = (Product.objects.get(upc=upc) for upc in ("NS0025", "NS0009"))
    add(client, rice, 1)
    response = add(client, rice, 2)
    assert "555.000" in messages_of(response)  # 3 × 185.000 ₫
    response = add(client, pepper, 1)
    basket = client.get("/basket/").context["basket"]
    total = 3 * 185000 + basket.all_lines()[1].unit_price_incl_tax
    assert f"{total:,.0f}".replace(",", ".") in messages_of(response)
    assert [(line.product, line.quantity) for line in basket.all_lines()] == [
        (rice, 3),
        (pepper, 1),
    ]
    assert basket.total_incl_tax == total


@pytest.mark.django_db
def test_the_stock_check_counts_what_the_basket_already_holds(client, demo):
    product = Product.objects.get(upc="NS0013")  # 12 in stock
    add(client, product, 10)
    response = add(client, product, 5)
    assert "12" in messages_of(response)
    assert client.get("/basket/").context["basket"].num_items == 10


@pytest.mark.django_db
def test_options_are_asked_for_as_soon_as_one_exists(client, demo):
    durian = Product.objects.get(upc="NS0005")
    add(client, durian, 1)  # no option anywhere: remembered
    note = Option.objects.create(name="Gift note", code="gift-note", type=Option.TEXT)
    durian.product_options.add(note)
    add(client, durian, 1, **{"gift-note": "Chúc mừng năm mới"})
    plain, with_note = client.get("/basket/").context["basket"].all_lines()
    assert plain.quantity == 1 and list(plain.attributes.all()) == []
    assert [a.value for a in with_note.attributes.all()] == ["Chúc mừng năm mới"]


@pytest.mark.django_db
def test_a_business_buyer_line_follows_its_break_when_it_grows(trade):  # noqa: F811
    approve(trade)
    client = client_for(trade["buyer"])
    add(client, trade["durian"], 9)
    response = add(client, trade["durian"], 1)
    assert "1.000.000" in messages_of(response)  # 10 × 100.000 ₫, the break
    [line] = client.get("/basket/").context["basket"].all_lines()
    assert line.quantity == 10 and line.unit_price_incl_tax == Decimal(100000)
    assert line.get_warning() is None


@pytest.mark.django_db
def test_an_ordered_basket_is_not_opened_again(client, demo):
    add(client, Product.objects.get(upc="NS0025"), 1)
    Basket.objects.get().submit()
    page = client.get("/basket/")
    assert page.context["basket"].num_items == 0
    assert page.cookies[settings.OSCAR_BASKET_COOKIE_OPEN]["max-age"] == 0  # deleted


@pytest.mark.django_db
def test_the_marketplace_settings_are_read_once_until_saved(demo, django_assert_num_queries):
    row = MarketplaceSettings.load()
    with django_assert_num_queries(0):
        assert MarketplaceSettings.load().cod_max_amount == row.cod_max_amount
    row = MarketplaceSettings.load(fresh=True)
    row.cod_max_amount = 1234000
    row.save()
    assert MarketplaceSettings.load().cod_max_amount == 1234000


@pytest.mark.django_db
def test_the_basket_page_reads_its_lines_once(client, demo, django_assert_max_num_queries):
    for upc in ("NS0025", "NS0009", "NS0005"):
        add(client, Product.objects.get(upc=upc), 1)
    client.get("/basket/")
    # The lines with their basket, their images, the products' weights; no offer queries
    # while none exist (Oscar's view and middleware made 9 here, savepoints included).
    with django_assert_max_num_queries(6):
        page = client.get("/basket/")
    assert page.context["basket"].num_items == 3
    assert "Gạo ST25" in page.content.decode()


@pytest.mark.django_db
def test_a_guest_basket_joins_the_buyers_basket_on_signing_in(client, demo):
    rice = Product.objects.get(upc="NS0025")
    add(client, rice, 2)
    buyer = users()["buyer"]
    client.force_login(buyer)
    page = client.get("/basket/")
    basket = page.context["basket"]
    assert basket.owner == buyer
    assert [(line.product, line.quantity) for line in basket.all_lines()] == [(rice, 2)]
    assert page.cookies[settings.OSCAR_BASKET_COOKIE_OPEN]["max-age"] == 0
    assert Basket.objects.filter(status=Basket.MERGED).count() == 1
