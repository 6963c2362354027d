"""An order with lines from two producers: each producer's dashboard shows only its own.

Oscar lets a partner user open an order that has one of their lines, then shows all of
its lines; the fork in marketplace.dashboard.orders limits the lines (the page, the line
actions and the line detail page) to the user's own partners. The operator sees all.
"""

import pytest
from django.test import Client
from oscar.core.loading import get_class, get_model
from oscar.test.factories import create_order

from marketplace.shops.services import grant_dashboard_access
from tests.marketplace.test_farmer_products import client_for, page_text, producer, users

Basket = get_model("basket", "Basket")
Product = get_model("catalogue", "Product")
Line = get_model("order", "Line")
Default = get_class("partner.strategy", "Default")

DURIAN = "NS0005"  # the demo farmer's shop (Krông Pắc)
COFFEE = "NS0001"  # the Ea Kiết cooperative


@pytest.fixture
def order(demo):
    people = users()
    basket = Basket.objects.create(owner=people["buyer"])
    basket.strategy = Default()
    for upc in (DURIAN, COFFEE):
        basket.add_product(Product.objects.get(upc=upc), quantity=2)
    return create_order(number="NS-100001", basket=basket, user=people["buyer"])


def lines_by_partner(order):
    return {line.partner.name: line for line in order.lines.select_related("partner")}


@pytest.mark.django_db
def test_the_order_really_has_lines_of_two_producers(order):
    names = set(lines_by_partner(order))
    assert names == {producer("krongpac").partner.name, producer("eakiet").partner.name}


@pytest.mark.django_db
def test_a_partner_user_sees_only_their_own_lines(order):
    people = users()
    durian, coffee = Product.objects.get(upc=DURIAN), Product.objects.get(upc=COFFEE)
    farmer = client_for(people["farmer"])
    response = farmer.get(f"/dashboard/orders/{order.number}/")
    assert response.status_code == 200
    assert [line.product_id for line in response.context["lines"]] == [durian.pk]
    page = page_text(response)
    assert durian.title in page
    assert coffee.title not in page

    operator = client_for(people["operator"])
    response = operator.get(f"/dashboard/orders/{order.number}/")
    assert response.status_code == 200
    assert {line.product_id for line in response.context["lines"]} == {durian.pk, coffee.pk}
    page = page_text(response)
    assert durian.title in page and coffee.title in page


@pytest.mark.django_db
def test_a_partner_user_cannot_open_or_act_on_another_producers_line(order):
    people = users()
    lines = lines_by_partner(order)
    own = lines[producer("krongpac").partner.name]
    other = lines[producer("eakiet").partner.name]
    farmer = client_for(people["farmer"])
    base = f"/dashboard/orders/{order.number}/"
    assert farmer.get(f"{base}lines/{own.pk}/").status_code == 200
    assert farmer.get(f"{base}lines/{other.pk}/").status_code == 404

    response = farmer.post(
        base,
        {
            "line_action": "change_line_statuses",
            "selected_line": [other.pk],
            f"selected_line_qty_{other.pk}": "2",
            "new_status": "Shipped",
        },
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status != "Shipped"


@pytest.mark.django_db
def test_a_user_of_the_other_producer_sees_only_theirs(order):
    people = users()
    eakiet = producer("eakiet")
    staff_of_coop = people["other_farmer"]
    eakiet.partner.users.add(staff_of_coop)
    grant_dashboard_access(staff_of_coop)
    response = client_for(staff_of_coop).get(f"/dashboard/orders/{order.number}/")
    assert response.status_code == 200
    assert [line.partner_id for line in response.context["lines"]] == [eakiet.partner_id]


@pytest.mark.django_db
def test_others_cannot_open_the_order_at_all(order):
    people = users()
    url = f"/dashboard/orders/{order.number}/"
    assert Client().get(url).status_code == 302  # to sign in
    assert client_for(people["buyer"]).get(url).status_code in (302, 403)
    # A producer with no line in this order: Oscar's own rule, kept.
    assert client_for(people["other_farmer"]).get(url).status_code == 404
