"""Oscar's address for one line of an order (/accounts/orders/<number>/<line>/) is where the
order page's "Mua lại" form posts; opened in a browser it shows the order, never a 500."""

import pytest
from django.test import Client

from tests.marketplace import test_fulfilment as shared
from tests.marketplace.orders import checkout
from tests.marketplace.test_cancellation_pages import signed_in
from tests.marketplace.test_fulfilment import make_user

people = shared.people


@pytest.mark.django_db
def test_opening_a_line_shows_its_order_and_buying_it_again_fills_the_basket(people):
    buyer = signed_in(people["buyer"])
    order = checkout(buyer, {"NS0005": 1})
    line = order.lines.get()
    url = f"/accounts/orders/{order.number}/{line.pk}/"
    response = buyer.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/accounts/orders/{order.number}/")
    # Another order's line, another buyer, a signed-out visitor: nothing shown, no 500.
    assert buyer.get(f"/accounts/orders/{order.number}/{line.pk + 999}/").status_code == 404
    assert buyer.get(f"/accounts/orders/{order.number}/{2**70}/").status_code == 404
    other = signed_in(make_user("khac.dong@nongsan.test"))
    assert other.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page
    # The order page's form still buys the line again.
    response = buyer.post(url, {"action": "reorder"})
    assert response.status_code == 302
    assert buyer.get("/basket/").context["basket"].num_items == 1
