"""`seed_demo` gives a real-looking provincial marketplace, and running it twice doubles nothing."""

import io
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from oscar.core.loading import get_model
from PIL import Image

from marketplace.core import geo
from marketplace.models import ProducerProfile

Product = get_model("catalogue", "Product")
Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
ProductImage = get_model("catalogue", "ProductImage")


def _counts():
    return {
        "products": Product.objects.count(),
        "categories": Category.objects.count(),
        "producers": Partner.objects.count(),
        "profiles": ProducerProfile.objects.count(),
        "stock": StockRecord.objects.count(),
        "images": ProductImage.objects.count(),
        "users": get_user_model().objects.count(),
    }


@pytest.mark.django_db
def test_demo_has_enough_of_everything(demo):
    assert Product.objects.filter(is_public=True).count() >= 30
    assert Category.objects.filter(product__isnull=False).distinct().count() >= 6
    producers = ProducerProfile.objects.all()
    assert producers.count() >= 8
    kinds = set(producers.values_list("kind", flat=True))
    assert {ProducerProfile.Kind.HOUSEHOLD, ProducerProfile.Kind.COOPERATIVE} <= kinds
    provinces = set(producers.values_list("province_code", flat=True))
    assert len(provinces) >= 5
    # Only provinces and communes of the 34-province map of July 2025.
    for profile in producers:
        assert geo.is_valid_province(profile.province_code)
        assert geo.commune_in_province(profile.commune_code, profile.province_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title_part", "province"),
    [
        ("Cà phê Robusta Buôn Ma Thuột", "Đắk Lắk"),
        ("Sầu riêng", "Đắk Lắk"),
        ("Hồ tiêu đen Chư Sê", "Gia Lai"),
        ("Sâm Ngọc Linh", "Quảng Ngãi"),
        ("Hồng không hạt Chợ Đồn", "Thái Nguyên"),
        ("Gạo ST25", "Cần Thơ"),
    ],
)
def test_known_specialities_come_from_their_provinces(demo, title_part, province):
    product = Product.objects.filter(title__contains=title_part).first()
    assert product is not None, title_part
    profile = product.stockrecords.get().partner.producer_profile
    assert province in profile.province_name


@pytest.mark.django_db
def test_every_product_has_picture_description_stock_and_whole_dong_price(demo):
    for product in Product.objects.prefetch_related("images", "stockrecords"):
        assert product.description
        [record] = product.stockrecords.all()
        assert record.num_in_stock > 0
        assert record.price_currency == "VND"
        assert record.price > 0 and record.price == record.price.to_integral_value()
        [image] = product.images.all()
        with image.original.open("rb") as fh:
            picture = Image.open(io.BytesIO(fh.read()))
            assert picture.format == "JPEG" and picture.size == (600, 600)


@pytest.mark.django_db
def test_running_seed_demo_twice_doubles_nothing(demo):
    before = _counts()
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", force=True, without_orders=True, stdout=devnull)
    assert _counts() == before


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production(blank_db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo")
    assert Product.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_prints_how_to_sign_in(blank_db, search_index):
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    text = out.getvalue()
    for email in (
        "nguoimua@nongsan.test",
        "nongdan@nongsan.test",
        "canbohoi@nongsan.test",
        "buudien@nongsan.test",
        "quantri@nongsan.test",
    ):
        assert email in text
    assert "nongsan2026" in text


@pytest.mark.django_db
def test_every_demo_producer_has_a_photo_on_its_shop_page(client, demo):
    for profile in ProducerProfile.objects.prefetch_related("photos"):
        [photo] = profile.photos.all()
        html = client.get(f"/nha-san-xuat/{profile.slug}/").content.decode()
        assert photo.image.url in html


def test_demo_durians_are_drawn_as_durians_not_apples():
    """The fruit category's motif is round red/yellow/green fruit with a stem; a durian
    picture is green-brown husks only, with no apple red."""
    from marketplace.demo.images import draw_product_image

    picture = Image.open(io.BytesIO(draw_product_image("NS0005", "fruit", "Sầu riêng Ri6")))
    pixels = list(picture.convert("RGB").get_flattened_data())
    red = sum(1 for r, g, b in pixels if r > 170 and g < 100 and b < 100)
    olive = sum(1 for r, g, b in pixels if 90 < r < 170 and 100 < g < 170 and b < 90)
    assert red == 0
    assert olive > len(pixels) // 5
    apple_like = Image.open(io.BytesIO(draw_product_image("NS0005", "fruit")))
    assert apple_like.tobytes() != picture.tobytes()
