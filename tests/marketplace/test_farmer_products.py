"""A farmer lists products from a phone: create, edit, wait for approval, see only their own.

Bad input is tested as carefully as good input: a clear message beside the field,
everything else typed kept, nothing saved (not even a photo file), never a 500.

Also the helpers the other listing tests share (roles, form data, counts).
"""

import html
import io
import os
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext
from oscar.core.loading import get_model
from PIL import Image

from marketplace.catalogue import listings
from marketplace.core import geo
from marketplace.core.validators import gs1_check_digit
from marketplace.demo.base import DEMO_PASSWORD, PRODUCERS
from marketplace.models import MarketplaceSettings, ProducerProfile, ProductListing, SearchEntry
from marketplace.search.indexing import index_products
from marketplace.shops.services import open_producer_shop
from tests.marketplace.test_uploads import GPS_IFD, image_bytes, jpeg_with_gps, png_bomb

Product = get_model("catalogue", "Product")
ProductImage = get_model("catalogue", "ProductImage")
Category = get_model("catalogue", "Category")
StockRecord = get_model("partner", "StockRecord")

EMAILS = {
    "buyer": "nguoimua@nongsan.test",
    "farmer": "nongdan@nongsan.test",
    "branch_staff": "canbohoi@nongsan.test",
    "post_office_staff": "buudien@nongsan.test",
    "operator": "quantri@nongsan.test",
}
ROLES = ["anonymous", "buyer", "farmer", "other_farmer", *list(EMAILS)[2:]]
TITLE = "Bơ sáp Krông Pắc loại 1"


# --- Shared helpers ----------------------------------------------------------------------------


def users() -> dict:
    """The demo roles, plus a second farmer with a shop of their own (Buôn Ma Thuột)."""
    User = get_user_model()
    found = {role: User.objects.get(email=email) for role, email in EMAILS.items()}
    other = User.objects.filter(email="nongdankhac@nongsan.test").first()
    if other is None:
        other = User.objects.create_user(
            username="nongdankhac", email="nongdankhac@nongsan.test", password=DEMO_PASSWORD
        )
        open_producer_shop(
            name="Hộ bà Lê Thị Hoa",
            kind=ProducerProfile.Kind.HOUSEHOLD,
            province_code=66,
            commune_code=geo.find_commune(66, "Buôn Ma Thuột"),
            owner=other,
        )
    found["other_farmer"] = other
    found["anonymous"] = None
    return found


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def producer(key: str) -> ProducerProfile:
    """A demo producer by its key in marketplace.demo.base.PRODUCERS ("krongpac", "eakiet"…)."""
    return ProducerProfile.objects.select_related("partner").get(partner__name=PRODUCERS[key][0])


def fruit() -> Category:
    return Category.objects.get(name="Trái cây")


def form_data(**overrides) -> dict:
    data = {
        "title": TITLE,
        "category": fruit().pk,
        "description": "Bơ sáp dẻo, hạt nhỏ.\nHái khi già, giao trong 48 giờ.",
        "unit": "kg",
        "weight_kg": "1,2",
        "price": "65.000",
        "num_in_stock": "30",
        "gtin": "",
    }
    data.update(overrides)
    return data


def jpeg(name="bo-sap.jpg", data=None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data or image_bytes(), content_type="image/jpeg")


def counts() -> dict:
    """Everything a product form could write: rows and stored image files."""
    folder = os.path.join(settings.MEDIA_ROOT, "images")
    files = sum(len(names) for _root, _dirs, names in os.walk(folder))
    return {
        "products": Product.objects.count(),
        "stock": StockRecord.objects.count(),
        "listings": ProductListing.objects.count(),
        "images": ProductImage.objects.count(),
        "files": files,
    }


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def valid_gtin(body="893123456789") -> str:
    return body + str(gs1_check_digit(body))


def visible_to_buyers(product) -> bool:
    product.refresh_from_db()
    in_index = SearchEntry.objects.filter(product=product).exists()
    page = Client().get(product.get_absolute_url())
    assert (page.status_code == 200) == in_index, (page.status_code, in_index)
    return in_index and product.is_public


