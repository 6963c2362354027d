"""Paying by card at checkout: offered only with Stripe's keys, a PaymentIntent for the
order total (VND, zero-decimal) created server-side before the order is written, and the
buyer's own card page that mounts Stripe's Payment Element. Stripe is faked at the HTTP
layer (see test_stripe_fake)."""

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from marketplace.models import Parcel
from marketplace.payments.state import payment_state
from tests.marketplace import test_stripe_fake
from tests.marketplace.orders import checkout
from tests.marketplace.test_checkout_address import GOOD
from tests.marketplace.test_farmer_products import users
from tests.marketplace.test_stripe_fake import (
    PUBLISHABLE_KEY,
    deliver,
    event,
)

# The fake Stripe's fixtures, shared with the other card payment modules.
fake_stripe = test_stripe_fake.fake_stripe
stripe_keys = test_stripe_fake.stripe_keys

Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
Basket = get_model("basket", "Basket")

DURIAN = "NS0005"  # 120.000 ₫ a kg; 1 kg inside Đắk Lắk ships for 20.000 ₫ → 140.000 ₫
STRIPE_JS = "https://js.stripe.com/v3/"
UNAVAILABLE = (
    "Card payment is not available right now, so your order was not placed and "
    "nothing was charged. Please try again in a few minutes, or choose cash on "
    "delivery or bank transfer."
)


def page(response):
    return response.content.decode()


def vi(text):
    with translation.override("vi"):
        return gettext(text)


@pytest.fixture
def at_payment(client, demo):
    """A signed-in buyer with 1 kg of durian, an address in Đắk Lắk, at the payment step."""
    client.force_login(users()["buyer"])
    client.post(f"/basket/add/{Product.objects.get(upc=DURIAN).pk}/", {"quantity": 1})
    client.post("/checkout/shipping-address/", GOOD)
    client.get("/checkout/shipping-method/")
    client.get("/checkout/payment-method/")
    return client


# --- Offered only when configured ----------------------------------------------------------


@pytest.mark.django_db
def test_without_keys_the_card_is_hidden_and_refused(at_payment, settings, fake_stripe):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = ""  # one of the three missing is enough
    html = page(at_payment.get("/checkout/payment-details/"))
    assert 'value="cod"' in html and 'value="stripe"' not in html
    assert vi("Card (Visa, Mastercard, JCB)") not in html

    response = at_payment.post("/checkout/preview/", {"method": "stripe"})
    assert response.status_code == 200
    assert "alert-danger" in page(response)
    assert vi("Card payment is not available.") in page(response)
    at_payment.post("/checkout/preview/", {"action": "place_order"})
    assert not Order.objects.exists()
    assert fake_stripe.sent == []


@pytest.mark.django_db
def test_with_keys_the_card_is_offered_beside_cash_on_delivery(at_payment, stripe_keys):
    html = page(at_payment.get("/checkout/payment-details/"))
    assert 'value="cod"' in html and 'value="stripe"' in html
    assert vi("Card (Visa, Mastercard, JCB)") in html
    assert STRIPE_JS not in html  # Stripe.js only on the card page
    preview = at_payment.post("/checkout/preview/", {"method": "stripe"})
    assert preview.status_code == 200
    assert vi("Card (Visa, Mastercard, JCB)") in page(preview)
    assert stripe_keys.sent == []  # nothing asked of Stripe before "Place order"


# --- Placing the order -------------------------------------------------------------------------


@pytest.mark.django_db
def test_placing_a_card_order_creates_a_payment_intent_for_the_total_in_dong(
    at_payment, stripe_keys
):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    response = at_payment.post("/checkout/preview/", {"action": "place_order"})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/thanh-toan/the/{order.number}/"

    (sent,) = stripe_keys.calls("POST", "/v1/payment_intents")
    # VND is zero-decimal at Stripe: 140.000 ₫ is 140000, not 14000000.
    assert sent.params["amount"] == "140000" == str(int(order.total_incl_tax))
    assert sent.params["currency"] == "vnd"
    assert sent.params["metadata"] == {"order_number": order.number}
    assert sent.params["automatic_payment_methods"] == {"enabled": "true"}
    assert sent.headers["Idempotency-Key"] == f"nongsan-order-{order.number}"

    source = order.sources.get()
    assert source.source_type.code == "stripe"
    assert source.amount_allocated == 140000
    assert source.reference in stripe_keys.intents
    assert source.amount_debited == 0  # only Stripe's webhook marks it paid
    assert payment_state(order).code == "awaiting_card"
    # Paid in advance: the post office collects nothing on delivery.
    assert set(Parcel.objects.filter(order=order).values_list("cod_amount", flat=True)) == {0}


