"""The harvest outlook: per product and commune, what plantings (their expected harvest
date and yield), this week's harvests, lots on sale and open pre-orders add up to over the
next eight weeks, in the staff's scope; the page, its CSV and bad input."""

import csv
import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.finance.checks import run_checks
from marketplace.models import Preorder, PreorderWindow, ProducerProfile
from tests.marketplace.test_no_overselling import basket_for, place
from traceability import outlook, sale
from traceability.models import FarmEvent, Lot
from traceability.services import create_lot, record_event

from .conftest import BUYER, FARMER, OPERATOR, POST_OFFICE, sign_in

Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
StockRecord = get_model("partner", "StockRecord")
K = FarmEvent.Kind

pytestmark = pytest.mark.django_db
DAK_LAK, GIA_LAI = 66, 52


def user(email):
    return get_user_model().objects.get(email=email)


def staff(email, *, province_code):
    """A provincial association's staff member."""
    from farmers import services
    from farmers.models import Organisation
    from marketplace.demo.base import ensure_user

    org = services.upsert_organisation(
        name=f"Hội ND tỉnh {province_code}",
        kind=Organisation.Kind.PROVINCIAL_ASSOCIATION,
        province_code=province_code,
    )
    person = ensure_user(email, "Cán bộ tỉnh")
    person.set_password("nongsan2026")
    person.save()
    services.assign_staff(user=person, organisation=org)
    return person


def at(day, hour=1):
    return timezone.make_aware(datetime.combine(day, time(hour)))


class Example:
    """A producer of its own in a commune of Đắk Lắk with nothing else in it, selling a
    fruit by the kg: plantings, a harvest, a lot on sale, pre-orders."""

    def __init__(self):
        today = timezone.localdate()
        self.today = today
        self.monday = today - timedelta(days=today.weekday())
        used = set(ProducerProfile.objects.values_list("commune_code", flat=True))
        used |= set(Lot.objects.values_list("commune_code", flat=True))
        self.commune = next(
            code
            for code, (_name, province) in sorted(geo._communes().items())
            if province == DAK_LAK and code not in used
        )
        self.farmer = user(FARMER)
        template = Product.objects.get(upc="NS0005")
        product = Product.objects.create(
            title="Bơ 034 Krông Năng",
            product_class=template.product_class,
            upc="NSOUT1",
            is_public=True,
        )
        unit = ProductAttributeValue.objects.get(product=template, attribute__code="unit")
        ProductAttributeValue.objects.create(
            product=product, attribute=unit.attribute, value_text="kg"
        )
        self.product = product
        partner = Partner.objects.create(name="HTX Bơ Thử")
        partner.users.add(self.farmer)
        self.producer = ProducerProfile.objects.create(
            partner=partner,
            slug="htx-bo-thu",
            kind="cooperative",
            province_code=DAK_LAK,
            commune_code=self.commune,
        )
        StockRecord.objects.create(
            product=product,
            partner=partner,
            partner_sku="NSOUT1",
            price=Decimal(50000),
            num_in_stock=0,
        )
        self.n = 0

    def lot(self, *, unit="kg", quantity="100"):
        self.n += 1
        return create_lot(
            product=self.product,
            producer=self.producer,
            by=self.farmer,
            code=f"OUT-{self.n}",
            quantity=Decimal(quantity),
            unit=unit,
            province_code=DAK_LAK,
            commune_code=self.commune,
            production_date=self.today,
        )

    def plant(self, lot, *, week, day=0, quantity=None, unit=None):
        details = {"variety": "034"}
        if week is not None:
            details["expected_harvest"] = (
                self.monday + timedelta(weeks=week, days=day)
            ).isoformat()
        if quantity is not None:
            details["expected_quantity"] = quantity
        if unit is not None:
            details["expected_unit"] = unit
        return record_event(
            lot=lot, by=self.farmer, kind=K.PLANTING, event_time=at(self.today), details=details
        )

    def window(self, *, starts_in_days, quantities, cancelled=()):
        window = PreorderWindow.objects.create(
            partner=self.producer.partner,
            product=self.product,
            harvest_from=self.monday + timedelta(days=starts_in_days),
            harvest_to=self.monday + timedelta(days=starts_in_days + 10),
            cap=1000,
            price=Decimal(60000),
        )
        buyer = user(BUYER)
        for quantity in quantities:
            Preorder.objects.create(
                window=window, user=buyer, quantity=quantity, price=window.price, method="cod"
            )
        for quantity in cancelled:
            Preorder.objects.create(
                window=window,
                user=buyer,
                quantity=quantity,
                price=window.price,
                method="cod",
                status=Preorder.Status.CANCELLED,
            )
        return window


