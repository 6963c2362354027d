"""Stripe's webhook: only genuine, fresh events count; each is recorded once; a card order
is paid once whatever the order and number of deliveries; refunds made in Stripe come back
as the difference with what the order has recorded."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from oscar.core.loading import get_model

from marketplace.models import Refund, StripeEvent
from marketplace.payments.state import payment_state
from tests.marketplace import test_stripe_fake
from tests.marketplace.test_stripe_fake import (
    card_order,
    deliver,
    event,
    signed,
    source_of,
)

# The fake Stripe's fixtures, shared with the other card payment modules.
fake_stripe = test_stripe_fake.fake_stripe
stripe_keys = test_stripe_fake.stripe_keys

PaymentEvent = get_model("order", "PaymentEvent")
Transaction = get_model("payment", "Transaction")

pytestmark = pytest.mark.django_db


def paid_events(order):
    return PaymentEvent.objects.filter(order=order, event_type__code="paid").count()


@pytest.fixture
def order(stripe_keys):
    return card_order(stripe_keys)


@pytest.fixture
def pi(order):
    return source_of(order).reference


def succeeded(fake, pi_id, **changes):
    intent = fake.pay(pi_id)
    intent.update(changes)
    return event("payment_intent.succeeded", intent)


# --- Only genuine, fresh, well-formed events -------------------------------------------------


def test_a_signed_succeeded_event_pays_the_order(client, stripe_keys, order, pi):
    response = deliver(client, succeeded(stripe_keys, pi))
    assert response.status_code == 200
    source = source_of(order)
    assert source.amount_debited == 140000
    assert payment_state(order).code == "paid"
    assert paid_events(order) == 1
    assert Transaction.objects.get(source=source).reference == pi
    assert StripeEvent.objects.get().payment_intent == pi


@pytest.mark.parametrize(
    "signature",
    [
        "",  # no header at all
        "garbage",
        "t=notanumber,v1=abc",
        "t=1700000000",  # no v1 signature
        "t={now},v0={good}",  # another scheme
        "t={now},v1=0000000000000000000000000000000000000000000000000000000000000000",
    ],
)
def test_a_missing_or_wrong_signature_is_refused(client, stripe_keys, order, pi, signature):
    evt = succeeded(stripe_keys, pi)
    payload = json.dumps(evt)
    good = signed(payload).split("v1=")[1]
    header = signature.format(now=int(time.time()), good=good)
    response = deliver(client, payload, signature=header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert source_of(order).amount_debited == 0


def test_an_event_signed_with_another_secret_is_refused(client, stripe_keys, order, pi):
    response = deliver(client, succeeded(stripe_keys, pi), secret="whsec_someone_else")
    assert response.status_code == 400
    assert source_of(order).amount_debited == 0


def test_a_body_changed_after_signing_is_refused(client, stripe_keys, order, pi):
    evt = succeeded(stripe_keys, pi)
    header = signed(json.dumps(evt))
    evt["data"]["object"]["amount_received"] = 1
    response = deliver(client, evt, signature=header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_stale_timestamp_is_refused_even_correctly_signed(client, stripe_keys, order, pi):
    evt = succeeded(stripe_keys, pi)
    response = deliver(client, evt, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    # Within the 5 minutes it is accepted.
    assert deliver(client, evt, timestamp=int(time.time()) - 240).status_code == 200
    assert source_of(order).amount_debited == 140000


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '"a string"',
        "null",
        "{}",
        '{"id": "evt_1", "type": "payment_intent.succeeded"}',
        '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": []}}',
        '{"id": 5, "type": "payment_intent.succeeded", "data": {"object": {}}}',
        '{"id": "evt_1", "object": "v2.core.event", "type": "x", "data": {"object": {}}}',
    ],
)
def test_a_signed_but_malformed_body_is_refused(client, stripe_keys, body):
    response = deliver(client, body)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_body_that_is_not_utf8_is_refused(client, stripe_keys):
    response = client.post(
        "/stripe/webhook/",
        data=b"\xff\xfe{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=f"t={int(time.time())},v1=abc",
    )
    assert response.status_code == 400


def test_without_a_webhook_secret_nothing_is_accepted(client, stripe_keys, settings, order, pi):
    evt = succeeded(stripe_keys, pi)
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(client, evt, secret="").status_code == 400
    assert deliver(client, evt).status_code == 400
    assert source_of(order).amount_debited == 0


def test_only_post_and_no_csrf_token_needed(stripe_keys, order, pi):
    client = Client(enforce_csrf_checks=True)
    assert client.get("/stripe/webhook/").status_code == 405
    assert deliver(client, succeeded(stripe_keys, pi)).status_code == 200
    # One URL whatever the language: there is no /en/ version.
    assert client.post("/en/stripe/webhook/").status_code == 404


# --- Once, whatever the order of arrival ------------------------------------------------------


def test_the_same_event_three_times_pays_once(client, stripe_keys, order, pi):
    evt = succeeded(stripe_keys, pi)
    answers = [deliver(client, evt) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.content for a in answers] == [b"paid", b"duplicate", b"duplicate"]
    assert StripeEvent.objects.filter(event_id=evt["id"]).count() == 1
    assert source_of(order).amount_debited == 140000
    assert paid_events(order) == 1


def test_a_second_succeeded_event_for_the_same_payment_intent_pays_nothing(
    client, stripe_keys, order, pi
):
    deliver(client, succeeded(stripe_keys, pi))
    response = deliver(client, succeeded(stripe_keys, pi))  # another event id
    assert response.status_code == 200 and response.content == b"already_paid"
    assert StripeEvent.objects.count() == 2
    assert source_of(order).amount_debited == 140000
    assert paid_events(order) == 1


def test_succeeded_before_created_leaves_one_paid_order(client, stripe_keys, order, pi):
    created = event("payment_intent.created", dict(stripe_keys.intents[pi]))
    assert deliver(client, succeeded(stripe_keys, pi)).status_code == 200
    response = deliver(client, created)
    assert response.status_code == 200 and response.content == b"ignored"
    assert deliver(client, created).content == b"duplicate"
    assert payment_state(order).code == "paid"
    assert paid_events(order) == 1
    assert StripeEvent.objects.filter(type="payment_intent.created").count() == 1


def test_a_late_failure_after_success_changes_nothing(client, stripe_keys, order, pi):
    failed = event(
        "payment_intent.payment_failed",
        dict(stripe_keys.intents[pi], last_payment_error={"code": "card_declined"}),
        created=int(time.time()) - 60,
    )
    deliver(client, succeeded(stripe_keys, pi))
    response = deliver(client, failed)
    assert response.status_code == 200 and response.content == b"already_paid"
    assert payment_state(order).code == "paid"
    assert source_of(order).amount_debited == 140000


def test_a_failure_then_a_success_pays_once(client, stripe_keys, order, pi):
    failed = event("payment_intent.payment_failed", dict(stripe_keys.intents[pi]))
    assert deliver(client, failed).content == b"recorded"
    assert payment_state(order).code == "awaiting_card"
    assert deliver(client, succeeded(stripe_keys, pi)).content == b"paid"
    assert payment_state(order).code == "paid"


# --- Refusing what does not add up ------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_received": 14000},  # a tenth: someone multiplied or divided by 10
        {"amount_received": 14000000},  # ×100, as if VND had decimals
        {"amount_received": 139999},
        {"amount_received": "140000"},  # not a number
        {"amount_received": None},
        {"currency": "usd"},
        {"metadata": {"order_number": "999999"}},
    ],
)
def test_an_event_that_does_not_match_the_order_pays_nothing(
    client, stripe_keys, order, pi, changes, caplog
):
    response = deliver(client, succeeded(stripe_keys, pi, **changes))
    assert response.status_code == 200 and response.content == b"refused"
    assert StripeEvent.objects.count() == 1  # recorded, for the operator
    assert source_of(order).amount_debited == 0
    assert payment_state(order).code == "awaiting_card"
    assert "not" in caplog.text and pi in caplog.text


def test_an_unknown_payment_intent_is_recorded_and_answered_200(client, stripe_keys, order):
    evt = event(
        "payment_intent.succeeded",
        {
            "id": "pi_unknown",
            "object": "payment_intent",
            "amount_received": 140000,
            "currency": "vnd",
            "metadata": {},
        },
    )
    response = deliver(client, evt)
    assert response.status_code == 200 and response.content == b"unknown"
    assert StripeEvent.objects.get().payment_intent == "pi_unknown"
    assert source_of(order).amount_debited == 0
    charge = {"id": "ch_x", "object": "charge", "payment_intent": None, "amount_refunded": 5}
    assert deliver(client, event("charge.refunded", charge)).status_code == 200


def test_other_event_types_are_recorded_without_effect(client, stripe_keys, order, pi):
    for kind in ("payment_intent.created", "payment_intent.processing", "customer.created"):
        response = deliver(client, event(kind, {"id": pi, "object": "payment_intent"}))
        assert response.status_code == 200
    assert StripeEvent.objects.count() == 3
    assert payment_state(order).code == "awaiting_card"


# --- Refunds made in Stripe come back ---------------------------------------------------------


def refunded(fake, pi_id, amount_refunded, **extra):
    charge = fake.charge(pi_id)
    charge["amount_refunded"] = amount_refunded
    charge.update(extra)
    return event("charge.refunded", charge)


def test_charge_refunded_records_only_the_difference(client, stripe_keys, order, pi):
    deliver(client, succeeded(stripe_keys, pi))
    first = refunded(stripe_keys, pi, 40000)
    second = refunded(stripe_keys, pi, 100000)
    assert deliver(client, first).content == b"refunded"
    assert source_of(order).amount_refunded == 40000
    assert deliver(client, second).content == b"refunded"
    assert source_of(order).amount_refunded == 100000
    # Duplicates, and the older event arriving again late, add nothing.
    assert deliver(client, second).content == b"duplicate"
    assert deliver(client, refunded(stripe_keys, pi, 40000)).status_code == 200
    assert source_of(order).amount_refunded == 100000
    assert payment_state(order).code == "partly_refunded"
    refunds = PaymentEvent.objects.filter(order=order, event_type__code="refunded")
    assert sorted(refunds.values_list("amount", flat=True)) == [Decimal(40000), Decimal(60000)]


def test_refunds_arriving_newest_first(client, stripe_keys, order, pi):
    deliver(client, succeeded(stripe_keys, pi))
    deliver(client, refunded(stripe_keys, pi, 140000))
    deliver(client, refunded(stripe_keys, pi, 50000))
    assert source_of(order).amount_refunded == 140000
    assert payment_state(order).code == "refunded"


def test_a_refund_that_arrives_before_the_payment_is_applied_when_it_does(
    client, stripe_keys, order, pi
):
    intent = stripe_keys.pay(pi)
    assert deliver(client, refunded(stripe_keys, pi, 30000)).status_code == 200
    assert source_of(order).amount_refunded == 0  # nothing paid yet to refund
    deliver(client, event("payment_intent.succeeded", intent))
    source = source_of(order)
    assert (source.amount_debited, source.amount_refunded) == (140000, 30000)


def test_a_refund_above_what_was_paid_is_never_recorded(client, stripe_keys, order, pi):
    deliver(client, succeeded(stripe_keys, pi))
    response = deliver(client, refunded(stripe_keys, pi, 999999))
    assert response.status_code == 200
    assert source_of(order).amount_refunded == 0


def test_refund_rows_get_stripes_status(client, stripe_keys, order, pi):
    deliver(client, succeeded(stripe_keys, pi))
    source = source_of(order)
    pending = Refund.objects.create(
        order=order, source=source, amount=20000, stripe_refund_id="re_pending1"
    )
    other = Refund.objects.create(
        order=order, source=source, amount=10000, stripe_refund_id="re_pending2"
    )
    data = [
        {"id": "re_pending1", "object": "refund", "amount": 20000, "status": "succeeded"},
    ]
    deliver(client, refunded(stripe_keys, pi, 20000, refunds={"object": "list", "data": data}))
    pending.refresh_from_db()
    assert pending.status == Refund.Status.SUCCEEDED
    assert source_of(order).amount_refunded == 20000

    update = {"id": "re_pending2", "object": "refund", "payment_intent": pi, "status": "failed"}
    assert deliver(client, event("refund.updated", update)).status_code == 200
    other.refresh_from_db()
    assert other.status == Refund.Status.FAILED


# --- PostgreSQL: concurrent deliveries ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_in_any_order_leave_one_payment(stripe_keys):
    """The same event delivered 3 times at once, with `created` after it and a second
    succeeded event for the same PaymentIntent: one payment, one paid order."""
    order = card_order(stripe_keys)
    pi_id = source_of(order).reference
    evt = succeeded(stripe_keys, pi_id)
    other = succeeded(stripe_keys, pi_id)
    created = event("payment_intent.created", dict(stripe_keys.intents[pi_id]))
    deliveries = [evt, evt, evt, other, created]
    barrier = threading.Barrier(len(deliveries))
    answers = []

    def post(body):
        try:
            barrier.wait()
            answers.append(deliver(Client(), body))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [200] * 5
    outcomes = sorted(a.content.decode() for a in answers)
    assert outcomes.count("paid") == 1
    assert outcomes.count("duplicate") == 2
    assert StripeEvent.objects.filter(event_id=evt["id"]).count() == 1
    assert StripeEvent.objects.count() == 3
    source = source_of(order)
    assert source.amount_debited == 140000
    assert Transaction.objects.filter(source=source, txn_type="Debit").count() == 1
    assert paid_events(order) == 1
    assert payment_state(order).code == "paid"
