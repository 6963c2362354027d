"""Photos on farm events: taken with a phone, cleaned like every upload, stored under the
hash of their bytes, covered by the event's hash, shown on the trace page."""

import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.marketplace.test_uploads import jpeg_with_gps, png_bomb
from traceability.models import FarmEvent, Lot, verify_chain
from traceability.services import PHOTO_DIR

from .conftest import FARMER, sign_in

pytestmark = pytest.mark.django_db


def photo(name="ruong.jpg", data=None):
    return SimpleUploadedFile(name, data or jpeg_with_gps(), content_type="image/jpeg")


def post_event(client, lot, **files):
    today = timezone.localdate().isoformat()
    return client.post(
        f"/lo-hang/{lot.pk}/su-kien/",
        {
            "kind": "growing_note",
            "event_date": today,
            "event_clock": "07:30",
            "notes": "Cây ra hoa đều",
            **files,
        },
    )


@pytest.fixture
def farmer_lot(client, traces):
    sign_in(client, FARMER)
    return client, Lot.objects.get(code="DEMO-NS0005")


def test_a_farmer_attaches_photos_and_buyers_see_them(farmer_lot):
    client, lot = farmer_lot
    before = lot.events.count()
    response = post_event(client, lot, photos=[photo("a.jpg"), photo("b.png")])
    assert response.status_code == 302
    event = lot.events.order_by("-sequence").first()
    assert lot.events.count() == before + 1
    names = event.details["photos"]
    assert len(names) == 2 and len(set(names)) == 1  # the same picture twice: one file
    path = f"{PHOTO_DIR}/{names[0]}"
    with default_storage.open(path) as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == names[0].split(".")[0]
    stored = Image.open(io.BytesIO(data))
    assert not stored.getexif().get_ifd(0x8825)  # GPS removed
    assert verify_chain(lot) == (True, None)

    page = Client().get(f"/t/{lot.short_code}/").content.decode()
    assert default_storage.url(path) in page and 'loading="lazy"' in page


def test_photo_names_are_covered_by_the_hash_chain(farmer_lot):
    client, lot = farmer_lot
    post_event(client, lot, photos=[photo()])
    event = lot.events.order_by("-sequence").first()
    swapped = {**event.details, "photos": ["0" * 64 + ".jpg"]}
    with connection.cursor() as cursor:
        import json

        cursor.execute(
            "UPDATE traceability_farmevent SET details = %s WHERE id = %s",
            [json.dumps(swapped), event.pk],
        )
    assert verify_chain(Lot.objects.get(pk=lot.pk)) == (False, event.sequence)


@pytest.mark.parametrize(
    ("files", "message_part"),
    [
        ({"photos": [SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo")]}, "JPEG"),
        ({"photos": [SimpleUploadedFile("bomb.png", png_bomb(), content_type="image/png")]}, ""),
        ({"photos": [photo(f"{i}.jpg") for i in range(4)]}, "3"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_recorded(farmer_lot, files, message_part):
    client, lot = farmer_lot
    before = lot.events.count()
    response = post_event(client, lot, **files)
    assert response.status_code == 200
    html = response.content.decode()
    assert "invalid-feedback" in html and message_part in html
    assert "Cây ra hoa đều" in html  # what was typed is kept
    assert lot.events.count() == before
    assert FarmEvent.objects.filter(lot=lot, details__has_key="photos").count() == 0
