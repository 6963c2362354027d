"""The delivery address at checkout is Vietnamese: full name, phone, province → commune,
street or hamlet; the delivery price then follows the buyer's province."""

import pytest
from django.utils import translation
from oscar.core.loading import get_class, get_model

from marketplace.payments.address_forms import match_commune
from tests.marketplace.test_farmer_products import users

ShippingAddressForm = get_class("checkout.forms", "ShippingAddressForm")
Product = get_model("catalogue", "Product")

DAK_LAK, HA_NOI = 66, 1
GOOD = {
    "first_name": "Nguyễn Thị Hoa",
    "phone_number": "0912 345 678",
    "province": str(DAK_LAK),
    "commune": "Ea Kao",
    "line1": "Thôn 3",
    "notes": "",
}


def test_oscars_checkout_uses_the_vietnamese_form():
    assert ShippingAddressForm.__module__ == "marketplace.payments.address_forms"


@pytest.mark.django_db
def test_a_good_address_is_stored_in_oscars_columns():
    form = ShippingAddressForm(data=GOOD)
    assert form.is_valid(), form.errors
    address = form.save(commit=False)
    assert address.first_name == "Nguyễn Thị Hoa"
    assert str(address.phone_number) == "+84912345678"
    assert address.line4 == "Phường Ea Kao"
    assert address.state == "Đắk Lắk"
    assert address.country.iso_3166_1_a2 == "VN"
    assert "country" not in form.fields  # the only shipping country


@pytest.mark.parametrize(
    "typed",
    ["Ea Kao", "ea kao", "EA KAO", "Phường Ea Kao", "phuong ea kao", "Xã Ea Kao", " Ea  Kao "],
)
def test_the_commune_is_found_with_or_without_diacritics_and_prefix(typed):
    code, close = match_commune(DAK_LAK, typed)
    assert code is not None and close == []


def test_buon_ma_thuot_without_diacritics():
    code, _close = match_commune(DAK_LAK, "phuong buon ma thuot")
    assert code is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"phone_number": ""}, "phone_number", "This field is required."),
        ({"phone_number": "12345"}, "phone_number", "Vietnamese phone number"),
        ({"phone_number": "+33 1 42 68 53 00"}, "phone_number", "Vietnamese phone number"),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"line1": ""}, "line1", "This field is required."),
        ({"province": ""}, "province", "This field is required."),
        ({"province": "999"}, "province", "Select a valid choice"),
        ({"province": "abc"}, "province", "Select a valid choice"),
        ({"commune": ""}, "commune", "This field is required."),
        ({"commune": "Ea Kao", "province": str(HA_NOI)}, "commune", "no commune or ward"),
        ({"commune": "Atlantis"}, "commune", "no commune or ward"),
    ],
)
def test_bad_addresses_get_a_message_on_the_field(change, field, message):
    with translation.override("en"):
        form = ShippingAddressForm(data={**GOOD, **change})
        assert not form.is_valid()
        assert message in " ".join(form.errors[field])


@pytest.mark.django_db
def test_a_near_miss_gets_suggestions():
    with translation.override("en"):
        form = ShippingAddressForm(data={**GOOD, "commune": "Ea Kaoo"})
        assert not form.is_valid()
        assert "Did you mean: Phường Ea Kao" in form.errors["commune"][0]


@pytest.mark.django_db
def test_checkout_prices_delivery_for_the_buyers_province(client, demo):
    client.force_login(users()["buyer"])
    durian = Product.objects.get(upc="NS0005")  # Krông Pắc, Đắk Lắk, 1 kg
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})

    page = client.get("/checkout/shipping-address/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="province"' in html and 'name="commune"' in html

    bad = client.post("/checkout/shipping-address/", {**GOOD, "commune": "Atlantis"})
    assert bad.status_code == 200  # the form again, with the message, nothing lost
    assert "Thôn 3" in bad.content.decode()

    response = client.post("/checkout/shipping-address/", GOOD)
    # One method only: the choice is skipped, Vietnam Post recorded, on to payment.
    assert response.status_code == 302
    assert response["Location"] == "/checkout/payment-details/"
    method_page = client.get("/checkout/shipping-method/")  # still there, and says the same
    assert method_page.status_code == 302
    preview = client.get("/checkout/preview/").content.decode()
    assert "20.000\xa0₫" in preview  # 1 kg inside Đắk Lắk
    assert "140.000\xa0₫" in preview  # 120.000 ₫ of durian + delivery


@pytest.mark.django_db
def test_without_a_delivery_method_the_address_step_says_so_instead_of_going_on(client, demo):
    """Rates missing for a zone: no method delivers, so the address step does not skip to
    payment; Oscar's method step sends the buyer back with a message, the address kept."""
    from marketplace.fulfilment import shipping

    shipping.ensure_default_rates()
    client.force_login(users()["buyer"])
    durian = Product.objects.get(upc="NS0005")
    client.post(f"/basket/add/{durian.pk}/", {"quantity": 1})
    get_model("shipping", "WeightBased").objects.get(code="vnpost-same-region").bands.all().delete()

    response = client.post("/checkout/shipping-address/", GOOD)
    assert response["Location"] == "/checkout/shipping-method/"
    back = client.get(response["Location"], follow=True)
    assert back.redirect_chain[-1][0] == "/checkout/shipping-address/"
    text = back.content.decode()
    assert "Thôn 3" in text  # what the buyer typed is still there
    with translation.override("vi"):
        from django.utils.translation import gettext

        assert gettext(
            "Shipping is unavailable for your chosen address - please choose another"
        ) in text.replace("&#x27;", "'")
