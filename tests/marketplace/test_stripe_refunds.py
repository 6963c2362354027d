"""The operator refunds a card payment through Stripe, partly or fully, never more than
was paid — not even with two refunds at once — and the ``charge.refunded`` webhook that
follows does not count it twice."""

import html
import threading
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from marketplace.models import Refund
from marketplace.payments.refund_views import RefundRefused, refund_card
from marketplace.payments.state import payment_state, record_payment
from tests.marketplace import test_stripe_fake
from tests.marketplace.test_farmer_products import users
from tests.marketplace.test_stripe_fake import (
    card_order,
    deliver,
    event,
    source_of,
)

# The fake Stripe's fixtures, shared with the other card payment modules.
fake_stripe = test_stripe_fake.fake_stripe
stripe_keys = test_stripe_fake.stripe_keys

PaymentEvent = get_model("order", "PaymentEvent")
Source = get_model("payment", "Source")
SourceType = get_model("payment", "SourceType")


def url(order):
    return f"/quan-tri/don-hang/{order.number}/hoan-tien/"


def page(response):
    return html.unescape(response.content.decode())


def en(text, **values):
    with translation.override("en"):
        return gettext(text) % values if values else gettext(text)


def vi(text, **values):
    with translation.override("vi"):
        return gettext(text) % values if values else gettext(text)


@pytest.fixture
def operator(db):
    user = get_user_model().objects.create_superuser(
        username="quantri-test", email="quantri-test@nongsan.test", password="x"
    )
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def paid(stripe_keys):
    """A card order of 140.000 ₫, paid (as the webhook records it)."""
    order = card_order(stripe_keys)
    pi_id = source_of(order).reference
    stripe_keys.pay(pi_id)
    record_payment(order, method="stripe", amount=140000, reference=pi_id)
    return order


def refunds_sent(fake):
    return fake.calls("POST", "/v1/refunds")


# --- Who may ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_operator_opens_the_refund_page(demo, paid):
    people = users()
    anonymous = Client().get(url(paid))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for role in ("buyer", "farmer", "other_farmer", "branch_staff", "post_office_staff"):
        client = Client()
        client.force_login(people[role])
        assert client.get(url(paid)).status_code == 403, role
        assert client.post(url(paid), {"amount": "140000"}).status_code == 403, role
    operator = Client()
    operator.force_login(people["operator"])
    assert operator.get(url(paid)).status_code == 200
    assert operator.get("/quan-tri/don-hang/999999/hoan-tien/").status_code == 404
    assert Source.objects.get(order=paid).amount_refunded == 0
    assert not Refund.objects.exists()


# --- Refunding -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_shows_paid_refunded_and_refundable(operator, paid):
    text = page(operator.get(url(paid)))
    assert 'data-paid="140000"' in text
    assert 'data-refunded="0"' in text
    assert 'data-refundable="140000"' in text
    assert 'name="amount"' in text


@pytest.mark.django_db
def test_a_partial_refund_goes_through_stripe_and_is_recorded(operator, paid, stripe_keys):
    response = operator.post(url(paid), {"amount": "50.000", "reason": "Quả bị dập"})
    assert response.status_code == 302 and response["Location"] == url(paid)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.reason) == (50000, "succeeded", "Quả bị dập")
    assert refund.created_by == operator.user
    (sent,) = refunds_sent(stripe_keys)
    assert sent.params == {"payment_intent": source_of(paid).reference, "amount": "50000"}
    assert sent.headers["Idempotency-Key"] == f"nongsan-refund-{refund.pk}"
    assert refund.stripe_refund_id == next(iter(stripe_keys.refunds))

    source = source_of(paid)
    assert (source.amount_debited, source.amount_refunded) == (140000, 50000)
    assert payment_state(paid).code == "partly_refunded"
    text = page(operator.get(url(paid)))
    assert 'data-refundable="90000"' in text
    assert vi("%(amount)s refunded to the buyer's card.", amount="50.000\xa0₫") in text