@pytest.fixture
def example(traces):
    ex = Example()
    a = ex.lot(unit="tạ")
    ex.plant(a, week=2, quantity="1.5")  # 1,5 tạ → 150 kg in week 2 (unit: the lot's)
    b = ex.lot()
    planting = ex.plant(b, week=2, day=3, quantity="3", unit="yến")  # 30 kg …
    record_event(
        lot=b,
        by=ex.farmer,
        kind=K.CORRECTION,
        event_time=at(ex.today, 2),
        corrects=planting,
        details={"reason": "Đếm lại số cây", "expected_quantity": "4"},
    )  # … corrected to 4 yến: 40 kg
    ex.plant(ex.lot(), week=5, quantity="0.5", unit="tấn")  # 500 kg in week 5
    ex.plant(ex.lot(), week=3, quantity="120", unit="trái")  # not comparable: own row
    ex.plant(ex.lot(), week=10, quantity="70")  # beyond the eight weeks
    ex.plant(ex.lot(), week=4)  # a date without a yield: nothing to add up
    harvested = ex.lot(quantity="40")
    ex.plant(harvested, week=1, quantity="999")  # harvested since: the harvest counts
    record_event(
        lot=harvested,
        by=ex.farmer,
        kind=K.HARVEST,
        event_time=at(ex.today, 3),
        details={"quantity": "40", "unit": "kg"},
    )
    Lot.objects.filter(pk=harvested.pk).update(expiry_date=ex.today + timedelta(days=20))
    sale.put_lot_on_sale(lot=Lot.objects.get(pk=harvested.pk), by=ex.farmer)
    buyer = user(BUYER)
    place(basket_for(buyer, ex.product, 3), buyer, "NS-OUTLOOK1")
    ex.window(starts_in_days=-7, quantities=[4])  # began last week: counted in week 0
    ex.window(starts_in_days=22, quantities=[7, 2], cancelled=[5])  # week 3: 9
    converted = ex.window(starts_in_days=8, quantities=[6])
    PreorderWindow.objects.filter(pk=converted.pk).update(status=PreorderWindow.Status.CONVERTED)
    return ex


def rows_of(ex, person, **kwargs):
    data = outlook.harvest_outlook(person, **kwargs)
    return data, {r.unit: r for r in data.rows if r.commune_code == ex.commune}


def test_the_numbers_add_up_per_product_commune_and_week(example):
    ex = example
    officer = staff("tinh.daklak@nongsan.test", province_code=DAK_LAK)
    data, rows = rows_of(ex, officer)
    assert data.mondays[0] == ex.monday and len(data.mondays) == 8
    assert set(rows) == {"kg", "trái"}
    kg = rows["kg"]
    assert kg.product == "Bơ 034 Krông Năng" and kg.province_code == DAK_LAK
    assert kg.expected == [40, 0, 190, 0, 0, 500, 0, 0]
    assert kg.preordered == [4, 0, 0, 9, 0, 0, 0, 0]
    assert (kg.on_sale, kg.sold) == (37, 3)
    assert rows["trái"].expected == [0, 0, 0, Decimal(120), 0, 0, 0, 0]
    assert run_checks() == []

    # Eight weeks later: the planting expected in week 10 is in its third week.
    later, rows = rows_of(ex, officer, offset=8)
    assert later.mondays[0] == ex.monday + timedelta(weeks=8)
    assert rows["kg"].expected == [0, 0, 70, 0, 0, 0, 0, 0]
    assert rows["kg"].on_sale == 37  # what is on sale is on sale whatever the weeks

    # The operator sees it too; staff of another province see nothing of ours.
    assert rows_of(ex, user(OPERATOR))[1]["kg"].expected == kg.expected
    elsewhere = staff("tinh.gialai@nongsan.test", province_code=GIA_LAI)
    assert rows_of(ex, elsewhere)[1] == {}
    assert all(r.province_code == GIA_LAI for r in outlook.harvest_outlook(elsewhere).rows)


