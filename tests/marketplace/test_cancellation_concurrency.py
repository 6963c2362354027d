"""Races on PostgreSQL (SQLite serialises writers anyway): a buyer cancelling a parcel while
the producer packs it, two refunds of the same order at once, a cancellation racing an
operator's refund, a double click on "cancel". The row locks (parcel, then payment
source) make exactly one of each pair win; money is never created or lost and stock never
goes below zero — verify_ledger's checks pass after each race."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from oscar.core.loading import get_model

from marketplace.finance.checks import run_checks
from marketplace.fulfilment import cancellations
from marketplace.fulfilment import services as fulfilment
from marketplace.models import Parcel, Refund
from marketplace.payments import refunds
from tests.conftest import need
from tests.marketplace import test_fulfilment as shared
from tests.marketplace.money_world import pay, place, source_of
from tests.marketplace.test_fulfilment import parcel_of

Order = get_model("order", "Order")
StockRecord = get_model("partner", "StockRecord")

people = shared.people
TWO_FARMS = {"NS0005": 1, "NS0009": 2}
REFUSALS = (cancellations.CancellationError, fulfilment.FulfilmentError, refunds.RefundRefused)


def at_once(calls):
    """Run each call in its own thread and connection, all released together; returns
    (names of the calls that succeeded, refusal messages, unexpected errors)."""
    start = threading.Barrier(len(calls))
    done, refused, errors = [], [], []

    def run(name, call):
        try:
            start.wait()
            call()
            done.append(name)
        except REFUSALS as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, refused, errors


def reconciles():
    problems = run_checks()
    assert problems == [], problems


def reserved(upc) -> int:
    return StockRecord.objects.get(product__upc=upc).num_allocated or 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_cancellation_racing_the_packing_of_the_same_parcel(people):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    winners = set()
    for round_ in range(6):
        method = ("cod", "vietqr")[round_ % 2]
        order = place(people["buyer"], TWO_FARMS, method)
        pay(order, people["operator"])
        durian = parcel_of(order, "krongpac")
        before = reserved("NS0005")
        calls = [
            (
                "cancel",
                lambda pk=durian.pk: cancellations.cancel_parcel(
                    parcel=Parcel(pk=pk), role="buyer", reason="x", by=people["buyer"]
                ),
            ),
            ("pack", lambda pk=durian.pk: fulfilment.pack(Parcel(pk=pk), people["farmer"])),
        ]
        if round_ % 3 == 1:
            calls.reverse()
        done, refused, errors = at_once(calls)
        assert errors == [] and len(done) == 1 and len(refused) == 1, (done, refused, errors)
        winners.update(done)
        durian.refresh_from_db()
        if done == ["cancel"]:
            assert durian.status == "cancelled"
            assert reserved("NS0005") == before - 1
            if method == "vietqr":
                assert Refund.objects.get(order=order).amount == Decimal(140000)
        else:
            assert durian.status == "packed" and reserved("NS0005") == before
            assert not Refund.objects.filter(order=order).exists()
        reconciles()
    print("winners:", winners)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_transfer_refunds_racing_never_exceed_what_was_paid(people):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    order = place(people["buyer"], TWO_FARMS, "vietqr")
    pay(order, people["operator"])  # 390.000 ₫
    operator = people["operator"]
    done, refused, errors = at_once(
        [
            (f"refund {i}", lambda: refunds.refund(order=order, amount=250000, by=operator))
            for i in range(2)
        ]
    )
    assert errors == [] and len(done) == 1 and len(refused) == 1
    assert refunds.refundable_of(source_of(order)) == Decimal(140000)
    # Both transfers recorded at once: one is recorded, the other was already.
    (refund,) = Refund.objects.filter(order=order)
    account = {
        "bank_bin": "970436",
        "account_number": "0123456789",
        "account_name": "Nguyen Thi Mai",
        "bank_reference": "FT1",
    }
    done, refused, errors = at_once(
        [
            (
                f"record {i}",
                lambda: refunds.record_transfer_back(
                    refund=Refund(pk=refund.pk, order=order), by=operator, **account
                ),
            )
            for i in range(2)
        ]
    )
    assert errors == [] and len(done) == 1 and len(refused) == 1
    assert source_of(order).amount_refunded == Decimal(250000)
    reconciles()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_cancellation_racing_an_operators_refund_of_a_card_order(people, settings):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    import stripe

    from tests.marketplace.test_stripe_fake import (
        PUBLISHABLE_KEY,
        SECRET_KEY,
        WEBHOOK_SECRET,
        FakeStripe,
    )

    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    previous, fake = stripe.default_http_client, FakeStripe()
    stripe.default_http_client = fake
    try:
        order = place(people["buyer"], TWO_FARMS, "stripe")
        pay(order, people["operator"], fake)  # 390.000 ₫
        fake.delay = 0.2  # Stripe takes its time: the two overlap
        done, refused, errors = at_once(
            [
                (
                    "operator refund",
                    lambda: refunds.refund(
                        order=order, amount=300000, by=people["operator"], reason="x"
                    ),
                ),
                (
                    "cancel",
                    lambda: cancellations.cancel_order(
                        order=order, role="buyer", reason="x", by=people["buyer"]
                    ),
                ),
            ]
        )
    finally:
        stripe.default_http_client = previous
    assert errors == [], errors
    source = source_of(order)
    # Whatever the order, never more refunded than paid, and Stripe refunded what we did.
    assert source.amount_refunded <= source.amount_debited == Decimal(390000)
    sent = sum(int(call.params["amount"]) for call in fake.calls("POST", "/v1/refunds"))
    failed = sum(r.amount for r in Refund.objects.filter(order=order, status="failed"))
    assert sent == source.amount_refunded + failed
    assert Parcel.objects.filter(order=order, status="cancelled").count() == 2
    reconciles()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_on_cancel_cancels_and_refunds_once(people):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    order = place(people["buyer"], TWO_FARMS, "vietqr")
    pay(order, people["operator"])
    before = reserved("NS0009")
    done, refused, errors = at_once(
        [
            (
                f"cancel {i}",
                lambda: cancellations.cancel_parcel(
                    parcel=Parcel(pk=parcel_of(order, "chuse").pk),
                    role="buyer",
                    reason="x",
                    by=people["buyer"],
                ),
            )
            for i in range(2)
        ]
    )
    assert errors == [] and len(done) == 1 and len(refused) == 1
    assert reserved("NS0009") == before - 2
    assert Refund.objects.get(order=order).amount == Decimal(250000)
    reconciles()