@pytest.mark.django_db
def test_the_card_page_mounts_stripes_payment_element_for_this_order(at_payment, stripe_keys):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    done = at_payment.post("/checkout/preview/", {"action": "place_order"}, follow=True)
    order = Order.objects.get()
    html = page(done)
    intent = stripe_keys.intents[order.sources.get().reference]
    assert done.status_code == 200
    assert f'<script src="{STRIPE_JS}"' in html
    assert "marketplace/card-payment.js" in html
    assert f'data-client-secret="{intent["client_secret"]}"' in html
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in html
    assert f'data-return-url="http://testserver/thanh-toan/the/{order.number}/"' in html
    assert "140.000" in html
    # It says the order waits for Stripe, and works without our script: a message is
    # there until the form mounts, and another for browsers without JavaScript.
    assert (
        vi(
            "Your order is placed and stays awaiting payment until Stripe confirms your card "
            "payment; nothing is shipped before that."
        )
        in html
    )
    assert 'id="nongsan-card-fallback"' in html and "<noscript>" in html
    assert done["Cache-Control"].startswith("max-age=0")
    assert 'name="robots" content="noindex"' in html


@pytest.mark.django_db
def test_the_card_page_in_english(at_payment, stripe_keys):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    at_payment.post("/checkout/preview/", {"action": "place_order"})
    order = Order.objects.get()
    html = page(at_payment.get(f"/en/thanh-toan/the/{order.number}/"))
    assert f"Pay order {order.number} by card" in html
    assert 'data-locale="en"' in html


@pytest.mark.parametrize(
    "failure",
    [
        "down",
        (500, {"type": "api_error", "message": "An unknown error occurred"}),
        (401, {"type": "invalid_request_error", "message": "Invalid API Key provided"}),
        (429, {"type": "invalid_request_error", "message": "Too many requests"}),
    ],
)
@pytest.mark.django_db
def test_when_stripe_fails_no_order_is_placed_and_the_buyer_is_told(
    at_payment, stripe_keys, failure
):
    if failure == "down":
        stripe_keys.down = True
    else:
        stripe_keys.fail_with = failure
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    with translation.override("vi"):
        response = at_payment.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 200
    assert vi(UNAVAILABLE) in page(response)
    assert 'name="action" value="place_order"' in page(response)  # still on the preview
    assert not Order.objects.exists()

    # The basket is intact: the buyer pays on delivery instead.
    at_payment.post("/checkout/preview/", {"method": "cod"})
    at_payment.post("/checkout/preview/", {"action": "place_order"})
    order = Order.objects.get()
    assert order.sources.get().source_type.code == "cod"
    assert order.lines.get().quantity == 1


@pytest.mark.django_db
def test_keys_removed_after_choosing_the_card_are_checked_at_place_order(
    at_payment, stripe_keys, settings
):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    settings.STRIPE_SECRET_KEY = ""
    response = at_payment.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 200
    assert vi("Card payment is not available.") in page(response)
    assert not Order.objects.exists()
    assert stripe_keys.sent == []


@pytest.mark.django_db
def test_a_guest_pays_by_card_from_the_same_browser_only(client, demo, stripe_keys):
    order = checkout(client, {DURIAN: 1}, method="stripe", guest_email="khach@example.com")
    assert order.user is None
    url = f"/thanh-toan/the/{order.number}/"
    assert client.get(url).status_code == 200
    assert Client().get(url).status_code == 404
    other = Client()
    other.force_login(users()["buyer"])
    assert other.get(url).status_code == 404


@pytest.mark.django_db
def test_only_the_buyer_sees_the_card_page(at_payment, stripe_keys):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    at_payment.post("/checkout/preview/", {"action": "place_order"})
    order = Order.objects.get()
    url = f"/thanh-toan/the/{order.number}/"
    people = users()
    for role in ("anonymous", "farmer", "other_farmer", "operator"):
        other = Client()
        if people[role] is not None:
            other.force_login(people[role])
        assert other.get(url).status_code == 404, role
    assert at_payment.get("/thanh-toan/the/999999/").status_code == 404


@pytest.mark.django_db
def test_no_card_page_for_a_cash_on_delivery_order(at_payment, stripe_keys):
    order = checkout(at_payment, {}, method="cod")
    assert at_payment.get(f"/thanh-toan/the/{order.number}/").status_code == 404


# --- The card page follows what Stripe says ----------------------------------------------------


@pytest.fixture
def placed(at_payment, stripe_keys):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    at_payment.post("/checkout/preview/", {"action": "place_order"})
    order = Order.objects.get()
    return at_payment, order, order.sources.get().reference


@pytest.mark.django_db
def test_once_the_webhook_confirms_the_page_says_paid_without_asking_stripe(placed, stripe_keys):
    buyer, order, pi_id = placed
    response = deliver(Client(), event("payment_intent.succeeded", stripe_keys.pay(pi_id)))
    assert response.status_code == 200
    before = len(stripe_keys.sent)
    html = page(buyer.get(f"/thanh-toan/the/{order.number}/"))
    assert (
        vi("Your card payment has been received. Thank you! We are preparing your order.") in html
    )
    assert STRIPE_JS not in html
    assert len(stripe_keys.sent) == before


