"""`python manage.py verify_ledger` passes on the demo marketplace and catches each
invariant broken behind the application's back (raw SQL), naming what does not reconcile."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from oscar.core.loading import get_model

from marketplace.finance import checks
from marketplace.models import Parcel
from tests.marketplace.test_i18n_roles import with_demo_orders

Source = get_model("payment", "Source")
StockRecord = get_model("partner", "StockRecord")


@pytest.fixture
def books(demo):
    """The demo marketplace with its orders (one in each state after checkout), which the
    test database leaves out."""
    with_demo_orders()


def verify() -> tuple[bool, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except CommandError as exc:
        return False, err.getvalue() + str(exc)
    return True, out.getvalue()


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def paid_source():
    return Source.objects.select_related("order").filter(amount_debited__gt=0).first()


def cod_parcel(collected: bool):
    parcels = Parcel.objects.select_related("order").filter(cod_amount__gt=0)
    return parcels.filter(cod_collected__isnull=not collected).first()


def test_every_check_is_listed_for_the_command():
    names = {check.__name__ for check in checks.CHECKS}
    assert {"check_payments", "check_cash_on_delivery", "check_parcels", "check_stock"} <= names


@pytest.mark.django_db
def test_the_demo_marketplace_reconciles(books):
    ok, output = verify()
    assert ok, output
    assert "The ledger reconciles." in output


@pytest.mark.django_db
def test_captured_money_without_its_transaction_is_caught(books):
    source = paid_source()
    sql(
        f"UPDATE {table(Source)} SET amount_debited = amount_debited + 1000 WHERE id = %s",
        source.pk,
    )
    ok, output = verify()
    assert not ok
    assert f"order {source.order.number}: captured" in output


@pytest.mark.django_db
def test_more_refunded_than_captured_is_caught(books):
    source = paid_source()
    sql(
        f"UPDATE {table(Source)} SET amount_refunded = amount_debited + 1 WHERE id = %s",
        source.pk,
    )
    ok, output = verify()
    assert not ok
    assert f"order {source.order.number}: paid -1 < 0" in output


@pytest.mark.django_db
def test_cod_amounts_that_do_not_add_up_to_what_is_due_are_caught(books):
    parcel = cod_parcel(collected=False)
    sql(f"UPDATE {table(Parcel)} SET cod_amount = cod_amount + 5000 WHERE id = %s", parcel.pk)
    ok, output = verify()
    assert not ok
    assert f"order {parcel.order.number}: its parcels' COD amounts add up to" in output


@pytest.mark.django_db
def test_cash_collected_that_differs_from_what_was_due_is_caught(books):
    parcel = cod_parcel(collected=True)
    sql(f"UPDATE {table(Parcel)} SET cod_collected = cod_collected - 1 WHERE id = %s", parcel.pk)
    ok, output = verify()
    assert not ok
    assert f"parcel {parcel}: collected" in output
    assert f"order {parcel.order.number}:" in output and "collected on delivery" in output


@pytest.mark.django_db
def test_a_cancelled_parcel_still_counted_as_due_is_caught(books):
    parcel = Parcel.objects.select_related("order").filter(cod_amount__gt=0, status="new").first()
    sql(f"UPDATE {table(Parcel)} SET status = 'cancelled' WHERE id = %s", parcel.pk)
    ok, output = verify()
    assert not ok
    assert f"order {parcel.order.number}: its parcels' COD amounts add up to" in output
    assert "reserved but open order lines hold" in output  # its goods are still reserved


@pytest.mark.django_db
def test_parcel_goods_that_differ_from_its_lines_are_caught(books):
    parcel = Parcel.objects.select_related("order").first()
    sql(f"UPDATE {table(Parcel)} SET goods_total = goods_total + 1 WHERE id = %s", parcel.pk)
    ok, output = verify()
    assert not ok
    assert f"parcel {parcel}: goods" in output


@pytest.mark.django_db
def test_a_reservation_that_open_lines_do_not_hold_is_caught(books):
    record = StockRecord.objects.filter(num_allocated__gt=0).first()
    sql(
        f"UPDATE {table(StockRecord)} SET num_allocated = num_allocated + 3 WHERE id = %s",
        record.pk,
    )
    ok, output = verify()
    assert not ok
    assert f"stock record {record.pk} ({record.partner_sku}): " in output
    assert "reserved but open order lines hold" in output


@pytest.mark.django_db
def test_less_in_stock_than_reserved_is_caught(books):
    record = StockRecord.objects.filter(num_allocated__gt=0).first()
    sql(
        f"UPDATE {table(StockRecord)} SET num_in_stock = num_allocated - 1 WHERE id = %s", record.pk
    )
    ok, output = verify()
    assert not ok
    assert "fewer than the" in output and f"stock record {record.pk}" in output


@pytest.mark.django_db
def test_a_negative_reservation_is_caught(books):
    record = StockRecord.objects.filter(num_allocated__isnull=True).first()
    sql(f"UPDATE {table(StockRecord)} SET num_allocated = -2 WHERE id = %s", record.pk)
    ok, output = verify()
    assert not ok
    assert f"stock record {record.pk} ({record.partner_sku}): -2 reserved, below zero" in output
