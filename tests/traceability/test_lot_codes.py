"""Lot codes with any character of GS1's AI encodable set 82, typed by a farmer, checked
by the one rule (traceability.gs1.validate_lot_code), and read back from their QR code
through the resolver to the trace page (as gunicorn and as runserver pass the path)."""

import io
from html import unescape
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image

from traceability import gs1
from traceability.models import Lot

from .conftest import FARMER, sign_in

pytestmark = pytest.mark.django_db

SET82_SPECIALS = "!\"%&'()*+,-./:;<=>?_"
CODES = [SET82_SPECIALS[:20], "A/B-2026", "x_" + SET82_SPECIALS[-10:], "L%2F"]


@pytest.fixture(autouse=True)
def _site_address(settings):
    settings.SITE_BASE_URL = "http://testserver"


def create(client, lot, code):
    producer = lot.producer
    return client.post(
        "/lo-hang/tao/",
        {
            "product": lot.product_id,
            "code": code,
            "quantity": "10",
            "unit": "kg",
            "province_code": producer.province_code,
            "commune_code": producer.commune_code,
            "production_date": "2026-11-01",
        },
    )


def test_the_rule_accepts_set_82_and_nothing_else():
    for code in CODES + ["A", "Z" * 20, "0123456789"]:
        gs1.validate_lot_code(code)
    for bad in ["", "A" * 21, "Lô1", "A B", "A#B", "A~B", "A\x00B", "²", "A\\B", "A@B", None]:
        with pytest.raises(gs1.ValidationError):
            gs1.validate_lot_code(bad)


@pytest.mark.parametrize("code", CODES)
def test_a_farmer_creates_the_lot_and_its_qr_leads_to_its_trace_page(client, gtin_lot, code):
    sign_in(client, FARMER)
    response = create(client, gtin_lot, code)
    assert response.status_code == 302, response.content.decode()[:3000]
    lot = Lot.objects.get(product=gtin_lot.product, code=code)
    assert response["Location"] == f"/lo-hang/{lot.pk}/"
    assert code in unescape(client.get(f"/lo-hang/{lot.pk}/").content.decode())

    png = client.get(f"/lo-hang/{lot.pk}/ma-qr.png")
    assert png.status_code == 200
    (found,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png.content)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    url = urlsplit(found.text)
    assert url.netloc == "testserver" and not url.query
    assert gs1.parse_digital_link(url.path).lot == code

    client.logout()
    for extra in ({"RAW_URI": url.path}, {}):  # gunicorn (raw path), runserver (decoded)
        # The test client decodes the path into PATH_INFO, as a WSGI server does.
        scanned = client.get(url.path, **extra)
        assert scanned.status_code == 307, (extra, scanned.content.decode()[:500])
        assert scanned["Location"] == f"/t/{lot.short_code}/"
        page = client.get(scanned["Location"])
        assert page.status_code == 200
        assert f"{gettext('Lot')} {code}" in unescape(page.content.decode()) or code in unescape(
            page.content.decode()
        )


@pytest.mark.parametrize("bad", ["Lô-1", "A B", "A#B", "A" * 21])
def test_other_characters_are_refused_in_vietnamese(client, gtin_lot, bad):
    sign_in(client, FARMER)
    response = create(client, gtin_lot, bad)
    assert response.status_code == 200
    with translation.override("vi"):
        message = gettext(
            "The lot code must have 1 to 20 characters of GS1's set: letters without "
            "accents, digits and ! \" % & ' ( ) * + , - . / : ; < = > ? _ only."
        )
    assert message != "" and message in unescape(response.content.decode())
    assert not Lot.objects.filter(code=bad).exists()
