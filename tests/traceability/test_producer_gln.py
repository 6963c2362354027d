"""A producer's GLN, entered by the farmer or by staff for members in their scope (not
only in the admin), checked by the one rule (marketplace.core.validators.validate_gln)."""

import pytest
from django.utils.translation import gettext, override

from marketplace.core.validators import gs1_check_digit
from traceability import epcis
from traceability.models import Lot

from .conftest import ASSOCIATION, BUYER, FARMER, POST_OFFICE, sign_in

pytestmark = pytest.mark.django_db

BODY = "893123400001"
GLN = BODY + str(gs1_check_digit(BODY))
WRONG = BODY + str((gs1_check_digit(BODY) + 1) % 10)


def test_the_farmer_reaches_the_screen_from_home_and_sets_the_gln(client, traces):
    producer = Lot.objects.get(code="DEMO-NS0005").producer
    sign_in(client, FARMER)
    home = client.get("/cua-hang/").content.decode()
    assert 'href="/lo-hang/ma-gln/"' in home
    listing = client.get("/lo-hang/ma-gln/").content.decode()
    assert f'href="/lo-hang/ma-gln/{producer.pk}/"' in listing
    assert producer.partner.name in listing

    url = f"/lo-hang/ma-gln/{producer.pk}/"
    for bad, message in (
        (WRONG, "The last digit (check digit) of this GLN is wrong."),
        ("12345", "A GLN (GS1 location number) has 13 digits."),
        ("89312340000²", "A GLN (GS1 location number) has 13 digits."),
    ):
        response = client.post(url, {"gln": bad})
        assert response.status_code == 200
        with override("vi"):
            assert gettext(message) in response.content.decode(), bad
        producer.refresh_from_db()
        assert producer.gln == ""

    response = client.post(url, {"gln": f" {GLN} "})
    assert response.status_code == 302 and response["Location"] == "/lo-hang/ma-gln/"
    producer.refresh_from_db()
    assert producer.gln == GLN
    assert GLN in client.get("/lo-hang/ma-gln/").content.decode()
    # Where EPCIS exports now place the producer.
    assert epcis.producer_location(producer) == f"https://id.gs1.org/414/{GLN}"
    # Emptied again: no GLN, the producer's own URI.
    client.post(url, {"gln": ""})
    producer.refresh_from_db()
    assert producer.gln == "" and "414" not in epcis.producer_location(producer)


def test_staff_set_it_for_members_in_their_scope_only(client, traces):
    producer = Lot.objects.get(code="DEMO-NS0005").producer  # Krông Pắc, Đắk Lắk
    sign_in(client, POST_OFFICE)
    assert f"/lo-hang/ma-gln/{producer.pk}/" in client.get("/lo-hang/ma-gln/").content.decode()
    assert client.post(f"/lo-hang/ma-gln/{producer.pk}/", {"gln": GLN}).status_code == 302
    producer.refresh_from_db()
    assert producer.gln == GLN

    client.logout()
    sign_in(client, ASSOCIATION)  # the Ea Kiết branch: not this producer's commune
    assert f"/lo-hang/ma-gln/{producer.pk}/" not in client.get("/lo-hang/ma-gln/").content.decode()
    assert client.post(f"/lo-hang/ma-gln/{producer.pk}/", {"gln": ""}).status_code == 404
    producer.refresh_from_db()
    assert producer.gln == GLN


def test_buyers_and_visitors_cannot(client, traces):
    producer = Lot.objects.get(code="DEMO-NS0005").producer
    assert client.get("/lo-hang/ma-gln/").status_code == 302
    sign_in(client, BUYER)
    assert client.get("/lo-hang/ma-gln/").status_code == 403
    assert client.post(f"/lo-hang/ma-gln/{producer.pk}/", {"gln": GLN}).status_code == 403
