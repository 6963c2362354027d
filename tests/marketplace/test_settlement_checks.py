"""Each settlement invariant is caught when the data is corrupted behind the services'
back (raw SQL), and none is reported on a ledger the services wrote."""

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.finance import settlement_checks as checks
from marketplace.finance import settlements
from marketplace.models import Payout, Remittance, SettlementEntry
from marketplace.payments.state import CARD, COD, VIETQR
from tests.marketplace.settlement_helpers import (
    CINNAMON,
    DURIAN,
    PEPPER,
    deliver,
    operator,
    order,
    partner,
    with_bank_accounts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(demo):
    """Sales by every method from a household and a cooperative, a refund, a payout and a
    sale after it."""
    restore = with_bank_accounts()
    by = operator()
    deliver(order({DURIAN: 2, PEPPER: 1}, COD))
    deliver(order({CINNAMON: 1, PEPPER: 2}, VIETQR))
    settlements.post_deliveries(by=by)
    settlements.record_adjustment(
        producer=partner("chuse"), amount=12000, kind="refund", reference="HT-1", by=by
    )
    batch = settlements.create_payout_batch(
        partner_ids=[partner("krongpac").pk, partner("chuse").pk], by=by
    )
    settlements.mark_payout_paid(payout=batch.payouts.first(), reference="FT1", by=by)
    deliver(order({DURIAN: 1}, CARD))
    settlements.post_deliveries(by=by)
    assert checks.settlement_problems() == []
    yield
    restore()


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def sale():
    return SettlementEntry.objects.filter(kind="sale").order_by("pk").first()


def test_the_services_keep_every_invariant(world):
    assert checks.check_balances() == []
    assert checks.check_entries() == []
    assert checks.check_parcels_settled() == []
    assert checks.check_payouts() == []


def test_a_balance_row_that_disagrees_is_caught(world):
    sql(
        "UPDATE marketplace_producerbalance SET balance = balance + 1 WHERE partner_id = %s",
        [partner("krongpac").pk],
    )
    (problem,) = checks.check_balances()
    assert f"producer {partner('krongpac').pk}" in problem


def test_an_entry_whose_effect_disagrees_with_its_figures_is_caught(world):
    entry = sale()
    sql("UPDATE marketplace_settlemententry SET amount = amount + 1000 WHERE id = %s", [entry.pk])
    assert any(f"entry {entry.pk}" in p for p in checks.check_entries())
    assert checks.check_balances()  # and the balance no longer adds up


def test_a_commission_off_the_rule_is_caught(world):
    entry = sale()
    sql(
        "UPDATE marketplace_settlemententry SET commission = commission + 1, amount = amount - 1 "
        "WHERE id = %s",
        [entry.pk],
    )
    sql(
        "UPDATE marketplace_producerbalance SET balance = balance - 1 WHERE partner_id = %s",
        [entry.partner_id],
    )
    assert checks.check_balances() == []
    (problem,) = checks.check_entries()
    assert f"entry {entry.pk}: commission" in problem


def test_tax_off_the_rule_is_caught(world):
    entry = SettlementEntry.objects.filter(kind="sale", vat__gt=0).first()
    sql("UPDATE marketplace_settlemententry SET vat_percent = 2 WHERE id = %s", [entry.pk])
    assert any(f"entry {entry.pk}: vat" in p for p in checks.check_entries())


def test_a_delivered_parcel_in_no_settlement_is_caught(world):
    entry = SettlementEntry.objects.filter(kind="sale").order_by("-pk").first()
    sql("DELETE FROM marketplace_settlemententry WHERE id = %s", [entry.pk])
    problems = checks.check_parcels_settled()
    assert problems == [
        f"parcel {entry.parcel_id} (producer {entry.partner_id}): delivered and paid, in no "
        "settlement"
    ]


def test_an_entry_for_a_parcel_not_delivered_is_caught(world):
    entry = sale()
    sql("UPDATE marketplace_parcel SET status = 'picked_up' WHERE id = %s", [entry.parcel_id])
    assert any(f"parcel {entry.parcel_id}: settled" in p for p in checks.check_parcels_settled())


def test_a_parcel_settled_twice_is_caught(world):
    entry = sale()
    remittance = Remittance.objects.create(
        partner_id=entry.partner_id,
        collected=1,
        commission_percent=0,
        commission=0,
        amount=1,
        created_by=operator(),
    )
    sql(
        "UPDATE marketplace_parcel SET remittance_id = %s WHERE id = %s",
        [remittance.pk, entry.parcel_id],
    )
    assert any("in remittance" in p for p in checks.check_parcels_settled())


def test_an_entry_of_the_wrong_producer_or_goods_is_caught(world):
    entry = sale()
    sql(
        "UPDATE marketplace_parcel SET goods_total = goods_total + 1 WHERE id = %s",
        [entry.parcel_id],
    )
    assert any(f"parcel {entry.parcel_id}: goods" in p for p in checks.check_parcels_settled())


def test_a_payout_that_disagrees_with_the_ledger_is_caught(world):
    payout = Payout.objects.first()
    sql("UPDATE marketplace_payout SET amount = amount + 1 WHERE id = %s", [payout.pk])
    (problem,) = checks.check_payouts()
    assert f"payout {payout.pk}" in problem


def test_a_payout_above_the_balance_is_caught(world):
    payout = Payout.objects.first()
    entry = payout.entry
    sql(
        "UPDATE marketplace_settlemententry SET paid_out = paid_out + 500, amount = amount - 500 "
        "WHERE id = %s",
        [entry.pk],
    )
    sql("UPDATE marketplace_payout SET amount = amount + 500 WHERE id = %s", [payout.pk])
    sql(
        "UPDATE marketplace_producerbalance SET balance = balance - 500 WHERE partner_id = %s",
        [payout.partner_id],
    )
    assert checks.check_balances() == [] and checks.check_entries() == []
    (problem,) = checks.check_payouts()
    assert f"payout {payout.pk}: " in problem and "whose balance was" in problem


def test_a_payout_paid_without_a_reference_is_caught(world):
    payout = Payout.objects.filter(paid_at__isnull=True).first()
    sql(
        "UPDATE marketplace_payout SET paid_at = %s, reference = ' ' WHERE id = %s",
        [timezone.now(), payout.pk],
    )
    assert checks.check_payouts() == [f"payout {payout.pk}: marked paid without a bank reference"]
