"""Property-based test of the settlement ledger (Hypothesis): random sequences of
deliveries (cash on delivery, VietQR, card; household, cooperative and enterprise
sellers), adjustments (refunds, return fees, credits), rate changes and payout batches.
After every sequence: the balance identity holds for every producer, each sale's
commission and tax are exactly the rule (computed here independently, in integers), no
payout is above the balance, and every settlement check passes.

CI runs SETTLEMENT_EXAMPLES examples (default 100, about 10 s); run more by hand with e.g.
``SETTLEMENT_EXAMPLES=500 .venv/bin/pytest tests/marketplace/test_settlement_properties.py``.
"""

import itertools
import os
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oscar.core.loading import get_model

from marketplace.finance import settlement_checks, settlements
from marketplace.models import MarketplaceSettings, Parcel, Payout, ProducerBalance
from tests.marketplace.settlement_helpers import operator, partner, with_bank_accounts

Order = get_model("order", "Order")

EXAMPLES = int(os.environ.get("SETTLEMENT_EXAMPLES", "100"))
PRODUCERS = {"krongpac": True, "trabong": True, "chuse": False, "ngoclinh": False}
METHODS = ("cod", "vietqr", "stripe")
NUMBERS = itertools.count(900000)

deliveries = st.tuples(
    st.just("deliver"),
    st.sampled_from(sorted(PRODUCERS)),
    st.sampled_from(METHODS),
    st.integers(min_value=1, max_value=50_000_000),  # the producer's own goods, đồng
    st.integers(min_value=0, max_value=60_000),  # delivery charge: never the producer's
)
adjustments = st.tuples(
    st.just("adjust"),
    st.sampled_from(sorted(PRODUCERS)),
    st.integers(min_value=1, max_value=5_000_000) | st.integers(min_value=-500_000, max_value=-1),
    st.sampled_from(settlements.ADJUSTMENT_KINDS),
)
payouts = st.tuples(
    st.just("payout"), st.lists(st.sampled_from(sorted(PRODUCERS)), min_size=1, unique=True)
)
rates = st.tuples(
    st.just("rates"),
    st.integers(min_value=0, max_value=2000),  # commission, hundredths of a percent
    st.integers(min_value=0, max_value=500),  # VAT
    st.integers(min_value=0, max_value=500),  # PIT
)
steps = st.lists(st.one_of(deliveries, deliveries, adjustments, payouts, rates), max_size=14)


def half_up(amount: int, hundredths: int) -> int:
    """amount × hundredths/100 %, rounded half up, in integers (independent of round_dong)."""
    return (2 * amount * hundredths + 10000) // 20000


def parcel(key, method, goods, charge) -> Parcel:
    now = timezone.now()
    order = Order.objects.create(
        number=str(next(NUMBERS)),
        total_incl_tax=goods + charge,
        total_excl_tax=goods + charge,
        date_placed=now,
    )
    cod = method == "cod"
    return Parcel.objects.create(
        order=order,
        partner=partner(key),
        status=Parcel.Status.DELIVERED,
        goods_total=goods,
        shipping_charge=charge,
        cod_amount=goods + charge if cod else 0,
        cod_collected=goods + charge if cod else None,
        delivered_at=now,
    )


@pytest.fixture
def accounts(demo):
    restore = with_bank_accounts()
    yield
    restore()


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_random_sequences_keep_the_ledger_exact(accounts, sequence):
    with transaction.atomic():
        run(sequence)
        transaction.set_rollback(True)  # each example starts from the demo again


def run(sequence):
    row = MarketplaceSettings.load()
    percent = {"commission": 500, "vat": 100, "pit": 50}
    row.commission_percent = Decimal(percent["commission"]) / 100
    row.withholding_vat_percent = Decimal(percent["vat"]) / 100
    row.withholding_pit_percent = Decimal(percent["pit"]) / 100
    row.save()
    ids = {key: partner(key).pk for key in PRODUCERS}
    by = operator()
    start = settlements.balances(ids.values())
    expected = {pk: int(start.get(pk, 0)) for pk in ids.values()}
    for step in sequence:
        if step[0] == "deliver":
            _, key, method, goods, charge = step
            made = parcel(key, method, goods, charge)
            (entry,) = settlements.post_deliveries(by=None, partner_ids=[ids[key]])
            household = PRODUCERS[key]
            commission = half_up(goods, percent["commission"])
            vat = half_up(goods, percent["vat"]) if household else 0
            pit = half_up(goods, percent["pit"]) if household else 0
            assert entry.parcel_id == made.pk and entry.sales == goods
            assert (entry.commission, entry.vat, entry.pit) == (commission, vat, pit)
            expected[ids[key]] += goods - commission - vat - pit
        elif step[0] == "adjust":
            _, key, amount, kind = step
            settlements.record_adjustment(
                producer=ids[key], amount=amount, kind=kind, reference="P", by=None
            )
            expected[ids[key]] -= amount
        elif step[0] == "payout":
            chosen = [ids[key] for key in step[1]]
            before = dict(expected)
            try:
                batch = settlements.create_payout_batch(partner_ids=chosen, by=by)
            except settlements.SettlementError:
                assert all(before[pk] <= 0 for pk in chosen)
                continue
            paid = {p.partner_id: p.amount for p in batch.payouts.all()}
            for pk in chosen:
                if before[pk] > 0:
                    assert paid[pk] == before[pk]  # the whole balance, never more
                    expected[pk] = 0
                else:
                    assert pk not in paid
        else:
            _, commission, vat, pit = step
            percent = {"commission": commission, "vat": vat, "pit": pit}
            row.commission_percent = Decimal(commission) / 100
            row.withholding_vat_percent = Decimal(vat) / 100
            row.withholding_pit_percent = Decimal(pit) / 100
            row.save()
        balances = settlements.balances(ids.values())
        assert {pk: int(balances.get(pk, 0)) for pk in ids.values()} == expected
    assert all(p.amount > 0 for p in Payout.objects.all())
    assert settlement_checks.settlement_problems() == []
    for balance in ProducerBalance.objects.filter(partner_id__in=ids.values()):
        assert balance.balance == expected[balance.partner_id]
