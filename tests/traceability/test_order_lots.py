"""Order lines → lots: producers link the lines they pack to a lot ("Gắn lô cho đơn hàng"),
and the buyer's order page then links each such line to the lot's trace page."""

import html

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from oscar.core.loading import get_class, get_model
from oscar.test.factories import create_order

from traceability.models import LineLot, Lot, Recall

from .conftest import ASSOCIATION, BUYER, FARMER, OPERATOR, PASSWORD, POST_OFFICE, sign_in

Basket = get_model("basket", "Basket")
Product = get_model("catalogue", "Product")
Default = get_class("partner.strategy", "Default")

pytestmark = pytest.mark.django_db
LINES_URL = "/don-hang/gan-lo/"


def make_order(number, user, upcs, *, guest_email=""):
    """An order of `user` (or a guest) with one line per product code, 2 of each."""
    basket = Basket.objects.create(owner=user)
    basket.strategy = Default()
    for upc in upcs:
        basket.add_product(Product.objects.get(upc=upc), quantity=2)
    extra = {"guest_email": guest_email} if guest_email else {}
    return create_order(number=number, basket=basket, user=user, **extra)


def line_of(order, upc):
    return order.lines.get(product__upc=upc)


def make_buyer(email):
    User = get_user_model()
    return User.objects.create_user(username=email.split("@")[0], email=email, password=PASSWORD)


@pytest.fixture
def order(traces):
    """The demo buyer's order of the farmer's durian and avocado and of Ea Kiết coffee."""
    buyer = get_user_model().objects.get(email=BUYER)
    return make_order("NS-200001", buyer, ["NS0005", "NS0007", "NS0001"])


@pytest.fixture
def other_farmer(traces):
    """A second farmer with a shop and a durian lot of their own product."""
    from marketplace.shops.services import open_producer_shop

    user = make_buyer("khac@nongsan.test")
    lot = Lot.objects.get(code="DEMO-NS0005")
    open_producer_shop(
        name="Hộ bà Lê Thị Khác",
        kind="household",
        province_code=lot.producer.province_code,
        commune_code=lot.producer.commune_code,
        owner=user,
    )
    return "khac@nongsan.test"


def vi(message) -> str:
    """`message` as a Vietnamese page shows it (English until the lead translates it)."""
    with translation.override("vi"):
        return gettext(message)


RECALLED = "Recalled on %(date)s: do not eat or use this product."


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_farmer_links_their_lines_and_only_theirs(client, order):
    durian, avocado = line_of(order, "NS0005"), line_of(order, "NS0007")
    coffee = line_of(order, "NS0001")
    lot = Lot.objects.get(code="DEMO-NS0005")
    sign_in(client, FARMER)
    page = client.get(LINES_URL)
    assert page.status_code == 200
    body = text(page)
    assert f'id="line-{durian.pk}"' in body and f'id="line-{avocado.pk}"' in body
    assert f'id="line-{coffee.pk}"' not in body  # Ea Kiết's line
    # The durian line offers the durian lot only (same product), not the avocado lot.
    assert f'<option value="{lot.pk}">DEMO-NS0005' in body
    assert "DEMO-NS0007" not in body  # the avocado lot is past its expiry date

    response = client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk}, follow=True)
    assert response.status_code == 200
    assert LineLot.objects.get(line=durian).lot == lot
    assert f'id="line-{durian.pk}"' not in text(response)  # done: off the list
    assert "NS-200001" in text(response)  # the success message names the order


def test_bad_lot_choices_get_a_clear_error_and_change_nothing(client, order):
    durian = line_of(order, "NS0005")
    coffee_lot = Lot.objects.get(code="DEMO-NS0001")  # another producer's lot
    avocado_lot = Lot.objects.get(code="DEMO-NS0007")  # own lot, another product
    sign_in(client, FARMER)
    message = vi("Choose a lot of this product that you manage and that is not recalled.")
    for value in (coffee_lot.pk, avocado_lot.pk, "", "abc", 999999):
        response = client.post(f"{LINES_URL}{durian.pk}/", {"lot": value}, follow=True)
        assert response.status_code == 200, value
        assert message in text(response), value
    assert not LineLot.objects.exists()


def test_a_recalled_lot_is_not_offered_and_is_refused(client, order):
    durian = line_of(order, "NS0005")
    lot = Lot.objects.get(code="DEMO-NS0005")
    Recall.objects.create(lot=lot, reason="Test")
    sign_in(client, FARMER)
    assert f'<option value="{lot.pk}">' not in text(client.get(LINES_URL))
    response = client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk}, follow=True)
    assert vi("Choose a lot of this product that you manage and that is not recalled.") in text(
        response
    )
    assert not LineLot.objects.exists()


