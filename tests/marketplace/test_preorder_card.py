"""A pre-order paid by card: the card page shows and Stripe charges what is due — the
deposit for the deposit, and for the order a converted pre-order becomes, the rest once
the deposit is counted (never the order total) — and Stripe's payment of that rest pays
the order."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from oscar.templatetags.currency_filters import currency

from marketplace.finance.checks import run_checks
from marketplace.payments.state import payment_state
from marketplace.preorders import services
from tests.marketplace import preorder_world as world
from tests.marketplace import test_stripe_fake
from tests.marketplace.test_farmer_products import users
from tests.marketplace.test_stripe_fake import deliver, event, source_of

fake_stripe = test_stripe_fake.fake_stripe
stripe_keys = test_stripe_fake.stripe_keys


@pytest.fixture
def people(demo):
    return users()


def card_page(user, order) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/thanh-toan/the/{order.number}/")
    assert response.status_code == 200
    return response.content.decode()


def shown_amount(html: str) -> str:
    found = re.search(r'class="nongsan-card-amount">([^<]+)<', html)
    assert found, "the card page shows an amount"
    return found.group(1)


def pay(client, fake, order):
    """Stripe takes the card payment of the order's PaymentIntent (as it now stands)."""
    pi_id = source_of(order).reference
    response = deliver(client, event("payment_intent.succeeded", fake.pay(pi_id)))
    assert response.status_code == 200
    return fake.intents[pi_id]["amount_received"]


def test_the_card_page_shows_and_charges_the_deposit_then_the_rest(people, stripe_keys, client):
    farmer, buyer = people["farmer"], world.buyer()
    win = world.window(farmer, cap=10, price=200000, deposit_percent=30)
    preorder = world.preorder(win, buyer, 2, method=services.CARD)
    deposit_order = preorder.deposit_order
    assert preorder.deposit == Decimal(120000)

    # The deposit: shown and charged, 120.000 ₫.
    html = card_page(buyer, deposit_order)
    assert shown_amount(html) == currency(Decimal(120000), "VND")
    assert pay(client, stripe_keys, deposit_order) == 120000
    assert payment_state(deposit_order).code == "paid"

    result = services.convert(window=win, lot_id=world.lot_of(win).pk, quantity=2, by=farmer)
    ((_p, order),) = result.filled
    total = order.total_incl_tax
    rest = total - Decimal(120000)
    assert payment_state(order).paid == Decimal(120000)

    # The order: the rest after the deposit, shown, in the button, and charged.
    html = card_page(buyer, order)
    assert shown_amount(html) == currency(rest, "VND")
    assert currency(total, "VND") not in html
    assert f"Thanh toán {currency(rest, 'VND')}" in html or f"Pay {currency(rest, 'VND')}" in html
    assert stripe_keys.intents[source_of(order).reference]["amount"] == int(rest)
    # Stripe's payment of the rest pays the order (the webhook expects what is due).
    assert pay(client, stripe_keys, order) == int(rest)
    state = payment_state(order)
    assert state.code == "paid" and state.paid == total
    assert "nongsan-card-form" not in card_page(buyer, order)
    assert run_checks() == []


def test_a_deposit_never_paid_leaves_the_whole_order_due(people, stripe_keys, client):
    farmer, buyer = people["farmer"], world.buyer()
    win = world.window(farmer, cap=10, price=200000, deposit_percent=30)
    world.preorder(win, buyer, 1, method=services.CARD)  # its deposit is never paid

    ((_p, order),) = services.convert(
        window=win, lot_id=world.lot_of(win).pk, quantity=1, by=farmer
    ).filled

    total = order.total_incl_tax
    assert shown_amount(card_page(buyer, order)) == currency(total, "VND")
    assert stripe_keys.intents[source_of(order).reference]["amount"] == int(total)
    assert pay(client, stripe_keys, order) == int(total)
    assert payment_state(order).code == "paid"
    assert run_checks() == []


def test_a_card_intent_made_for_more_than_is_due_is_brought_down_before_paying(
    people, stripe_keys, client
):
    """A PaymentIntent made for the whole order (before part of it was counted as paid)
    is changed to what is due when the buyer opens the card page, so that is charged."""
    buyer = world.buyer()
    order = test_stripe_fake.card_order(stripe_keys, total=140000, user=buyer)
    source = source_of(order)
    source.amount_allocated = Decimal(100000)  # part of the order cancelled
    source.save()

    assert shown_amount(card_page(buyer, order)) == currency(Decimal(100000), "VND")
    assert stripe_keys.intents[source.reference]["amount"] == 100000
    assert pay(client, stripe_keys, order) == 100000
    assert payment_state(order).code == "paid"
