"""Placing real orders through Oscar's checkout in tests (shared by the order tests).

``checkout(client, {"NS0005": 1, "NS0009": 2}, method="cod")`` adds the products to the
basket of the client's session (sign in first, or pass ``guest_email``), fills the
Vietnamese address form (Đắk Lắk by default), chooses the payment method and places the
order; it returns the new Order.
"""

from django.utils import translation
from oscar.core.loading import get_model

from marketplace.models import MarketplaceSettings
from tests.marketplace.test_checkout_address import GOOD

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")

BANK = {
    "bank_bin": "970436",
    "bank_name": "Vietcombank",
    "bank_account_number": "1023456789",
    "bank_account_name": "CONG TY NONG SAN",
}


def set_settings(**values):
    row = MarketplaceSettings.load()
    for key, value in values.items():
        setattr(row, key, value)
    row.save()


def checkout(client, quantities: dict, method="cod", address=None, guest_email=None):
    if method == "vietqr" and not MarketplaceSettings.load().vietqr_ready:
        set_settings(**BANK)
    for upc, quantity in quantities.items():
        product = Product.objects.get(upc=upc)
        client.post(f"/basket/add/{product.pk}/", {"quantity": quantity})
    if guest_email:
        client.post(
            "/checkout/",
            {"username": guest_email, "options": "anonymous", "password": ""},
        )
    response = client.post("/checkout/shipping-address/", address or GOOD)
    assert response.status_code == 302, response.content.decode()[:2000]
    client.get("/checkout/shipping-method/")
    client.get("/checkout/payment-method/")
    before = set(Order.objects.values_list("pk", flat=True))
    with translation.override("vi"):
        preview = client.post("/checkout/preview/", {"method": method})
        assert preview.status_code == 200
        client.post("/checkout/preview/", {"action": "place_order"})
    created = Order.objects.exclude(pk__in=before)
    assert created.count() == 1, "the order was not placed"
    return created.get()