@pytest.mark.django_db
def test_a_full_refund_leaves_nothing_to_refund(operator, paid, stripe_keys):
    operator.post(url(paid), {"amount": "40000"})
    operator.post(url(paid), {"amount": "100000"})
    source = source_of(paid)
    assert source.amount_refunded == 140000
    assert payment_state(paid).code == "refunded"
    text = page(operator.get(url(paid)))
    assert 'name="amount"' not in text
    assert vi("Nothing is left to refund on this order.") in text
    response = operator.post(url(paid), {"amount": "1"})
    assert response.status_code == 200
    assert len(refunds_sent(stripe_keys)) == 2
    assert source_of(paid).amount_refunded == 140000


@pytest.mark.django_db
def test_more_than_was_paid_is_refused_before_asking_stripe(operator, paid, stripe_keys):
    with translation.override("en"):
        response = operator.post(f"/en{url(paid)}", {"amount": "140001"})
    assert response.status_code == 200
    assert "At most ₫140,000 can be refunded on this order." in page(response)
    assert refunds_sent(stripe_keys) == []
    assert not Refund.objects.exists()
    operator.post(url(paid), {"amount": "100000"})
    with translation.override("en"):
        response = operator.post(f"/en{url(paid)}", {"amount": "50000"})
    assert "At most ₫40,000 can be refunded on this order." in page(response)
    assert source_of(paid).amount_refunded == 100000


@pytest.mark.parametrize(
    "amount, message",
    [
        ("", "This field is required."),
        ("0", "The amount must be greater than zero."),
        ("-5000", "Enter a whole number of đồng, for example 50000."),
        ("abc", "Enter a whole number of đồng, for example 50000."),
        ("12.5", "Enter a whole number of đồng, for example 50000."),
        ("50000.5", "Enter a whole number of đồng, for example 50000."),
        ("1e5", "Enter a whole number of đồng, for example 50000."),
        ("99999999999999999999", "At most ₫140,000 can be refunded on this order."),
        ("9" * 21, "Ensure this value has at most 20 characters (it has 21)."),
    ],
)
@pytest.mark.django_db
def test_bad_amounts_are_refused_with_a_clear_message(operator, paid, stripe_keys, amount, message):
    with translation.override("en"):
        response = operator.post(f"/en{url(paid)}", {"amount": amount})
    assert response.status_code == 200
    assert en(message) in page(response)
    assert refunds_sent(stripe_keys) == []
    assert source_of(paid).amount_refunded == 0


@pytest.mark.django_db
def test_amounts_written_the_vietnamese_way_are_understood(operator, paid):
    for text in ("10.000", "10,000", "10 000 ₫", "10000đ"):
        assert operator.post(url(paid), {"amount": text}).status_code == 302, text
    assert source_of(paid).amount_refunded == 40000


@pytest.mark.django_db
def test_an_unpaid_card_order_has_nothing_to_refund(operator, stripe_keys):
    order = card_order(stripe_keys)
    text = page(operator.get(url(order)))
    assert 'data-refundable="0"' in text and 'name="amount"' not in text
    assert operator.post(url(order), {"amount": "1000"}).status_code == 200
    assert refunds_sent(stripe_keys) == [] and not Refund.objects.exists()


@pytest.mark.django_db
def test_an_order_not_paid_by_card_is_refunded_by_transfer_never_through_stripe(
    operator, stripe_keys, paid
):
    source = source_of(paid)
    source.source_type = SourceType.objects.create(code="cod", name="Cash on delivery")
    source.save()
    text = page(operator.get(url(paid)))
    assert vi("Refund by bank transfer") in text
    assert operator.post(url(paid), {"amount": "1000"}).status_code == 302
    refund = Refund.objects.get()
    assert (refund.method, refund.status) == ("transfer", "pending")
    with pytest.raises(RefundRefused):
        refund_card(order=paid, amount=1000)
    assert refunds_sent(stripe_keys) == []


