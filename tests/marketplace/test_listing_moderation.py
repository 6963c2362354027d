"""The operator approves or rejects listings, and switches approval on and off.

Every operator page for every role; a staff listing shows who listed it for whom; a
reason is required to reject; a double approval is a message, not a 500; the queue's
query count does not grow with its length.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext
from oscar.core.loading import get_model

from marketplace.catalogue import listings
from marketplace.models import MarketplaceSettings, ProductListing, SearchEntry
from tests.marketplace.test_farmer_products import (
    ROLES,
    client_for,
    fruit,
    jpeg,
    make_products,
    page_text,
    producer,
    users,
    visible_to_buyers,
)

Product = get_model("catalogue", "Product")

QUEUE = "/quan-tri/san-pham-cho-duyet/"


def new_listing(by, producer_key="krongpac", title="Bơ sáp chờ duyệt") -> ProductListing:
    product = listings.create_product(
        producer=producer(producer_key),
        by=by,
        title=title,
        category=fruit(),
        unit="kg",
        weight_kg=1,
        price=55000,
        num_in_stock=10,
        images=[jpeg()],
    )
    return product.listing


@pytest.mark.django_db
def test_the_queue_says_who_listed_each_product_for_whom(demo):
    people = users()
    by_farmer = new_listing(people["farmer"], title="Bơ do nông dân đăng")
    by_staff = new_listing(people["post_office_staff"], title="Bơ do bưu điện đăng")
    assert by_farmer.listed_by_staff is False
    assert by_staff.listed_by_staff is True and by_staff.listed_by == people["post_office_staff"]

    response = client_for(people["operator"]).get(QUEUE)
    assert response.status_code == 200
    page = page_text(response)
    assert "Bơ do nông dân đăng" in page and "Bơ do bưu điện đăng" in page
    expected = gettext("Listed by staff %(staff)s for farmer %(farmer)s") % {
        "staff": people["post_office_staff"].get_full_name(),
        "farmer": "Hộ ông Nguyễn Văn Hùng",
    }
    assert expected in page
    assert gettext("Listed by the farmer") in page
    assert "55.000" in page  # the price, in đồng

    english = page_text(client_for(people["operator"]).get("/en" + QUEUE))
    assert "Listed by staff Trần Văn Nam for farmer Hộ ông Nguyễn Văn Hùng" in english


@pytest.mark.django_db
def test_approve_then_a_second_approval_is_a_message_not_an_error(demo):
    people = users()
    listing = new_listing(people["farmer"])
    operator = client_for(people["operator"])
    assert not visible_to_buyers(listing.product)

    response = operator.post(f"{QUEUE}{listing.pk}/duyet/", {"next": QUEUE})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert visible_to_buyers(listing.product)

    again = operator.post(f"{QUEUE}{listing.pk}/duyet/", follow=True)
    assert again.status_code == 200
    assert gettext("This product is no longer waiting for approval.") in page_text(again)
    listing.refresh_from_db()
    assert listing.status == ProductListing.Status.APPROVED
    assert operator.get(f"{QUEUE}{listing.pk}/duyet/").status_code == 405
    assert operator.post(f"{QUEUE}999999/duyet/").status_code == 404


@pytest.mark.django_db
def test_approve_ignores_a_next_address_on_another_site(demo):
    people = users()
    listing = new_listing(people["farmer"])
    response = client_for(people["operator"]).post(
        f"{QUEUE}{listing.pk}/duyet/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == QUEUE


@pytest.mark.django_db
def test_reject_needs_a_reason_and_the_farmer_reads_it(demo):
    people = users()
    listing = new_listing(people["farmer"])
    operator = client_for(people["operator"])

    blank = operator.post(f"{QUEUE}{listing.pk}/tu-choi/", {"reason": "   "})
    assert blank.status_code == 200
    assert gettext("Please tell the producer why the product is rejected.") in page_text(blank)
    listing.refresh_from_db()
    assert listing.status == ProductListing.Status.PENDING

    reason = "Ảnh không đúng sản phẩm, xin chụp lại quả bơ."
    response = operator.post(f"{QUEUE}{listing.pk}/tu-choi/", {"reason": reason})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.status == ProductListing.Status.REJECTED
    assert listing.status_reason == reason and listing.reviewed_by == people["operator"]
    assert not visible_to_buyers(listing.product)
    assert reason in page_text(client_for(people["farmer"]).get("/cua-hang/san-pham/"))
    operator.get(QUEUE)  # shows (and so clears) the success message
    assert listing.product.title not in page_text(operator.get(QUEUE))

    # The farmer corrects it: back in the queue, the old reason gone.
    listings.update_product(product=listing.product, by=people["farmer"], price=56000)
    listing.refresh_from_db()
    assert listing.status == ProductListing.Status.PENDING and listing.status_reason == ""
    assert listing.product.title in page_text(operator.get(QUEUE))


@pytest.mark.django_db
def test_the_approval_switch(demo):
    people = users()
    operator = client_for(people["operator"])
    assert operator.post(f"{QUEUE}cai-dat/", {"required": "0"}).status_code == 302
    assert MarketplaceSettings.load().require_listing_approval is False
    product = listings.create_product(
        producer=producer("krongpac"),
        by=people["farmer"],
        title="Bơ bán ngay",
        category=fruit(),
        unit="kg",
        weight_kg=1,
        price=50000,
        num_in_stock=3,
    )
    assert visible_to_buyers(product)

    assert operator.post(f"{QUEUE}cai-dat/", {"required": "1"}).status_code == 302
    assert MarketplaceSettings.load().require_listing_approval is True
    listings.update_product(product=product, by=people["farmer"], title="Bơ bán ngay (mới)")
    assert not visible_to_buyers(product)

    bad = operator.post(f"{QUEUE}cai-dat/", {"required": "có lẽ"}, follow=True)
    assert bad.status_code == 200
    assert MarketplaceSettings.load().require_listing_approval is True
    assert operator.get(f"{QUEUE}cai-dat/").status_code == 405


@pytest.mark.django_db
def test_a_stock_update_alone_keeps_an_approved_product_on_sale(demo):
    people = users()
    durian = Product.objects.get(upc="NS0005")
    assert visible_to_buyers(durian)
    listings.update_product(product=durian, by=people["farmer"], num_in_stock=7)
    assert durian.stockrecords.get().num_in_stock == 7
    assert visible_to_buyers(durian)
    assert not ProductListing.objects.filter(product=durian, status="pending").exists()
    # Anything buyers read goes back to the operator, even with a stock change beside it.
    listings.update_product(product=durian, by=people["farmer"], num_in_stock=6, price=130000)
    assert not visible_to_buyers(durian)
    assert durian.stockrecords.get().num_in_stock == 6


@pytest.mark.django_db
def test_only_the_operator_may_review_in_the_services(demo):
    people = users()
    listing = new_listing(people["farmer"])
    for role in ("farmer", "branch_staff", "post_office_staff", "buyer"):
        with pytest.raises(PermissionDenied):
            listings.approve_listing(listing=listing, by=people[role])
        with pytest.raises(PermissionDenied):
            listings.reject_listing(listing=listing, by=people[role], reason="x")
        with pytest.raises(PermissionDenied):
            listings.set_listing_approval_required(required=False, by=people[role])
    with pytest.raises(ValidationError) as caught:
        listings.reject_listing(listing=listing, by=people["operator"], reason="")
    assert "reason" in caught.value.error_dict
    listing.refresh_from_db()
    assert listing.status == ProductListing.Status.PENDING
    assert MarketplaceSettings.load().require_listing_approval is True


@pytest.mark.django_db
def test_an_approved_listing_can_be_taken_down(demo):
    people = users()
    listing = new_listing(people["farmer"])
    listings.approve_listing(listing=listing, by=people["operator"])
    assert SearchEntry.objects.filter(product=listing.product).exists()
    listings.reject_listing(listing=listing, by=people["operator"], reason="Hết mùa.")
    assert not visible_to_buyers(listing.product)


# --- Who reaches what ----------------------------------------------------------------------------

OPERATOR_PAGES = dict.fromkeys(ROLES, 403) | {"anonymous": 302, "operator": None}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_operator_pages_by_role(demo, role):
    people = users()
    listing = new_listing(people["farmer"])
    client = client_for(people[role])
    expected = OPERATOR_PAGES[role]
    requests = [
        ("get", QUEUE, {}, 200),
        ("get", f"{QUEUE}{listing.pk}/tu-choi/", {}, 200),
        ("post", f"{QUEUE}cai-dat/", {"required": "1"}, 302),
        ("post", f"{QUEUE}{listing.pk}/tu-choi/", {"reason": "Ảnh mờ."}, 302),
        ("post", f"{QUEUE}{listing.pk}/duyet/", {}, 302),  # already rejected: a message
    ]
    for method, url, data, operator_status in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == (expected or operator_status), (method, url)
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
    listing.refresh_from_db()
    if role == "operator":
        assert listing.status == ProductListing.Status.REJECTED
    else:
        assert listing.status == ProductListing.Status.PENDING
        assert listing.reviewed_by is None


# --- Query budget --------------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_queue_takes_the_same_queries_for_5_and_25_listings(demo):
    people = users()
    client = client_for(people["operator"])
    make_products(producer("krongpac"), people["farmer"], 3, images=[jpeg()])
    make_products(producer("eakiet"), people["branch_staff"], 2, images=[jpeg()])
    few = _queries(client, QUEUE)
    make_products(producer("krongpac"), people["post_office_staff"], 20, images=[jpeg()])
    many = _queries(client, QUEUE)
    assert ProductListing.objects.filter(status="pending").count() == 25
    assert few == many
    assert many <= 20
