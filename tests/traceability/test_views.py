"""Farmer and staff lot pages: who sees what, and forms that refuse bad input cleanly."""

import pytest
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.shops.services import open_producer_shop
from traceability.models import FarmEvent, Lot, verify_chain

from .conftest import ASSOCIATION, BUYER, FARMER, OPERATOR, POST_OFFICE, sign_in

Product = get_model("catalogue", "Product")
pytestmark = pytest.mark.django_db


@pytest.fixture
def other_farmer(traces, django_user_model):
    """A second farmer with a shop of their own (and no lot of the demo farmer's)."""
    user = django_user_model.objects.create_user(
        username="khac", email="khac@nongsan.test", password="nongsan2026"
    )
    lot = Lot.objects.get(code="DEMO-NS0005")
    open_producer_shop(
        name="Hộ bà Lê Thị Khác",
        kind="household",
        province_code=lot.producer.province_code,
        commune_code=lot.producer.commune_code,
        owner=user,
    )
    return "khac@nongsan.test"


def pages(lot):
    return [
        "/lo-hang/",
        "/lo-hang/tao/",
        f"/lo-hang/tao/?san_pham={lot.product_id}",
        f"/lo-hang/{lot.pk}/",
        f"/lo-hang/{lot.pk}/su-kien/",
        f"/lo-hang/{lot.pk}/su-kien/?loai=harvest",
    ]


