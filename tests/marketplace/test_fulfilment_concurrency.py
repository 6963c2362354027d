"""Two post-office counters record the cash of one parcel at the same moment: the parcel row
is locked, so the cash is recorded once and the order is paid once. And the two parcels of
one order collected at the same moment both count (the payment source row is locked too).
Needs PostgreSQL: SQLite serialises writers anyway."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from oscar.core.loading import get_model

from marketplace.fulfilment import services as fulfilment
from marketplace.models import Parcel
from marketplace.payments.state import payment_state
from tests.conftest import need
from tests.marketplace import test_fulfilment as shared
from tests.marketplace.orders import checkout

Order = get_model("order", "Order")
PaymentEvent = get_model("order", "PaymentEvent")


def delivered_order(people):
    client = Client()
    client.force_login(people["buyer"])
    order = checkout(client, shared.TWO_FARMS)
    durian = shared.delivered(order, "krongpac", people)
    pepper = shared.delivered(order, "chuse", people)
    return order, durian, pepper


def run_at_once(calls):
    """Run each call in its own thread and connection, all released at once."""
    start = threading.Barrier(len(calls))
    done, refused, errors = [], [], []

    def run(call):
        try:
            start.wait()
            done.append(call())
        except fulfilment.FulfilmentError as exc:
            refused.append(exc.message)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, refused, errors


# The demo marketplace and the roles of the service tests. These tests commit (their
# threads need to see the rows), so the database is emptied after each; serialized_rollback
# puts back what the migrations wrote (Việt Nam as the shipping country, the delivery
# rates) for the tests that follow.
people = shared.people


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_counters_collecting_the_same_cod_at_once_record_it_once(people):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    order, durian, _pepper = delivered_order(people)
    staff, operator = people["post_office_staff"], people["operator"]

    done, refused, errors = run_at_once(
        [
            lambda: fulfilment.collect_cod(Parcel(pk=durian.pk), staff, shared.DURIAN_COD),
            lambda: fulfilment.collect_cod(Parcel(pk=durian.pk), operator, shared.DURIAN_COD),
        ]
    )
    assert errors == []
    assert len(done) == 1 and len(refused) == 1
    assert "140.000" in refused[0]  # "already recorded: 140.000 ₫"
    durian.refresh_from_db()
    assert durian.cod_collected == shared.DURIAN_COD
    assert PaymentEvent.objects.filter(order=order).count() == 1
    state = payment_state(Order.objects.get(pk=order.pk))
    assert state.paid == shared.DURIAN_COD and state.code == "partly_paid"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_both_parcels_of_an_order_collected_at_once_pay_the_order(people):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    order, durian, pepper = delivered_order(people)
    done, refused, errors = run_at_once(
        [
            lambda: fulfilment.collect_cod(
                Parcel(pk=durian.pk), people["post_office_staff"], shared.DURIAN_COD
            ),
            lambda: fulfilment.collect_cod(
                Parcel(pk=pepper.pk), people["other_post_office"], shared.PEPPER_COD
            ),
        ]
    )
    assert (errors, refused, len(done)) == ([], [], 2)
    state = payment_state(Order.objects.get(pk=order.pk))
    assert state.code == "paid" and state.paid == Decimal(390000)
    assert PaymentEvent.objects.filter(order=order).count() == 2