@pytest.mark.django_db
def test_paid_at_stripe_but_not_yet_confirmed_shows_confirming(placed, stripe_keys):
    buyer, order, pi_id = placed
    stripe_keys.pay(pi_id)  # the webhook has not arrived yet
    html = page(buyer.get(f"/thanh-toan/the/{order.number}/?redirect_status=succeeded"))
    assert 'data-status="confirming"' in html
    assert 'http-equiv="refresh"' in html
    assert STRIPE_JS not in html
    assert payment_state(order).code == "awaiting_card"  # the page never marks it paid


@pytest.mark.django_db
def test_a_failed_payment_is_shown_and_the_buyer_can_retry(placed, stripe_keys):
    buyer, order, pi_id = placed
    intent = dict(stripe_keys.intents[pi_id])
    intent["last_payment_error"] = {"code": "card_declined", "message": "Your card was declined."}
    assert deliver(Client(), event("payment_intent.payment_failed", intent)).status_code == 200
    html = page(buyer.get(f"/thanh-toan/the/{order.number}/"))
    assert "nongsan-card-failed" in html
    assert (
        vi(
            "Your last card payment did not go through and nothing was charged. You can try "
            "again with the same card or another one."
        )
        in html
    )
    assert STRIPE_JS in html and "data-client-secret" in html  # the form again


@pytest.mark.django_db
def test_back_from_the_bank_with_a_failure(placed, stripe_keys):
    buyer, order, _pi = placed
    html = page(buyer.get(f"/thanh-toan/the/{order.number}/?redirect_status=failed"))
    assert "nongsan-card-failed" in html and STRIPE_JS in html
    html = page(buyer.get(f"/thanh-toan/the/{order.number}/"))
    assert "nongsan-card-failed" not in html


@pytest.mark.django_db
def test_stripe_unreachable_or_keys_gone_on_the_card_page(placed, stripe_keys, settings):
    buyer, order, _pi = placed
    url = f"/thanh-toan/the/{order.number}/"
    stripe_keys.down = True
    response = buyer.get(url)
    assert response.status_code == 200
    assert vi(
        "We cannot reach the card payment service right now. Your order is kept: reload "
        "this page in a few minutes."
    ) in page(response)
    assert STRIPE_JS not in page(response)

    stripe_keys.down = False
    settings.STRIPE_PUBLISHABLE_KEY = ""
    response = buyer.get(url)
    assert response.status_code == 200
    assert 'data-status="unavailable"' in page(response)
    assert STRIPE_JS not in page(response)


@pytest.mark.django_db
def test_the_thank_you_page_links_to_the_card_page(placed):
    buyer, order, _pi = placed
    html = page(buyer.get("/checkout/thank-you/"))
    assert f'href="/thanh-toan/the/{order.number}/"' in html


@pytest.mark.django_db
def test_the_basket_is_emptied_once_the_card_order_is_placed(placed):
    buyer, order, _pi = placed
    assert order.basket.status == "Submitted"
    open_basket = Basket.objects.filter(owner=order.user, status="Open").first()
    assert open_basket is None or open_basket.num_lines == 0


@pytest.mark.django_db
def test_after_a_refund_the_card_page_says_so(placed, stripe_keys):
    from marketplace.payments.state import record_refund

    buyer, order, pi_id = placed
    deliver(Client(), event("payment_intent.succeeded", stripe_keys.pay(pi_id)))
    record_refund(order, amount=40000, reference="re_x")
    html = page(buyer.get(f"/thanh-toan/the/{order.number}/"))
    assert str(payment_state(order).label) == vi("Partly refunded")
    assert vi("Partly refunded") in html and "40.000" in html
    assert STRIPE_JS not in html


@pytest.mark.django_db(transaction=True)
def test_stripe_is_asked_outside_any_transaction_and_the_order_written_in_one(
    at_payment, stripe_keys, monkeypatch
):
    """Waiting for Stripe holds no lock (on SQLite a transaction holds every writer of the
    site); the order, its lines, parcels and payment are written together afterwards."""
    from django.db import connection

    from marketplace.payments import stripe_gateway

    seen = {}
    create = stripe_gateway.create_payment_intent

    def watched(**kwargs):
        seen["in_transaction"] = connection.in_atomic_block
        seen["orders"] = Order.objects.count()
        return create(**kwargs)

    monkeypatch.setattr(stripe_gateway, "create_payment_intent", watched)
    response = at_payment.post("/checkout/preview/", {"action": "place_order", "method": "stripe"})
    assert response.status_code == 302
    assert seen == {"in_transaction": False, "orders": 0}
    order = Order.objects.get()
    assert order.sources.get().source_type.code == "stripe"
    assert order.lines.count() == 1 and Parcel.objects.filter(order=order).count() == 1