@pytest.mark.django_db
def test_a_refund_stripe_refuses_is_kept_as_failed_and_shown(operator, paid, stripe_keys):
    stripe_keys.fail_with = (
        400,
        {
            "type": "invalid_request_error",
            "code": "charge_disputed",
            "message": "Charge ch_1 has been disputed.",
        },
    )
    response = operator.post(url(paid), {"amount": "50000"})
    assert response.status_code == 200
    assert "Charge ch_1 has been disputed." in page(response)
    assert "nongsan-refund-error" in page(response)
    assert Refund.objects.get().status == "failed"
    assert source_of(paid).amount_refunded == 0
    assert 'data-refundable="140000"' in page(response)


@pytest.mark.django_db
def test_stripe_unreachable_during_a_refund(operator, paid, stripe_keys):
    stripe_keys.down = True
    response = operator.post(url(paid), {"amount": "50000"})
    assert response.status_code == 200 and "nongsan-refund-error" in page(response)
    assert Refund.objects.get().status == "failed"
    assert source_of(paid).amount_refunded == 0


# --- The refund and its webhook count once -------------------------------------------------------


@pytest.mark.django_db
def test_the_webhook_after_a_refund_from_the_page_adds_nothing(operator, paid, stripe_keys):
    operator.post(url(paid), {"amount": "50000"})
    pi_id = source_of(paid).reference
    charge = stripe_keys.charge(pi_id)
    assert charge["amount_refunded"] == 50000
    evt = event("charge.refunded", charge)
    for _ in range(2):
        assert deliver(Client(), evt).status_code == 200
    assert source_of(paid).amount_refunded == 50000
    assert PaymentEvent.objects.filter(order=paid, event_type__code="refunded").count() == 1

    # A second refund, made in Stripe's dashboard, arrives only by webhook.
    stripe_keys.refunds["re_dashboard"] = {
        "id": "re_dashboard",
        "object": "refund",
        "amount": 30000,
        "payment_intent": pi_id,
        "status": "succeeded",
    }
    deliver(Client(), event("charge.refunded", stripe_keys.charge(pi_id)))
    assert source_of(paid).amount_refunded == 80000
    text = page(operator.get(url(paid)))
    assert 'data-refundable="60000"' in text


@pytest.mark.django_db
def test_a_refund_stripe_is_still_processing(operator, paid, stripe_keys):
    stripe_keys.refund_status = "pending"
    operator.post(url(paid), {"amount": "50000"})
    refund = Refund.objects.get()
    assert refund.status == "pending"
    assert source_of(paid).amount_refunded == 0  # not until Stripe confirms
    text = page(operator.get(url(paid)))
    assert 'data-refundable="90000"' in text  # the pending refund is held back
    # Stripe confirms it: the webhook records it once and marks the row.
    stripe_keys.refunds[refund.stripe_refund_id]["status"] = "succeeded"
    deliver(Client(), event("charge.refunded", stripe_keys.charge(source_of(paid).reference)))
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert source_of(paid).amount_refunded == 50000
    assert 'data-refundable="90000"' in page(operator.get(url(paid)))


# --- Two refunds at once (PostgreSQL: the source row lock) ------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_never_exceed_what_was_paid(stripe_keys):
    order = card_order(stripe_keys)
    pi_id = source_of(order).reference
    stripe_keys.pay(pi_id)
    record_payment(order, method="stripe", amount=140000, reference=pi_id)
    stripe_keys.delay = 0.3  # Stripe takes its time: both requests overlap
    barrier = threading.Barrier(2)
    outcomes = []

    def refund():
        try:
            barrier.wait()
            refund_card(order=order, amount=Decimal(100000), reason="test")
            outcomes.append("refunded")
        except RefundRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refunded", "refused"]
    assert len(refunds_sent(stripe_keys)) == 1
    assert source_of(order).amount_refunded == 100000
    assert Refund.objects.get().status == "succeeded"
