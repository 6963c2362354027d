"""The shared rules, each with one implementation: money, text folding, safe redirects,
the certificate badge rule."""

import datetime
import unicodedata
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import translation

from marketplace.core.money import DongField, format_dong, parse_dong
from marketplace.core.text import fold, strip_marks, terms

# --- Money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("500.000", 500000),
        ("500000", 500000),
        ("500.000 ₫", 500000),
        ("500.000₫", 500000),
        ("500.000đ", 500000),
        ("500.000 đ", 500000),
        ("500.000 đồng", 500000),
        ("500000 VND", 500000),
        ("500,000", 500000),
        ("500 000", 500000),
        ("\u00a0500\u00a0000\u00a0₫ ", 500000),
        ("1.250.000", 1250000),
        ("1,250,000", 1250000),
        ("1.000", 1000),
        ("0", 0),
        ("007", 7),
        (125000, 125000),
        (Decimal("125000"), 125000),
        (Decimal("125000.00"), 125000),
        (15000.0, 15000),
    ],
)
def test_amounts_people_type_become_whole_dong(typed, expected):
    assert parse_dong(typed) == expected
    assert type(parse_dong(typed)) is int


@pytest.mark.parametrize(
    "typed, code",
    [
        ("1,5 triệu", "words"),
        ("1.5 triệu", "words"),
        ("2 triệu", "words"),
        ("500k", "words"),
        ("500 nghìn", "words"),
        ("-500.000", "negative"),
        ("-1", "negative"),
        (-5, "negative"),
        ("12500.5", "decimal"),
        ("12,5", "decimal"),
        ("1.250.000,50", "decimal"),
        (Decimal("12.5"), "decimal"),
        (12500.5, "decimal"),
        (float("nan"), "invalid"),
        (float("inf"), "invalid"),
        ("", "required"),
        ("   ", "required"),
        (None, "required"),
        ("₫", "required"),
        ("abc", "invalid"),
        ("mười nghìn", "invalid"),
        ("1e5", "invalid"),
        ("NaN", "invalid"),
        ("Infinity", "invalid"),
        (Decimal("NaN"), "invalid"),
        (True, "invalid"),
        ("--5", "invalid"),
        ("1.2.3", "invalid"),
        ("1..000", "invalid"),
        ("1.250,000", "invalid"),  # two different separators
        ("12.34.567", "invalid"),
        ("١٤٠٠٠٠", "invalid"),  # Arabic-Indic digits
        ("²", "invalid"),
        ("5\x00", "invalid"),
        ("9" * 16, "too_large"),
        ("9" * 40, "too_large"),
        ("9" * 400, "invalid"),
    ],
)
def test_what_is_not_whole_dong_is_refused_with_a_reason(typed, code):
    with pytest.raises(ValidationError) as caught:
        parse_dong(typed)
    assert caught.value.code == code
    assert str(caught.value.message)


def test_refusals_are_translated():
    with translation.override("vi"), pytest.raises(ValidationError) as caught:
        parse_dong("1,5 triệu")
    assert str(caught.value.message) != (
        "Write the amount in full digits, for example 1.500.000, not 1,5 triệu."
    )


@pytest.mark.parametrize(
    "language, amount, shown",
    [
        ("vi", 125000, "125.000\u00a0₫"),
        ("vi", Decimal("5200000.00"), "5.200.000\u00a0₫"),
        ("vi", 0, "0\u00a0₫"),
        ("en", 125000, "₫125,000"),
    ],
)
def test_dong_are_shown_as_oscar_shows_them(language, amount, shown):
    from oscar.templatetags.currency_filters import currency

    with translation.override(language):
        assert format_dong(amount) == shown == currency(amount, "VND")


def test_the_money_field_is_a_text_input_with_a_numeric_keypad():
    field = DongField(required=False)
    html = field.widget.render("amount", field.prepare_value(500000))
    assert 'type="text"' in html and 'inputmode="numeric"' in html and 'value="500000"' in html
    assert field.clean("500.000") == 500000
    assert field.clean("") is None
    with pytest.raises(ValidationError):
        field.clean("1,5 triệu")


def test_the_money_field_checks_its_range_and_its_messages_can_be_replaced():
    field = DongField(max_value=1000, error_messages={"words": "no words"})
    with pytest.raises(ValidationError):
        field.clean("1.001")
    with pytest.raises(ValidationError) as caught:
        field.clean("2 triệu")
    assert caught.value.messages == ["no words"]