def set_approval(required: bool) -> None:
    row = MarketplaceSettings.load(fresh=True)
    row.require_listing_approval = required
    row.save()


def make_products(owner_producer, by, n, **overrides):
    for i in range(n):
        values = {
            "title": f"Sản phẩm thử {i}",
            "category": fruit(),
            "unit": "kg",
            "weight_kg": 1,
            "price": 10000 + i,
            "num_in_stock": i,
        }
        values.update(overrides)
        listings.create_product(producer=owner_producer, by=by, **values)


# --- Create, approve, edit: what buyers see ------------------------------------------------------


@pytest.mark.django_db
def test_a_new_product_waits_for_approval_then_an_edit_hides_it_again(demo):
    people = users()
    farmer, operator = client_for(people["farmer"]), client_for(people["operator"])

    page = farmer.get("/cua-hang/san-pham/them/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'inputmode="numeric"' in body
    assert 'accept="image/*"' in body and 'capture="environment"' in body

    response = farmer.post(
        "/cua-hang/san-pham/them/", {**form_data(), "images": [jpeg(), jpeg("bo-2.jpg")]}
    )
    assert response.status_code == 302, page_text(response)[:2000]
    assert response["Location"] == "/cua-hang/san-pham/"
    product = Product.objects.get(title=TITLE)
    record = product.stockrecords.get()
    assert record.partner == producer("krongpac").partner
    assert record.price == Decimal(65000) and record.price_currency == "VND"
    assert record.num_in_stock == 30
    assert record.partner_sku == f"P{producer('krongpac').pk}-{product.pk}"
    assert product.attr.unit == "kg" and product.attr.weight == pytest.approx(1.2)
    assert list(product.categories.all()) == [fruit()]
    assert product.images.count() == 2
    listing = product.listing
    assert listing.status == ProductListing.Status.PENDING
    assert listing.listed_by == people["farmer"] and listing.listed_by_staff is False
    assert not visible_to_buyers(product)

    mine = farmer.get("/cua-hang/san-pham/")
    assert TITLE in page_text(mine)
    assert gettext("Waiting for approval") in page_text(mine)

    assert operator.post(f"/quan-tri/san-pham-cho-duyet/{listing.pk}/duyet/").status_code == 302
    assert visible_to_buyers(product)
    listing.refresh_from_db()
    assert listing.status == ProductListing.Status.APPROVED
    assert listing.reviewed_by == people["operator"] and listing.reviewed_at is not None
    assert SearchEntry.objects.get(product=product).price == 65000

    # Saving the form unchanged changes nothing: still on sale.
    edit_url = f"/cua-hang/san-pham/{product.pk}/sua/"
    assert farmer.post(edit_url, form_data()).status_code == 302
    assert visible_to_buyers(product)

    # A new price goes back to the operator; buyers no longer see the product meanwhile.
    assert farmer.post(edit_url, form_data(price="70000")).status_code == 302
    product.refresh_from_db()
    assert product.stockrecords.get().price == Decimal(70000)
    assert product.listing.status == ProductListing.Status.PENDING
    assert not visible_to_buyers(product)
    assert operator.post(f"/quan-tri/san-pham-cho-duyet/{listing.pk}/duyet/").status_code == 302
    assert visible_to_buyers(product)
    assert SearchEntry.objects.get(product=product).price == 70000


@pytest.mark.django_db
def test_with_approval_switched_off_a_new_product_is_on_sale_at_once(demo):
    people = users()
    response = client_for(people["operator"]).post(
        "/quan-tri/san-pham-cho-duyet/cai-dat/", {"required": "0"}
    )
    assert response.status_code == 302
    assert MarketplaceSettings.load().require_listing_approval is False

    farmer = client_for(people["farmer"])
    assert farmer.post("/cua-hang/san-pham/them/", form_data()).status_code == 302
    product = Product.objects.get(title=TITLE)
    assert product.listing.status == ProductListing.Status.APPROVED
    assert visible_to_buyers(product)

    # Changes go on sale at once too.
    edit_url = f"/cua-hang/san-pham/{product.pk}/sua/"
    assert farmer.post(edit_url, form_data(price="80000")).status_code == 302
    assert visible_to_buyers(product)
    assert SearchEntry.objects.get(product=product).price == 80000


@pytest.mark.django_db
def test_a_farmer_edits_a_demo_product_and_its_photos(demo):
    people = users()
    farmer = client_for(people["farmer"])
    durian = Product.objects.get(upc="NS0005")  # sold by the farmer's shop, listed by seeding
    old_image = durian.images.get()
    edit_url = f"/cua-hang/san-pham/{durian.pk}/sua/"
    page = farmer.get(edit_url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["title"] == durian.title
    assert form.initial["price"] == 120000 and form.initial["num_in_stock"] == 200
    assert form.initial["gtin"] == "NS0005"  # the demo code is kept, not refused

    data = {
        **{key: form.initial[key] for key in ("title", "unit", "gtin", "price", "num_in_stock")},
        "category": form.initial["category"].pk,
        "description": form.initial["description"],
        "weight_kg": form.initial["weight_kg"],
        "remove_image_ids": [old_image.pk],
        "images": [jpeg("sau-rieng-moi.jpg")],
    }
    assert farmer.post(edit_url, data).status_code == 302
    durian.refresh_from_db()
    assert durian.upc == "NS0005"
    assert [image.pk for image in durian.images.all()] != [old_image.pk]
    assert durian.images.count() == 1
    assert durian.listing.status == ProductListing.Status.PENDING
    assert durian.listing.listed_by == people["farmer"]
    assert not visible_to_buyers(durian)


@pytest.mark.django_db
def test_a_removed_photo_keeps_its_file_until_the_change_is_saved(
    demo, django_capture_on_commit_callbacks
):
    """A removal that rolls back (an error later in the same request) must leave the
    shop's picture in place; a removal that is saved deletes the file."""
    durian = Product.objects.get(upc="NS0005")
    image = ProductImage(product=durian, display_order=1)
    image.original.save("extra.jpg", jpeg("extra.jpg"))
    path = image.original.path
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ProductImage.objects.get(pk=image.pk).delete()
    assert os.path.exists(path)
    for callback in callbacks:
        callback()
    assert not os.path.exists(path)


@pytest.mark.django_db
def test_a_photo_with_gps_is_stored_without_exif_under_a_server_name(demo):
    farmer = client_for(users()["farmer"])
    upload = jpeg("IMG_2026_vuon-nha-ong-Hung.jpg", jpeg_with_gps())
    assert (
        farmer.post("/cua-hang/san-pham/them/", {**form_data(), "images": [upload]}).status_code
        == 302
    )
    image = Product.objects.get(title=TITLE).images.get()
    name = os.path.basename(image.original.name)
    assert "vuon-nha" not in name and "IMG" not in name
    stem, extension = name.rsplit(".", 1)
    assert len(stem) == 32 and extension == "jpg"
    with image.original.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
    assert stored.format == "JPEG"
    assert not stored.getexif().get_ifd(GPS_IFD)
    assert len(stored.getexif()) == 0


@pytest.mark.django_db
def test_a_description_is_shown_as_text_never_as_html(demo):
    set_approval(False)
    farmer = client_for(users()["farmer"])
    description = 'Ngon <script>alert("x")</script>\nDòng hai & "ba"'
    assert (
        farmer.post("/cua-hang/san-pham/them/", form_data(description=description)).status_code
        == 302
    )
    product = Product.objects.get(title=TITLE)
    page = Client().get(product.get_absolute_url()).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    form_page = farmer.get(f"/cua-hang/san-pham/{product.pk}/sua/")
    assert form_page.context["form"].initial["description"] == description


# --- Refused input: a message, nothing lost, nothing saved --------------------------------------


def _duplicate_gtin():
    code = valid_gtin()
    pepper = Product.objects.filter(upc="NS0009")
    ids = list(pepper.values_list("pk", flat=True))
    pepper.update(upc=code)  # someone else's pepper uses it
    index_products(ids)
    return code


BAD_INPUT = {
    "decimal-price": ({"price": "12500.5"}, {}, "price", "Prices are in whole đồng"),
    "price-with-comma": ({"price": "12,5"}, {}, "price", "Prices are in whole đồng"),
    "price-too-low": ({"price": "500"}, {}, "price", "The price must be between"),
    "price-not-a-number": ({"price": "mười nghìn"}, {}, "price", "Enter the price in đồng"),
    "negative-stock": ({"num_in_stock": "-5"}, {}, "num_in_stock", "The stock cannot be negative."),
    "stock-with-decimals": (
        {"num_in_stock": "2.5"},
        {},
        "num_in_stock",
        "Enter the stock as a whole number",
    ),
    "zero-weight": ({"weight_kg": "0"}, {}, "weight_kg", "more than 0 and at most 1000 kg"),
    "huge-weight": ({"weight_kg": "5000"}, {}, "weight_kg", "more than 0 and at most 1000 kg"),
    "gtin-wrong-check-digit": (
        {"gtin": valid_gtin()[:-1] + str((int(valid_gtin()[-1]) + 1) % 10)},
        {},
        "gtin",
        "The last digit (check digit) of this GTIN is wrong.",
    ),
    "gtin-wrong-length": ({"gtin": "12345"}, {}, "gtin", "A GTIN has 8, 12, 13 or 14 digits."),
    "gtin-taken": ({"gtin": "DUPLICATE"}, {}, "gtin", "is already used by another product"),
    "missing-title": ({"title": "  "}, {}, "title", "Enter the name of the product."),
    "title-too-long": ({"title": "x" * 300}, {}, "title", "The name is too long"),
    "no-category": ({"category": ""}, {}, "category", "Choose a category."),
    "unknown-unit": ({"unit": "tấn"}, {}, "unit", "Choose the unit the product is sold by."),
    "text-file-as-photo": (
        {},
        {"images": [jpeg(), SimpleUploadedFile("anh.jpg", b"khong phai anh " * 50, "image/jpeg")]},
        "images",
        "not a photo",
    ),
    "decompression-bomb": (
        {},
        {"images": [SimpleUploadedFile("bom.png", png_bomb(), "image/png")]},
        "images",
        "too large to process",
    ),
    "gif": (
        {},
        {"images": [SimpleUploadedFile("a.gif", image_bytes("GIF", mode="P", color=1))]},
        "images",
        "JPEG, PNG or WebP",
    ),
    "too-many-photos": (
        {},
        {"images": [jpeg(f"{i}.jpg") for i in range(9)]},
        "images",
        "at most 8 photos",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "files", "field", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys()
)
def test_bad_input_is_refused_with_a_message_keeping_everything_else(
    demo, changes, files, field, message
):
    if changes.get("gtin") == "DUPLICATE":
        changes = {"gtin": _duplicate_gtin()}
    farmer = client_for(users()["farmer"])
    before = counts()
    # In English, so the message is checked word for word whatever the translation.
    response = farmer.post("/en/cua-hang/san-pham/them/", {**form_data(**changes), **files})
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors.get(field, [])), form.errors
    assert message in page_text(response)
    assert counts() == before  # no product, stock, listing, image row or file
    # Whatever else was typed comes back in the form.
    data = form_data(**changes)
    for name in ("title", "price", "num_in_stock", "weight_kg", "description"):
        if name != field and data[name].strip():
            assert html.escape(data[name].strip(), quote=True) in response.content.decode() or (
                data[name].strip() in page_text(response)
            ), name
    if files:
        assert "choose the photos again" in page_text(response)


@pytest.mark.django_db
def test_messages_are_vietnamese_first(demo):
    farmer = client_for(users()["farmer"])
    response = farmer.post("/cua-hang/san-pham/them/", form_data(price="12500.5", title=""))
    assert response.status_code == 200
    assert response["Content-Language"] == "vi"
    page = page_text(response)
    assert gettext("Enter the name of the product.") in page
    assert (
        gettext("Prices are in whole đồng, without decimals: for example 12500, not 12500.5.")
        in page
    )


@pytest.mark.django_db
def test_a_bad_photo_on_edit_changes_nothing(demo):
    set_approval(False)
    farmer = client_for(users()["farmer"])
    assert farmer.post("/cua-hang/san-pham/them/", form_data()).status_code == 302
    product = Product.objects.get(title=TITLE)
    before = counts()
    bomb = SimpleUploadedFile("bom.png", png_bomb(), "image/png")
    response = farmer.post(
        f"/en/cua-hang/san-pham/{product.pk}/sua/",
        {**form_data(price="99000", title="Bơ sáp mới"), "images": [bomb]},
    )
    assert response.status_code == 200
    assert "too large to process" in page_text(response)
    assert 'value="Bơ sáp mới"' in response.content.decode()
    assert counts() == before
    product.refresh_from_db()
    assert product.title == TITLE
    assert product.stockrecords.get().price == Decimal(65000)
    assert visible_to_buyers(product)


# --- The service directly ------------------------------------------------------------------------


@pytest.mark.django_db
def test_service_refuses_decimal_prices_and_accepts_grouped_thousands(demo):
    people = users()
    krongpac = producer("krongpac")
    base = {
        "producer": krongpac,
        "by": people["farmer"],
        "title": "Bơ",
        "category": fruit(),
        "unit": "kg",
        "weight_kg": 1,
        "num_in_stock": 1,
    }
    for price in (Decimal("12500.5"), 12500.5, "12500,5"):
        with pytest.raises(ValidationError) as caught:
            listings.create_product(**base, price=price)
        assert "price" in caught.value.error_dict
    for price, expected in ((Decimal("12500"), 12500), ("1.250.000", 1250000), (15000.0, 15000)):
        product = listings.create_product(**base, price=price)
        assert product.stockrecords.get().price == expected


@pytest.mark.django_db
def test_service_refuses_someone_who_may_not_list_for_the_producer(demo):
    people = users()
    base = {
        "title": "Bơ",
        "category": fruit(),
        "unit": "kg",
        "weight_kg": 1,
        "price": 10000,
        "num_in_stock": 1,
    }
    for role in ("buyer", "other_farmer"):
        with pytest.raises(PermissionDenied):
            listings.create_product(producer=producer("krongpac"), by=people[role], **base)
    with pytest.raises(PermissionDenied):  # the branch of Ea Kiết does not cover Krông Pắc
        listings.create_product(producer=producer("krongpac"), by=people["branch_staff"], **base)
    durian = Product.objects.get(upc="NS0005")
    with pytest.raises(PermissionDenied):
        listings.update_product(product=durian, by=people["other_farmer"], price=1000)
    assert durian.stockrecords.get().price == Decimal(120000)


@pytest.mark.django_db
def test_stock_cannot_go_below_what_open_orders_hold(demo):
    farmer = users()["farmer"]
    durian = Product.objects.get(upc="NS0005")
    StockRecord.objects.filter(product=durian).update(num_allocated=12)
    index_products([durian.pk])
    with pytest.raises(ValidationError) as caught:
        listings.update_product(product=durian, by=farmer, num_in_stock=5)
    assert "num_in_stock" in caught.value.error_dict
    listings.update_product(product=durian, by=farmer, num_in_stock=12)
    assert durian.stockrecords.get().num_in_stock == 12


# --- Who reaches what ----------------------------------------------------------------------------

FARMER_PAGES = {
    "anonymous": (302, 302, 302),
    "buyer": (403, 403, 403),
    "farmer": (200, 200, 200),
    "other_farmer": (200, 200, 404),
    "branch_staff": (403, 403, 403),
    "post_office_staff": (403, 403, 403),
    "operator": (403, 403, 403),
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_farmer_pages_by_role(demo, role):
    people = users()
    client = client_for(people[role])
    durian = Product.objects.get(upc="NS0005")
    urls = (
        "/cua-hang/san-pham/",
        "/cua-hang/san-pham/them/",
        f"/cua-hang/san-pham/{durian.pk}/sua/",
    )
    statuses = tuple(client.get(url).status_code for url in urls)
    assert statuses == FARMER_PAGES[role]
    if role == "anonymous":
        assert client.get(urls[0])["Location"].startswith("/accounts/login/")
    # Posting to another producer's product changes nothing.
    before = durian.stockrecords.get().price
    response = client.post(urls[2], form_data(price="1000"))
    assert response.status_code == (302 if role == "farmer" else FARMER_PAGES[role][2])
    if role != "farmer":
        assert durian.stockrecords.get().price == before


@pytest.mark.django_db
def test_a_farmer_sees_only_their_own_products(demo):
    people = users()
    response = client_for(people["farmer"]).get("/cua-hang/san-pham/")
    page = page_text(response)
    for upc in ("NS0005", "NS0006", "NS0007", "NS0008"):
        assert Product.objects.get(upc=upc).title in page
    assert Product.objects.get(upc="NS0009").title not in page  # Chư Sê pepper
    assert "120.000" in page  # price in đồng, formatted by Babel
    other = page_text(client_for(people["other_farmer"]).get("/cua-hang/san-pham/"))
    assert Product.objects.get(upc="NS0005").title not in other


@pytest.mark.django_db
def test_the_farmer_sees_the_rejection_reason(demo):
    people = users()
    farmer = client_for(people["farmer"])
    assert farmer.post("/cua-hang/san-pham/them/", form_data()).status_code == 302
    listing = Product.objects.get(title=TITLE).listing
    listings.reject_listing(listing=listing, by=people["operator"], reason="Ảnh bị mờ, chụp lại.")
    assert "Ảnh bị mờ, chụp lại." in page_text(farmer.get("/cua-hang/san-pham/"))
    edit = farmer.get(f"/cua-hang/san-pham/{listing.product_id}/sua/")
    assert "Ảnh bị mờ, chụp lại." in page_text(edit)


# --- Query budget --------------------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # warm up: session, site, basket
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_product_list_takes_the_same_queries_for_5_and_25_products(demo):
    people = users()
    other = ProducerProfile.objects.get(partner__users=people["other_farmer"])
    client = client_for(people["other_farmer"])
    make_products(other, people["other_farmer"], 5)
    few = _queries(client, "/cua-hang/san-pham/")
    make_products(other, people["other_farmer"], 20)
    many = _queries(client, "/cua-hang/san-pham/")
    assert few == many
    assert many <= 20  # the layout's own (session, basket, menu) included


@pytest.mark.parametrize(
    ("typed", "grouping", "expected"),
    [
        ("125000", True, Decimal(125000)),
        ("125.000", True, Decimal(125000)),
        ("1.250.000", True, Decimal(1250000)),
        ("1 250 000 ₫", True, Decimal(1250000)),
        ("12500.5", True, Decimal("12500.5")),
        ("12,5", True, Decimal("12.5")),
        ("1,250", False, Decimal("1.25")),  # a weight: 1.25 kg, not 1250 kg
        ("0,5 kg", False, Decimal("0.5")),
    ],
)
def test_numbers_are_read_as_people_in_vietnam_type_them(typed, grouping, expected):
    assert listings.parse_amount(typed, grouping=grouping) == expected


@pytest.mark.parametrize(
    "typed", ["", "mười", "1e400000", "NaN", "Infinity", "--5", "1.2.3", "9" * 40]
)
def test_what_is_not_a_number_is_refused(typed):
    with pytest.raises(ValueError):
        listings.parse_amount(typed)