def test_a_lot_that_may_not_be_sold_is_not_offered_and_is_refused_with_why(client, order):
    """Expired (the avocado lot) or waiting for the operator's review after a harvest
    inside a pre-harvest interval (the Monthong lot): not offered, and refused saying why."""
    from traceability import safety

    buyer = get_user_model().objects.get(email=BUYER)
    monthong_order = make_order("NS-200009", buyer, ["NS0006"])
    cases = [
        (line_of(order, "NS0007"), "DEMO-NS0007", safety.EXPIRED),
        (line_of(monthong_order, "NS0006"), "DEMO-NS0006", safety.PRE_HARVEST_PENDING),
    ]
    sign_in(client, FARMER)
    body = text(client.get(LINES_URL))
    for line, code, reason in cases:
        lot = Lot.objects.get(code=code)
        assert f'id="line-{line.pk}"' in body and f'<option value="{lot.pk}">' not in body
        response = client.post(f"{LINES_URL}{line.pk}/", {"lot": lot.pk}, follow=True)
        assert str(safety.MESSAGES[reason]) in text(response), code
    assert not LineLot.objects.exists()


def test_a_line_is_linked_once(client, order):
    durian = line_of(order, "NS0005")
    lot = Lot.objects.get(code="DEMO-NS0005")
    sign_in(client, FARMER)
    client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk})
    response = client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk}, follow=True)
    assert vi("This order line is already linked to a lot.") in text(response)
    assert LineLot.objects.filter(line=durian).count() == 1


def test_scope_other_producers_lines_are_404_and_get_is_405(client, order, other_farmer):
    durian, coffee = line_of(order, "NS0005"), line_of(order, "NS0001")
    lot = Lot.objects.get(code="DEMO-NS0005")
    coffee_lot = Lot.objects.get(code="DEMO-NS0001")
    sign_in(client, FARMER)
    assert client.post(f"{LINES_URL}{coffee.pk}/", {"lot": coffee_lot.pk}).status_code == 404
    assert client.get(f"{LINES_URL}{durian.pk}/").status_code == 405

    # Another farmer sees none of these lines and cannot link them, even to the right lot.
    client.logout()
    sign_in(client, other_farmer)
    body = text(client.get(LINES_URL))
    assert f'id="line-{durian.pk}"' not in body
    assert client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk}).status_code == 404

    # Association staff of another commune: not in scope either.
    client.logout()
    sign_in(client, ASSOCIATION)
    assert client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk}).status_code == 404
    assert not LineLot.objects.exists()

    # Buyers are not lot managers; anonymous visitors sign in first.
    client.logout()
    sign_in(client, BUYER)
    assert client.get(LINES_URL).status_code == 403
    client.logout()
    assert "/accounts/login/" in client.get(LINES_URL)["Location"]


@pytest.mark.parametrize("email", [POST_OFFICE, OPERATOR])
def test_staff_in_scope_and_the_operator_link_lines(client, order, email):
    durian = line_of(order, "NS0005")
    lot = Lot.objects.get(code="DEMO-NS0005")
    sign_in(client, email)
    assert f'id="line-{durian.pk}"' in text(client.get(LINES_URL))
    client.post(f"{LINES_URL}{durian.pk}/", {"lot": lot.pk})
    assert LineLot.objects.get(line=durian).linked_by.email == email


def test_the_lines_page_has_a_constant_query_budget(client, order, django_assert_max_num_queries):
    """The page (of which ~15 queries are the storefront chrome: session, user, basket,
    menu, permissions) costs the same with 2 lines as with 17: the lots to choose from are
    read for the whole page at once."""
    sign_in(client, FARMER)
    with django_assert_max_num_queries(25) as few:
        client.get(LINES_URL)
    buyer = get_user_model().objects.get(email=BUYER)
    for n in range(5):
        make_order(f"NS-20010{n}", buyer, ["NS0005", "NS0007", "NS0006"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LINES_URL)
    assert text(response).count('class="nongsan-lot-row"') == 2 + 15


def test_the_buyer_sees_a_trace_link_per_linked_line(client, order, django_assert_num_queries):
    durian, avocado = line_of(order, "NS0005"), line_of(order, "NS0007")
    lot = Lot.objects.get(code="DEMO-NS0005")
    LineLot.objects.create(line=durian, lot=lot)
    url = reverse("customer:order", kwargs={"order_number": order.number})
    sign_in(client, BUYER)
    response = client.get(url)
    assert response.status_code == 200
    body = text(response)
    assert body.count(vi("Trace this product")) == 1
    assert f'href="/t/{lot.short_code}/"' in body
    assert vi(RECALLED).split("%(date)s")[0] not in body

    # No query per line: linking a second line costs nothing more.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    LineLot.objects.create(line=avocado, lot=Lot.objects.get(code="DEMO-NS0007"))
    with django_assert_num_queries(len(one.captured_queries)):
        body = text(client.get(url))
    assert body.count(vi("Trace this product")) == 2

    # A recalled lot says so on the order page.
    recall = Recall.objects.create(lot=lot, reason="Test")
    date = timezone.localtime(recall.recalled_at).strftime("%d/%m/%Y")
    assert vi(RECALLED) % {"date": date} in text(client.get(url))


def test_another_buyer_cannot_open_the_order(client, order):
    make_buyer("nguoikhac@nongsan.test")
    sign_in(client, "nguoikhac@nongsan.test")
    url = reverse("customer:order", kwargs={"order_number": order.number})
    assert client.get(url).status_code == 404
