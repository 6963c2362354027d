"""Concurrency of the settlement ledger on PostgreSQL: payout batches racing each other
and late refunds never pay a producer twice or more than it is owed; posting deliveries
racing a COD remittance never settles a parcel twice."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from marketplace.finance import handovers, remittances, settlement_checks, settlements
from marketplace.models import Parcel, Payout, ProducerBalance, SettlementEntry
from marketplace.payments.state import CARD, COD, VIETQR
from tests.conftest import need
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


def race(*jobs):
    """Run the jobs at once (one thread and connection each); their results or errors."""
    start = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(index, job):
        try:
            start.wait()
            results[index] = ("ok", job())
        except settlements.SettlementError as exc:
            results[index] = ("refused", str(exc))
        except (remittances.RemittanceError, handovers.HandoverError) as exc:
            results[index] = ("refused", str(exc))
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            results[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_payout_batches_racing_each_other_and_late_refunds(django_db_setup):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    restore = with_bank_accounts()
    try:
        by = operator()
        for items, method in (({DURIAN: 2, PEPPER: 1}, VIETQR), ({CINNAMON: 1}, CARD)):
            deliver(order(items, method))
        settlements.post_deliveries(by=by)
        keys = ("krongpac", "chuse", "trabong")
        ids = [partner(key).pk for key in keys]
        before = settlements.balances(ids)
        assert all(before[pk] > 0 for pk in ids)
        refund = Decimal(30000)

        def batch():
            return settlements.create_payout_batch(partner_ids=ids, by=by).pk

        def late_refund():
            return settlements.record_adjustment(
                producer=ids[0], amount=refund, kind="refund", reference="HT-LATE", by=by
            ).pk

        results = race(batch, batch, batch, late_refund, late_refund)
        assert [r for r in results if r[0] == "error"] == []
        made = [r for r in results[:3] if r[0] == "ok"]
        assert len(made) >= 1
        assert all(r[0] == "ok" for r in results[3:])
        # Each producer paid once, by whichever batch came first.
        payouts = list(Payout.objects.filter(partner_id__in=ids))
        assert sorted(p.partner_id for p in payouts) == sorted(ids)
        paid = {p.partner_id: p.amount for p in payouts}
        for pk in ids[1:]:
            assert paid[pk] == before[pk]
        # The refunded producer: paid its balance at the moment of its payout (before,
        # between or after the refunds), the refunds after it left as a debt.
        assert paid[ids[0]] in {
            before[ids[0]],
            before[ids[0]] - refund,
            before[ids[0]] - 2 * refund,
        }
        after = settlements.balances(ids)
        assert after[ids[0]] == before[ids[0]] - 2 * refund - paid[ids[0]]
        assert after[ids[1]] == after[ids[2]] == 0
        assert settlement_checks.settlement_problems() == []
        # A new batch pays nothing more (a debt is not paid).
        with pytest.raises(settlements.SettlementError):
            settlements.create_payout_batch(partner_ids=ids, by=by)
    finally:
        restore()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_posting_deliveries_racing_a_cod_remittance(django_db_setup):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    by = operator()
    placed = [order({DURIAN: 1}, COD) for _ in range(3)]
    for each in placed:
        deliver(each)
    krongpac = partner("krongpac")

    def post():
        return len(settlements.post_deliveries(by=by))

    def remit():
        return remittances.create_remittance(krongpac, by).pk

    results = race(post, post, remit, remit)
    assert [r for r in results if r[0] == "error"] == []
    parcels = Parcel.objects.filter(order__in=placed)
    for parcel in parcels:
        in_entry = SettlementEntry.objects.filter(parcel=parcel).count()
        assert in_entry + (parcel.remittance_id is not None) == 1, parcel.pk
    posted = sum(r[1] for r in results[:2] if r[0] == "ok")
    assert posted == SettlementEntry.objects.filter(parcel__in=parcels).count()
    balance = ProducerBalance.objects.filter(partner=krongpac).first()
    entries = SettlementEntry.objects.filter(partner=krongpac)
    assert (balance.balance if balance else 0) == sum(e.amount for e in entries)
    assert settlement_checks.settlement_problems() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cash_handovers_racing_and_a_refund_of_goods_racing_a_payout(django_db_setup):
    """Two post-office counters handing the cash over at once never put a parcel in two
    handovers; a refund of delivered goods charged while a payout batch is made never pays
    the producer more than it is owed."""
    from django.contrib.auth import get_user_model

    from marketplace.models import CodHandover
    from marketplace.payments import refunds

    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    restore = with_bank_accounts()
    try:
        by = operator()
        clerk = get_user_model().objects.get(email="buudien@nongsan.test")
        cash = [order({DURIAN: 1}, COD) for _ in range(3)]
        for each in cash:
            deliver(each)
        settlements.post_deliveries(by=by)

        def hand_over():
            return handovers.create_handover(by=clerk).pk

        results = race(hand_over, hand_over, hand_over)
        assert [r for r in results if r[0] == "error"] == [], results
        made = [r[1] for r in results if r[0] == "ok"]
        assert len(made) >= 1
        parcels = Parcel.objects.filter(order__in=cash)
        where = {parcel.pk: parcel.cod_handover_id for parcel in parcels}
        assert all(handover in made for handover in where.values()), (where, results)
        for handover in CodHandover.objects.filter(pk__in=made):
            assert handover.amount == sum(p.cod_collected for p in handover.parcels.all())

        paid = order({DURIAN: 2}, VIETQR)
        (parcel,) = deliver(paid)
        settlements.post_deliveries(by=by)
        krongpac = partner("krongpac").pk
        before = settlements.balances([krongpac])[krongpac]
        refund = refunds.refund(
            order=paid, amount=120000, by=by, parcel=parcel, charges_producer=True
        )

        def payout():
            return settlements.create_payout_batch(partner_ids=[krongpac], by=by).pk

        def transfer_back():
            return refunds.record_transfer_back(
                refund=refund,
                by=by,
                bank_bin="970436",
                account_number="0123456789",
                account_name="Nguyen Thi Mai",
                bank_reference="FT-RACE",
            ).pk

        results = race(payout, transfer_back)
        assert [r for r in results if r[0] == "error"] == [], results
        charge = SettlementEntry.objects.get(refund=refund)
        (paid_out,) = Payout.objects.filter(partner_id=krongpac)
        assert paid_out.amount in {before, before + charge.amount}
        after = settlements.balances([krongpac])[krongpac]
        assert after == before + charge.amount - paid_out.amount
        # (the helpers mark parcels delivered directly: the settlement and handover checks)
        assert settlement_checks.settlement_problems() == []
        assert handovers.check_handovers() == []
    finally:
        restore()
