import io

import pytest
from oscar.core.loading import get_model

from marketplace.core.validators import gs1_check_digit

Product = get_model("catalogue", "Product")

PASSWORD = "nongsan2026"
BUYER = "nguoimua@nongsan.test"
FARMER = "nongdan@nongsan.test"
ASSOCIATION = "canbohoi@nongsan.test"  # branch of Ea Kiết: not the farmer's commune
POST_OFFICE = "buudien@nongsan.test"  # Đắk Lắk province: covers the farmer
OPERATOR = "quantri@nongsan.test"

GTIN13_BODY = "893123456789"
GTIN13 = GTIN13_BODY + str(gs1_check_digit(GTIN13_BODY))


def sign_in(client, email):
    response = client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": PASSWORD, "login_submit": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:500]


@pytest.fixture
def traces(demo):
    """The demo marketplace with the traceability demo lots."""
    from traceability import demo as trace_demo

    lines = trace_demo.seed(io.StringIO())
    return lines


@pytest.fixture
def gtin_lot(traces):
    """The demo lot of NS0005 (the demo farmer's Ri6 durian), its product given a real
    GTIN-13 so that GS1 Digital Links resolve to it."""
    from traceability.models import Lot

    Product.objects.filter(upc="NS0005").update(upc=GTIN13)
    return Lot.objects.select_related("product").get(product__upc=GTIN13, code="DEMO-NS0005")