def test_the_page_and_csv_in_scope_and_no_one_else(example, client):
    ex = example
    staff("tinh.daklak@nongsan.test", province_code=DAK_LAK)
    staff("tinh.gialai@nongsan.test", province_code=GIA_LAI)
    sign_in(client, "tinh.daklak@nongsan.test")
    home = client.get("/can-bo/").content.decode()
    assert "/trien-vong-thu-hoach/" in home
    page = client.get("/trien-vong-thu-hoach/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Bơ 034 Krông Năng" in text and geo.commune_name(ex.commune) in text
    assert '<svg class="nongsan-outlook-chart"' in text
    content = text.split('<div class="nongsan-outlook">')[1].split("</footer>")[0]
    assert "<script" not in content.split("<footer")[0]  # no chart library
    assert f"{ex.monday:%d/%m/%Y}" in text

    response = client.get("/trien-vong-thu-hoach.csv")
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = table[0]
    assert header[:4] == ["Sản phẩm", "Tỉnh, thành phố", "Xã, phường", "Đơn vị"]
    assert header[4] == f"Dự kiến, tuần từ {ex.monday:%d/%m/%Y}"
    ours = [r for r in table[1:] if r[2] == geo.commune_name(ex.commune) and r[3] == "kg"]
    assert ours == [
        [
            "Bơ 034 Krông Năng",
            geo.province_name(DAK_LAK),
            geo.commune_name(ex.commune),
            "kg",
            *["40", "0", "190", "0", "0", "500", "0", "0"],
            "730",
            *["4", "0", "0", "9", "0", "0", "0", "0"],
            "13",
            "37",
            "3",
        ]
    ]

    # Bad input: never a 500, the first eight weeks instead.
    for query in ("week=abc", "week=-1", "week=99999999999999999999999", "week=%C2%B2", "page=x"):
        assert client.get(f"/trien-vong-thu-hoach/?{query}").status_code == 200
        assert client.get(f"/trien-vong-thu-hoach.csv?{query}").status_code == 200
    assert client.get("/trien-vong-thu-hoach/?page=999").status_code == 200

    client.logout()
    sign_in(client, "tinh.gialai@nongsan.test")
    assert "Bơ 034 Krông Năng" not in client.get("/trien-vong-thu-hoach/").content.decode()
    assert "Bơ 034" not in client.get("/trien-vong-thu-hoach.csv").content.decode("utf-8-sig")

    for email in (FARMER, BUYER, POST_OFFICE):
        client.logout()
        sign_in(client, email)
        assert client.get("/trien-vong-thu-hoach/").status_code == 403
        assert client.get("/trien-vong-thu-hoach.csv").status_code == 403
    client.logout()
    assert client.get("/trien-vong-thu-hoach/").status_code == 302

    sign_in(client, OPERATOR)
    assert "/trien-vong-thu-hoach/" in client.get("/quan-tri/").content.decode()
    assert "Bơ 034 Krông Năng" in client.get("/trien-vong-thu-hoach/").content.decode()


def test_an_empty_scope_says_so(traces, client):
    staff("tinh.empty@nongsan.test", province_code=1)  # Hà Nội: no demo producer
    sign_in(client, "tinh.empty@nongsan.test")
    text = client.get("/trien-vong-thu-hoach/").content.decode()
    assert "Chưa có gì dự kiến" in text


def test_the_outlook_reads_in_a_fixed_number_of_queries(example, django_assert_max_num_queries):
    officer = staff("tinh.daklak@nongsan.test", province_code=DAK_LAK)
    with django_assert_max_num_queries(8):
        before = outlook.harvest_outlook(officer)
    ex = Example.__new__(Example)
    ex.__dict__.update(example.__dict__)
    for week in range(1, 9):  # more plantings, harvests and pre-orders: no more queries
        ex.plant(ex.lot(), week=week, quantity="5")  # (from next week: never before today)
    ex.window(starts_in_days=30, quantities=[1, 1, 1])
    with django_assert_max_num_queries(8):
        after = outlook.harvest_outlook(officer)
    assert len(after.rows) >= len(before.rows)


def test_a_planting_records_its_expected_harvest_with_checks(traces, client):
    ex = Example()
    lot = ex.lot()
    sign_in(client, FARMER)
    url = f"/lo-hang/{lot.pk}/su-kien/?loai=planting"
    form = client.get(url).content.decode()
    assert "expected_harvest" in form and "expected_quantity" in form
    base = {
        "kind": "planting",
        "event_date": ex.today.isoformat(),
        "event_clock": "07:00",
        "variety": "034",
    }
    cases = [
        ({"expected_harvest": (ex.today - timedelta(days=1)).isoformat()}, "trước ngày gieo trồng"),
        ({"expected_harvest": (ex.today + timedelta(days=7 * 366)).isoformat()}, "6 năm"),
        ({"expected_quantity": "50"}, "ngày thu hoạch dự kiến"),
        ({"expected_harvest": ex.today.isoformat(), "expected_quantity": "-3"}, None),
        ({"expected_harvest": "abc"}, None),
    ]
    for extra, message in cases:
        response = client.post(url, {**base, **extra})
        assert response.status_code == 200, extra  # the form again, with its error
        if message:
            assert message in response.content.decode(), extra
    assert not FarmEvent.objects.filter(lot=lot).exists()
    when = ex.today + timedelta(days=30)
    response = client.post(
        url,
        {
            **base,
            "expected_harvest": when.isoformat(),
            "expected_quantity": "2",
            "expected_unit": "tạ",
        },
    )
    assert response.status_code == 302
    event = FarmEvent.objects.get(lot=lot)
    assert event.details["expected_harvest"] == when.isoformat()
    assert (event.details["expected_quantity"], event.details["expected_unit"]) == ("2", "tạ")
    page = client.get(f"/lo-hang/{lot.pk}/").content.decode()
    assert f"{when:%d/%m/%Y}" in page and "2 tạ" in page


def test_a_lot_only_planted_is_not_the_product_pages_trace_link(traces):
    from traceability.on_sale import lot_on_sale

    durian = Product.objects.get(upc="NS0005")
    before = lot_on_sale(durian)
    assert before is not None and before.code == "DEMO-NS0005"
    planted = create_lot(
        product=durian,
        producer=before.producer,
        by=user(FARMER),
        code="VU-MOI",
        quantity=Decimal(2),
        unit="tấn",
        province_code=before.province_code,
        commune_code=before.commune_code,
        production_date=timezone.localdate(),
    )
    record_event(
        lot=planted,
        by=user(FARMER),
        kind=K.PLANTING,
        event_time=at(timezone.localdate()),
        details={"expected_harvest": (timezone.localdate() + timedelta(days=60)).isoformat()},
    )
    assert lot_on_sale(durian) == before  # the newer lot is still in the field


def test_the_demo_shows_an_outlook(traces):
    from traceability.demo import seed_outlook

    # The demo's plums of Mộc Châu: 800 kg in about two weeks, 1 500 kg in about six.
    rows = [
        r
        for r in outlook.harvest_outlook(user(OPERATOR)).rows
        if r.product == "Mận hậu Mộc Châu" and r.unit == "kg"
    ]
    assert [r.expected_total for r in rows] == [2300]
    assert seed_outlook(farmer=user(FARMER), operator=user(OPERATOR)) == [
        "  Outlook   4 plantings with an expected harvest (0 new)"
    ]