def test_anonymous_visitors_are_asked_to_sign_in(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0005")
    for url in pages(lot):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_buyers_get_403(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0005")
    sign_in(client, BUYER)
    for url in pages(lot):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("email", [FARMER, POST_OFFICE, OPERATOR])
def test_the_owner_staff_in_scope_and_operator_reach_the_lot(client, traces, email):
    lot = Lot.objects.get(code="DEMO-NS0005")
    sign_in(client, email)
    for url in pages(lot):
        assert client.get(url).status_code == 200, url
    html = client.get(f"/lo-hang/{lot.pk}/").content.decode()
    assert "DEMO-NS0005" in html and f"/t/{lot.short_code}/" in html
    listing = client.get("/lo-hang/").content.decode()
    assert (
        "DEMO-NS0005" in listing or "DEMO-NS0005" in client.get("/lo-hang/?page=2").content.decode()
    )


def test_the_farmer_sees_only_their_own_lots(client, traces):
    sign_in(client, FARMER)
    html = client.get("/lo-hang/").content.decode()
    assert "DEMO-NS0005" in html and "DEMO-NS0001" not in html
    other = Lot.objects.get(code="DEMO-NS0001")
    assert client.get(f"/lo-hang/{other.pk}/").status_code == 404
    chooser = client.get("/lo-hang/tao/").content.decode()
    assert "Sầu riêng Ri6 Krông Pắc" in chooser and "Hồ tiêu đen Chư Sê" not in chooser
    assert client.get(f"/lo-hang/tao/?san_pham={other.product_id}").status_code == 404


def test_staff_outside_the_scope_get_404_for_the_lot(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0005")  # Krông Pắc, not the Ea Kiết branch
    sign_in(client, ASSOCIATION)
    assert client.get(f"/lo-hang/{lot.pk}/").status_code == 404
    assert client.get(f"/lo-hang/{lot.pk}/su-kien/").status_code == 404
    eakiet = Lot.objects.get(code="DEMO-NS0001")
    assert client.get(f"/lo-hang/{eakiet.pk}/").status_code == 200


def test_another_farmer_cannot_see_or_add_events_to_the_lot(client, other_farmer):
    lot = Lot.objects.get(code="DEMO-NS0005")
    before = lot.events.count()
    sign_in(client, other_farmer)
    assert client.get("/lo-hang/").status_code == 200
    assert "DEMO-NS0005" not in client.get("/lo-hang/").content.decode()
    assert client.get(f"/lo-hang/{lot.pk}/").status_code == 404
    assert client.get(f"/lo-hang/{lot.pk}/su-kien/").status_code == 404
    response = client.post(
        f"/lo-hang/{lot.pk}/su-kien/",
        {"kind": "harvest", "event_date": "2026-01-01", "event_clock": "07:00", "quantity": "5"},
    )
    assert response.status_code == 404
    assert lot.events.count() == before


def test_the_farmer_creates_a_lot_and_records_events(client, traces):
    product = Product.objects.get(upc="NS0007")
    producer = Lot.objects.get(code="DEMO-NS0005").producer
    sign_in(client, FARMER)
    response = client.post(
        "/lo-hang/tao/",
        {
            "product": product.pk,
            "code": "",
            "quantity": "120,5".replace(",", "."),
            "unit": "kg",
            "province_code": producer.province_code,
            "commune_code": producer.commune_code,
            "production_date": "2026-11-01",
        },
    )
    assert response.status_code == 302
    lot = Lot.objects.get(product=product, created_by__email=FARMER, code__startswith="L261101")
    assert response["Location"] == f"/lo-hang/{lot.pk}/"

    today = timezone.localdate().isoformat()
    response = client.post(
        f"/lo-hang/{lot.pk}/su-kien/",
        {
            "kind": "input_applied",
            "event_date": today,
            "event_clock": "06:30",
            "product_name": "Abamectin 1.8EC",
            "dose": "10",
            "dose_unit": "ml/bình",
            "applied_on": today,
            "pre_harvest_interval_days": "7",
        },
    )
    assert response.status_code == 302
    event = lot.events.get()
    assert event.details["pre_harvest_interval_days"] == 7
    assert event.details["unit"] == "ml/bình" and event.recorded_by.email == FARMER
    harvest = {"kind": "harvest", "event_date": today, "event_clock": "09:00", "quantity": "100"}
    # Harvested on the day of the spray, inside its 7 days: a warning first, nothing saved.
    response = client.post(f"/lo-hang/{lot.pk}/su-kien/", harvest)
    assert response.status_code == 200 and 'id="pre-harvest-warning"' in response.content.decode()
    assert lot.events.count() == 1
    response = client.post(f"/lo-hang/{lot.pk}/su-kien/", {**harvest, "confirm_pre_harvest": "on"})
    assert response.status_code == 302
    html = client.get(f"/lo-hang/{lot.pk}/").content.decode()
    assert "Abamectin 1.8EC" in html and 'class="nongsan-flag"' not in html
    assert "alert-danger" in html  # harvested on the day of the spray: inside 7 days

    # A correction picks an earlier event; both stay.
    response = client.post(
        f"/lo-hang/{lot.pk}/su-kien/?loai=correction&sua={event.pk}",
        {
            "kind": "correction",
            "corrects": event.pk,
            "event_date": today,
            "event_clock": "10:00",
            "reason": "Ghi nhầm ngày phun",
            "applied_on": (timezone.localdate().replace(day=1)).isoformat(),
        },
    )
    assert response.status_code == 302
    correction = lot.events.get(kind=FarmEvent.Kind.CORRECTION)
    assert correction.corrects == event
    assert verify_chain(lot) == (True, None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"code": "LÔ SỐ 1"}, "code"),
        ({"code": "A" * 21}, "code"),
        ({"code": "DEMO-NS0005"}, "code"),
        ({"commune_code": "26734"}, "commune_code"),  # a commune of another province
        ({"latitude": "95", "longitude": "108"}, "latitude"),
        ({"latitude": "12.5"}, "longitude"),
        ({"production_date": "2026-11-01", "expiry_date": "2026-10-01"}, "expiry_date"),
    ],
)
def test_a_bad_lot_is_refused_with_a_message_and_nothing_saved(client, traces, data, field):
    lot = Lot.objects.get(code="DEMO-NS0005")
    producer = lot.producer
    sign_in(client, FARMER)
    before = Lot.objects.count()
    post = {
        "product": lot.product_id,
        "quantity": "10",
        "unit": "kg",
        "province_code": producer.province_code,
        "commune_code": producer.commune_code,
        **data,
    }
    response = client.post("/lo-hang/tao/", post)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert "is-invalid" in response.content.decode()
    assert Lot.objects.count() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "harvest", "quantity": "0"}, "quantity"),
        ({"kind": "harvest", "quantity": ""}, "quantity"),
        ({"kind": "input_applied", "dose": "1", "applied_on": "2026-11-01"}, "product_name"),
        (
            {
                "kind": "input_applied",
                "product_name": "X",
                "dose": "1",
                "applied_on": "2026-11-01",
                "pre_harvest_interval_days": "-2",
            },
            "pre_harvest_interval_days",
        ),
        ({"kind": "harvest", "quantity": "5", "event_date": "ngày mai"}, "event_date"),
        ({"kind": "correction", "reason": "x", "corrects": "999999"}, "corrects"),
        ({"kind": "correction", "corrects": ""}, "reason"),
    ],
)
def test_a_bad_event_is_refused_with_a_message_and_nothing_saved(client, traces, data, field):
    lot = Lot.objects.get(code="DEMO-NS0005")
    sign_in(client, FARMER)
    before = FarmEvent.objects.count()
    post = {"event_date": "2026-11-01", "event_clock": "07:00", **data}
    response = client.post(f"/lo-hang/{lot.pk}/su-kien/", post)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert FarmEvent.objects.count() == before


def test_my_lots_makes_a_constant_number_of_queries(client, traces, django_assert_max_num_queries):
    sign_in(client, OPERATOR)
    client.get("/lo-hang/")
    with django_assert_max_num_queries(20) as first:
        client.get("/lo-hang/")
    count = len(first)
    Lot.objects.filter(code__startswith="DEMO-").count()
    with django_assert_max_num_queries(count):
        client.get("/lo-hang/?page=2")
