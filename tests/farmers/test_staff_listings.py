"""Association and post-office staff list products on behalf of farmers in their scope.

The branch of Ea Kiết covers producers of its commune (the Ea Kiết cooperative), not the
Krông Pắc farmer in the same province; the Đắk Lắk post office covers province 66 (both),
not Gia Lai (Chư Sê pepper). Outside the scope: 404; without a staff membership: 403.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext
from oscar.core.loading import get_model

from marketplace.models import ProductListing
from tests.marketplace.test_farmer_products import (
    ROLES,
    client_for,
    counts,
    form_data,
    jpeg,
    make_products,
    page_text,
    producer,
    users,
    visible_to_buyers,
)

Product = get_model("catalogue", "Product")

LIST = "/can-bo/san-pham/"

# role: (list, add for eakiet, add for krongpac, add for chuse,
#        edit eakiet's, edit krongpac's, edit chuse's)
STAFF_PAGES = {
    "anonymous": (302,) * 7,
    "buyer": (403,) * 7,
    "farmer": (403,) * 7,
    "other_farmer": (403,) * 7,
    "branch_staff": (200, 200, 404, 404, 200, 404, 404),
    "post_office_staff": (200, 200, 200, 404, 200, 200, 404),
    "operator": (200,) * 7,
}


def staff_urls() -> list[str]:
    products = {key: Product.objects.get(upc=upc) for key, upc in UPCS.items()}
    return [
        LIST,
        *(f"{LIST}{producer(key).slug}/them/" for key in ("eakiet", "krongpac", "chuse")),
        *(f"{LIST}sua/{products[key].pk}/" for key in ("eakiet", "krongpac", "chuse")),
    ]


UPCS = {"eakiet": "NS0001", "krongpac": "NS0005", "chuse": "NS0009"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_staff_pages_by_role(demo, role):
    client = client_for(users()[role])
    statuses = tuple(client.get(url).status_code for url in staff_urls())
    assert statuses == STAFF_PAGES[role]
    if role == "anonymous":
        assert client.get(LIST)["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["branch_staff", "post_office_staff"])
def test_posting_outside_the_scope_is_404_and_saves_nothing(demo, role):
    client = client_for(users()[role])
    before = counts()
    pepper = Product.objects.get(upc="NS0009")
    add = client.post(f"{LIST}{producer('chuse').slug}/them/", {**form_data(), "images": [jpeg()]})
    edit = client.post(f"{LIST}sua/{pepper.pk}/", form_data(price="1000"))
    assert (add.status_code, edit.status_code) == (404, 404)
    assert counts() == before
    assert pepper.stockrecords.get().price == Decimal(110000)
    assert not ProductListing.objects.filter(product=pepper).exists()


@pytest.mark.django_db
def test_branch_staff_lists_a_product_for_a_farmer_of_their_commune(demo):
    people = users()
    staff = client_for(people["branch_staff"])
    eakiet = producer("eakiet")
    page = staff.get(f"{LIST}{eakiet.slug}/them/")
    assert eakiet.partner.name in page_text(page)

    response = staff.post(
        f"{LIST}{eakiet.slug}/them/",
        {**form_data(title="Cà phê Robusta chín đỏ 1kg"), "images": [jpeg()]},
    )
    assert response.status_code == 302 and response["Location"] == LIST
    product = Product.objects.get(title="Cà phê Robusta chín đỏ 1kg")
    assert product.stockrecords.get().partner == eakiet.partner
    listing = product.listing
    assert listing.producer == eakiet
    assert listing.listed_by == people["branch_staff"] and listing.listed_by_staff is True
    assert listing.status == ProductListing.Status.PENDING
    assert not visible_to_buyers(product)

    queue = page_text(client_for(people["operator"]).get("/quan-tri/san-pham-cho-duyet/"))
    expected = gettext("Listed by staff %(staff)s for farmer %(farmer)s") % {
        "staff": people["branch_staff"].get_full_name(),
        "farmer": eakiet.partner.name,
    }
    assert expected in queue
    english = page_text(client_for(people["operator"]).get("/en/quan-tri/san-pham-cho-duyet/"))
    assert f"Listed by staff Vũ Thị Thảo for farmer {eakiet.partner.name}" in english


@pytest.mark.django_db
def test_post_office_staff_edit_a_farmers_product_on_their_behalf(demo):
    people = users()
    staff = client_for(people["post_office_staff"])
    durian = Product.objects.get(upc="NS0005")
    page = staff.get(f"{LIST}sua/{durian.pk}/")
    initial = page.context["form"].initial
    data = {
        **form_data(title=initial["title"], description=initial["description"]),
        "gtin": initial["gtin"],
        "price": "125000",
    }
    assert staff.post(f"{LIST}sua/{durian.pk}/", data).status_code == 302
    durian.refresh_from_db()
    assert durian.stockrecords.get().price == Decimal(125000)
    assert durian.listing.listed_by == people["post_office_staff"]
    assert durian.listing.listed_by_staff is True
    assert durian.listing.producer == producer("krongpac")
    assert not visible_to_buyers(durian)  # waits for the operator like any change


@pytest.mark.django_db
def test_bad_input_from_staff_keeps_the_form(demo):
    staff = client_for(users()["branch_staff"])
    before = counts()
    response = staff.post(
        f"/en{LIST}{producer('eakiet').slug}/them/", form_data(price="12500.5", num_in_stock="-1")
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Prices are in whole đồng" in page
    assert "The stock cannot be negative." in page
    assert 'value="Bơ sáp Krông Pắc loại 1"' in response.content.decode()
    assert counts() == before


@pytest.mark.django_db
def test_the_list_shows_the_producers_in_scope_only(demo):
    people = users()
    branch = page_text(client_for(people["branch_staff"]).get(LIST))
    assert producer("eakiet").partner.name in branch
    assert Product.objects.get(upc="NS0001").title in branch
    assert producer("krongpac").partner.name not in branch
    assert producer("chuse").partner.name not in branch

    post_office = page_text(client_for(people["post_office_staff"]).get(LIST))
    assert producer("eakiet").partner.name in post_office
    assert producer("krongpac").partner.name in post_office
    assert Product.objects.get(upc="NS0005").title in post_office
    assert producer("chuse").partner.name not in post_office


@pytest.mark.django_db
def test_the_list_takes_the_same_queries_for_5_and_25_products(demo):
    people = users()
    client = client_for(people["post_office_staff"])
    other = producer("krongpac")

    def queries():
        client.get(LIST)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    make_products(other, people["post_office_staff"], 1)  # 4 demo products + 1 = 5
    few = queries()
    make_products(other, people["post_office_staff"], 20)
    many = queries()
    assert few == many
    assert many <= 20