# --- Text folding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Cà phê Buôn Ma Thuột", "ca phe buon ma thuot"),
        ("CA PHE", "ca phe"),
        ("Đắk Lắk", "dak lak"),
        ("  Gạo   ST25\t(5kg) ", "gao st25 5kg"),
        (unicodedata.normalize("NFD", "Sầu riêng Ri6"), "sau rieng ri6"),
        ("", ""),
        (None, ""),
    ],
)
def test_vietnamese_text_folds_for_search(text, folded):
    assert fold(text) == folded


def test_marks_are_stripped_but_case_and_punctuation_kept():
    assert strip_marks("Đường (VND) Ấp") == "Duong (VND) Ap"
    assert terms("cà phê Cà Phê sữa") == ["ca", "phe", "sua"]


# --- Where a redirect may go ---------------------------------------------------------------

HOSTILE = [
    "abc",
    "https://evil.example/",
    "http://testserver/admin/",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "data:text/html,x",
    "mailto:a@b.c",
    "evil.example/path",
    "\x00/",
    "/\x00",
    "/path\nLocation: https://evil",
    "/\t/evil.example",
    "\t//evil.example",
    "/%09/evil.example" + "\\",
    "",
    "   ",
    "?next=/",
    "#/",
    "../etc/passwd",
    "./x",
    "%2F%2Fevil.example",
    "/" + "a" * 3000,
]


@pytest.mark.parametrize("target", HOSTILE)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anything_but_a_local_path_falls_back(target, method):
    from marketplace.core.redirects import safe_next

    factory = RequestFactory()
    request = getattr(factory, method)("/x/", {"next": target})
    assert safe_next(request, "/fallback/") == "/fallback/"


@pytest.mark.parametrize(
    "target",
    ["/", "/san-pham/", "/quan-tri/chung-nhan/?page=2&q=c%C3%A0", "/en/t/1/#x", "/cà-phê/"],
)
def test_a_local_path_passes(target):
    from marketplace.core.redirects import safe_next

    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/fallback/") == target
    assert safe_next(RequestFactory().get("/x/", {"next": target}), "/f/") == target


def test_no_next_falls_back():
    from marketplace.core.redirects import safe_next

    assert safe_next(RequestFactory().get("/x/"), "/f/") == "/f/"
    assert safe_next(RequestFactory().get("/x/"), "") == ""


# --- The operator's settings page reads money as people type it ----------------------------


