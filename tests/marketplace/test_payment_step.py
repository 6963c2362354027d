"""The payment step: cash on delivery by default, VietQR transfer when the operator has a
bank account; the choice is re-checked against the server's total at "Place order"."""

import pytest
from django.utils import translation
from oscar.core.loading import get_model

from marketplace.models import MarketplaceSettings
from marketplace.payments import vietqr
from marketplace.payments.checkout import vietqr_for
from tests.marketplace.test_checkout_address import GOOD
from tests.marketplace.test_farmer_products import users

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")

DURIAN = "NS0005"  # 120.000 ₫ a kg; 1 kg inside Đắk Lắk ships for 20.000 ₫


def set_settings(**values):
    row = MarketplaceSettings.load()
    for key, value in values.items():
        setattr(row, key, value)
    row.save()


BANK = {
    "bank_bin": "970436",
    "bank_name": "Vietcombank",
    "bank_account_number": "1023456789",
    "bank_account_name": "CONG TY NONG SAN",
}


@pytest.fixture
def at_payment(client, demo):
    """A signed-in buyer with 1 kg of durian, an address in Đắk Lắk, at the payment step."""
    client.force_login(users()["buyer"])
    client.post(f"/basket/add/{Product.objects.get(upc=DURIAN).pk}/", {"quantity": 1})
    client.post("/checkout/shipping-address/", GOOD)
    client.get("/checkout/shipping-method/")
    client.get("/checkout/payment-method/")
    return client


def page(response):
    return response.content.decode()


@pytest.mark.django_db
def test_cash_on_delivery_is_the_default_and_transfer_needs_a_bank_account(at_payment):
    html = page(at_payment.get("/checkout/payment-details/"))
    assert 'value="cod"' in html and "checked" in html
    assert 'value="vietqr"' not in html
    set_settings(**BANK)
    html = page(at_payment.get("/checkout/payment-details/"))
    assert 'value="vietqr"' in html
    assert "needs implementing" not in html  # Oscar's placeholder is gone


@pytest.mark.django_db
def test_cash_on_delivery_order(at_payment):
    preview = at_payment.post("/checkout/preview/", {"method": "cod"})
    assert preview.status_code == 200
    with translation.override("vi"):
        assert str(translation.gettext("Cash on delivery")) in page(preview)
    done = at_payment.post("/checkout/preview/", {"action": "place_order"}, follow=True)
    order = Order.objects.get()
    source = order.sources.get()
    assert source.source_type.code == "cod"
    assert source.amount_allocated == order.total_incl_tax == 140000
    assert source.amount_debited == 0  # the post office collects it on delivery
    assert "nongsan-vietqr" not in page(done)


@pytest.mark.django_db
def test_vietqr_order_shows_a_code_with_the_amount_and_the_order_number(at_payment):
    set_settings(**BANK)
    at_payment.post("/checkout/preview/", {"method": "vietqr"})
    done = at_payment.post("/checkout/preview/", {"action": "place_order"}, follow=True)
    order = Order.objects.get()
    html = page(done)
    assert "nongsan-vietqr" in html and "<svg" in html
    assert "1023456789" in html and "CONG TY NONG SAN" in html

    info = vietqr_for(order)
    fields = vietqr.parse(info["payload"])  # checks the CRC
    assert fields["54"] == "140000"
    assert vietqr.subfields(fields["62"])["08"] == order.number
    assert vietqr.subfields(vietqr.subfields(fields["38"])["01"]) == {
        "00": "970436",
        "01": "1023456789",
    }
    assert order.sources.get().reference == order.number


@pytest.mark.django_db
def test_cash_on_delivery_above_the_operators_limit_is_refused(at_payment):
    set_settings(cod_max_amount=100000, **BANK)
    with translation.override("en"):
        response = at_payment.post("/en/checkout/preview/", {"method": "cod"})
        assert response.status_code == 200
        assert "up to ₫100,000" in page(response)
    assert at_payment.post("/checkout/preview/", {"method": "vietqr"}).status_code == 200


@pytest.mark.django_db
def test_a_limit_set_after_choosing_is_applied_when_placing_the_order(at_payment):
    at_payment.post("/checkout/preview/", {"method": "cod"})
    set_settings(cod_max_amount=100000)
    response = at_payment.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 200  # back at the payment choice, with the reason
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "card", "free", "vietqr"])
def test_a_method_not_offered_is_refused(at_payment, value):
    response = at_payment.post("/checkout/preview/", {"method": value})
    assert response.status_code == 200
    assert "alert-danger" in page(response)
    response = at_payment.post("/checkout/preview/", {"action": "place_order"})
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_payment_page_confirms_the_order_in_one_step(at_payment):
    """The payment page shows where the order goes, what is in it and what it comes to,
    and its one button places it with the method chosen there."""
    with translation.override("vi"):
        html = page(at_payment.get("/checkout/payment-details/"))
        assert "Xác nhận đơn hàng" in html and "Nội dung đơn hàng" in html
        assert "Ea Kao" in html  # the delivery address
        assert "140.000" in html  # 120.000 durian + 20.000 delivery
        assert 'name="action" value="place_order"' in html
        assert 'id="place-order"' in html
        assert "4. Xem trước" not in html  # no separate preview step any more
    set_settings(**BANK)
    done = at_payment.post(
        "/checkout/preview/", {"action": "place_order", "method": "vietqr"}, follow=True
    )
    assert done.redirect_chain[-1][0] == "/checkout/thank-you/"
    order = Order.objects.get()
    assert order.sources.get().source_type.code == "vietqr"
    assert order.total_incl_tax == 140000
    assert "nongsan-vietqr" in page(done)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", "card", "free", "vietqr"])
def test_placing_with_a_method_not_offered_places_nothing(at_payment, value):
    response = at_payment.post("/checkout/preview/", {"action": "place_order", "method": value})
    assert response.status_code == 200
    html = page(response)
    assert "alert-danger" in html and 'id="place-order"' in html  # choose again, same page
    assert not Order.objects.exists()
    assert at_payment.get("/basket/").context["basket"].num_items == 1  # nothing lost


@pytest.mark.django_db
def test_placing_cash_on_delivery_above_the_limit_says_why(at_payment):
    set_settings(cod_max_amount=100000)
    with translation.override("vi"):
        response = at_payment.post("/checkout/preview/", {"action": "place_order", "method": "cod"})
        assert response.status_code == 200
        assert "100.000" in page(response) and "chuyển khoản" in page(response)
    assert not Order.objects.exists()
