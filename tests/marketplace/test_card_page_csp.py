"""The card page's Content-Security-Policy adds exactly Stripe's origins (Stripe.js, its API,
its frames and 3-D Secure hooks); no other page allows them."""

import pytest
from oscar.core.loading import get_model

from tests.marketplace.test_stripe_checkout import at_payment, fake_stripe, stripe_keys

__all__ = ["at_payment", "fake_stripe", "stripe_keys"]

Order = get_model("order", "Order")


def policy(response) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:]
        for part in response["Content-Security-Policy"].split("; ")
    }


@pytest.mark.django_db
def test_the_card_page_allows_exactly_stripes_origins(at_payment, stripe_keys):
    at_payment.post("/checkout/preview/", {"method": "stripe"})
    at_payment.post("/checkout/preview/", {"action": "place_order"})
    order = Order.objects.get()
    response = at_payment.get(f"/thanh-toan/the/{order.number}/")
    assert response.status_code == 200
    assert "https://js.stripe.com/v3/" in response.content.decode()
    csp = policy(response)
    assert csp["script-src"] == ["'self'", "https://js.stripe.com"]
    assert csp["frame-src"] == ["'self'", "https://js.stripe.com", "https://hooks.stripe.com"]
    assert csp["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    # The thank-you and payment pages around it do not.
    for url in ("/checkout/thank-you/", "/checkout/payment-details/", "/basket/"):
        assert "stripe" not in at_payment.get(url)["Content-Security-Policy"]