@pytest.fixture
def operator_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        username="op", email="op@example.com", password="x"
    )
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["500.000", "500000", "500.000 ₫", "500.000đ", "500,000"])
def test_the_settings_page_stores_500_000_as_typed(operator_client, typed):
    from marketplace.models import MarketplaceSettings

    page = operator_client.get("/quan-tri/cai-dat-thanh-toan/")
    assert 'inputmode="numeric"' in page.content.decode()
    assert 'type="number" name="free_shipping_threshold"' not in page.content.decode()
    response = operator_client.post(
        "/quan-tri/cai-dat-thanh-toan/",
        {
            "free_shipping_threshold": typed,
            "cod_max_amount": "3.000.000",
            "commission_percent": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = MarketplaceSettings.load()
    assert (row.free_shipping_threshold, row.cod_max_amount) == (500000, 3000000)


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["1,5 triệu", "-500.000", "500.5", "abc"])
def test_the_settings_page_refuses_what_is_not_whole_dong(operator_client, typed):
    from marketplace.models import MarketplaceSettings

    response = operator_client.post(
        "/quan-tri/cai-dat-thanh-toan/",
        {"free_shipping_threshold": typed, "commission_percent": "0"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["free_shipping_threshold"]
    assert MarketplaceSettings.load().free_shipping_threshold is None


@pytest.mark.django_db
def test_an_empty_amount_means_no_threshold(operator_client):
    from marketplace.models import MarketplaceSettings

    response = operator_client.post(
        "/quan-tri/cai-dat-thanh-toan/",
        {"free_shipping_threshold": "", "cod_max_amount": "", "commission_percent": "0"},
    )
    assert response.status_code == 302
    row = MarketplaceSettings.load()
    assert (row.free_shipping_threshold, row.cod_max_amount) == (None, None)


# --- When a certificate badge shows ---------------------------------------------------------


@pytest.fixture
def shop(db):
    from oscar.core.loading import get_model

    from marketplace.models import ProducerProfile

    Partner = get_model("partner", "Partner")
    Product = get_model("catalogue", "Product")
    ProductClass = get_model("catalogue", "ProductClass")
    producer = ProducerProfile.objects.create(
        partner=Partner.objects.create(name="HTX Thử"),
        slug="htx-thu",
        kind="cooperative",
        province_code=1,
        commune_code=1,
    )
    kind = ProductClass.objects.create(name="Nông sản")
    named = Product.objects.create(title="Cà phê", product_class=kind)
    other = Product.objects.create(title="Tiêu", product_class=kind)
    return producer, named, other


def certificate(producer, products=(), **values):
    from marketplace.models import Certificate

    row = Certificate.objects.create(
        producer=producer,
        **{
            "kind": "vietgap",
            "number": f"VG-{Certificate.objects.count() + 1}",
            "issuer": "Chi cục",
            "valid_from": datetime.date(2026, 1, 1),
            "valid_until": datetime.date(2026, 12, 31),
            "status": "verified",
            **values,
        },
    )
    row.products.set(products)
    return row


D = datetime.date


@pytest.mark.parametrize(
    "status, on, badge",
    [
        ("verified", D(2026, 1, 1), True),  # first day
        ("verified", D(2026, 6, 15), True),
        ("verified", D(2026, 12, 31), True),  # last day
        ("verified", D(2025, 12, 31), False),  # the day before
        ("verified", D(2027, 1, 1), False),  # the day after
        ("pending", D(2026, 6, 15), False),
        ("rejected", D(2026, 6, 15), False),
        ("expired", D(2026, 6, 15), False),
    ],
)
def test_the_badge_rule_on_a_date(shop, status, on, badge):
    from marketplace.models import Certificate

    producer, named, _other = shop
    row = certificate(producer, status=status)
    assert row.shows_badge(on=on) is badge
    assert row.shows_badge(on=on, product=named) is badge
    assert (row in Certificate.objects.badges(on=on)) is badge
    assert (row in Certificate.objects.badges(on=on, product=named)) is badge


def test_a_certificate_naming_products_covers_only_them(shop):
    from marketplace.models import Certificate

    producer, named, other = shop
    row = certificate(producer, products=[named])
    everything = certificate(producer)
    on = D(2026, 6, 1)
    assert row.shows_badge(on=on, product=named) and row.shows_badge(on=on, product=named.pk)
    assert not row.shows_badge(on=on, product=other)
    assert everything.shows_badge(on=on, product=other)
    assert list(Certificate.objects.badges(on=on, product=named).order_by("pk")) == [
        row,
        everything,
    ]
    assert list(Certificate.objects.badges(on=on, product=other)) == [everything]


def test_today_is_the_default_date(shop):
    from django.utils import timezone

    producer, named, _other = shop
    today = timezone.localdate()
    row = certificate(
        producer,
        valid_from=today - datetime.timedelta(days=1),
        valid_until=today + datetime.timedelta(days=1),
    )
    assert row.shows_badge() and row.shows_badge(product=named)


# --- What a parcel's payment state is -------------------------------------------------------


@pytest.mark.parametrize(
    "cod_amount, cod_collected, code, cod, to_collect",
    [
        (Decimal(140000), None, "cod_to_collect", True, Decimal(140000)),
        (Decimal(140000), Decimal(140000), "cod_collected", True, Decimal(140000)),
        (Decimal(0), None, "paid_in_advance", False, Decimal(0)),
    ],
)
def test_a_parcels_payment_state(cod_amount, cod_collected, code, cod, to_collect):
    from marketplace.models import Parcel

    parcel = Parcel(cod_amount=cod_amount, cod_collected=cod_collected)
    payment = parcel.payment
    assert (payment.code, payment.cod, payment.to_collect) == (code, cod, to_collect)
    assert payment.collected == cod_collected
    assert str(payment.label)


# --- Every view that takes `next` falls back on a hostile one, never a 500 ------------------

BAD_NEXT = ["abc", "https://evil.example/", "//evil.example", "/\\evil.example"]


@pytest.mark.django_db
@pytest.mark.parametrize("target", BAD_NEXT)
def test_the_trace_page_language_switch_stays_on_the_site(client, target):
    response = client.get("/ngon-ngu/en/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    assert client.get("/ngon-ngu/en/", {"next": "/t/ABC/"})["Location"] == "/en/t/ABC/"


@pytest.mark.django_db
@pytest.mark.parametrize("target", BAD_NEXT)
def test_djangos_language_switch_drops_a_hostile_next(client, target):
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/en/"  # "/" in the language chosen
    good = client.post("/i18n/setlang/", {"language": "en", "next": "/san-pham/"})
    assert good["Location"] in ("/san-pham/", "/en/san-pham/")  # a local next is kept


@pytest.mark.django_db
@pytest.mark.parametrize("target", BAD_NEXT)
def test_certificate_review_falls_back_to_the_queue(operator_client, shop, target):
    producer, _named, _other = shop
    pending = certificate(producer, status="pending")
    verify = operator_client.post(f"/quan-tri/chung-nhan/{pending.pk}/duyet/", {"next": target})
    assert verify.status_code == 302 and verify["Location"] == "/quan-tri/chung-nhan/"
    other = certificate(producer, status="pending")
    page = operator_client.get(f"/quan-tri/chung-nhan/{other.pk}/tu-choi/", {"next": target})
    assert page.status_code == 200 and target not in page.content.decode()
    reject = operator_client.post(
        f"/quan-tri/chung-nhan/{other.pk}/tu-choi/", {"reason": "Ảnh mờ", "next": target}
    )
    assert reject.status_code == 302 and reject["Location"] == "/quan-tri/chung-nhan/"


@pytest.mark.django_db
@pytest.mark.parametrize("target", BAD_NEXT)
def test_listing_review_falls_back_to_the_queue(operator_client, shop, target):
    from marketplace.models import ProductListing

    producer, named, other = shop
    first = ProductListing.objects.create(product=named, producer=producer)
    second = ProductListing.objects.create(product=other, producer=producer)
    queue = "/quan-tri/san-pham-cho-duyet/"
    approve = operator_client.post(f"{queue}{first.pk}/duyet/", {"next": target})
    assert approve.status_code == 302 and approve["Location"] == queue
    page = operator_client.get(f"{queue}{second.pk}/tu-choi/", {"next": target})
    assert page.status_code == 200 and target not in page.content.decode()
    reject = operator_client.post(
        f"{queue}{second.pk}/tu-choi/", {"reason": "Thiếu ảnh", "next": target}
    )
    assert reject.status_code == 302 and reject["Location"] == queue


@pytest.mark.django_db
@pytest.mark.parametrize("target", BAD_NEXT)
def test_the_farmer_sign_in_falls_back_to_the_record(client, django_user_model, target):
    django_user_model.objects.create_user(username="+84912345678", password="mat-khau-1")
    response = client.post(
        "/can-bo/dang-nhap/",
        {"phone": "0912345678", "password": "mat-khau-1", "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] not in (target, "abc")
    assert response["Location"].startswith("/")
    assert not response["Location"].startswith("//")


# --- People's names ------------------------------------------------------------------------


@pytest.mark.django_db
def test_names_are_shown_whole_in_vietnamese_order(demo):
    """ "Trần Văn Nam", never "Nam Trần Văn": the demo users, a farmer's new account, and
    a name given in two parts (family name, given name)."""
    from django.contrib.auth import get_user_model

    from marketplace.core.names import joined, name_fields

    User = get_user_model()
    assert User.objects.get(email="nongdan@nongsan.test").get_full_name() == "Nguyễn Văn Hùng"
    assert User(**name_fields("  Trần   Văn Nam ")).get_full_name() == "Trần Văn Nam"
    assert joined("Nam", "Trần Văn") == "Trần Văn Nam"
    assert joined("Trần Văn Nam", "") == "Trần Văn Nam"


@pytest.mark.django_db
def test_names_stored_in_two_parts_before_are_joined_by_the_migration(blank_db):
    import importlib

    from django.apps import apps
    from django.contrib.auth import get_user_model

    User = get_user_model()
    old = User.objects.create(username="cu", first_name="Nam", last_name="Trần Văn")
    whole = User.objects.create(username="moi", first_name="Lò Thị Hoa")
    migration = importlib.import_module("farmers.migrations.0004_user_names_in_vietnamese_order")
    migration.join_names(apps, None)
    old.refresh_from_db()
    whole.refresh_from_db()
    assert (old.first_name, old.last_name) == ("Trần Văn Nam", "")
    assert (whole.first_name, whole.last_name) == ("Lò Thị Hoa", "")
