"""The producer settlement ledger: one rounding rule, the Decree 117 withholding on
households only, a sale entry per delivered parcel whatever the payment method (the
producer's own goods only), adjustments, and the balance kept on one row."""

from decimal import Decimal

import pytest

from marketplace.core.money import percent_of, round_dong
from marketplace.finance import remittances, settlements
from marketplace.models import MarketplaceSettings, ProducerBalance, SettlementEntry
from marketplace.payments.state import CARD, COD, VIETQR
from tests.marketplace.settlement_helpers import (
    AVOCADO,
    CINNAMON,
    DURIAN,
    GINSENG_TEA,
    PEPPER,
    deliver,
    operator,
    order,
    partner,
)

pytestmark = pytest.mark.django_db


def balance_of(key) -> Decimal:
    row = ProducerBalance.objects.filter(partner=partner(key)).first()
    return row.balance if row else Decimal(0)


@pytest.mark.parametrize(
    "value, expected",
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("12345.49", 12345), ("12345.5", 12346), ("0.49", 0)],
)
def test_round_dong_is_half_up(value, expected):
    assert round_dong(Decimal(value)) == expected


def test_percent_of():
    assert percent_of(390010, 5) == 19501  # 19.500,5 → 19.501
    assert percent_of(100001, Decimal("0.5")) == 500  # 500,005 → 500
    assert percent_of(100100, Decimal("0.5")) == 501  # 500,5 → 501
    assert percent_of(123456, 1) == 1235  # 1.234,56 → 1.235


def test_rates_are_settings_with_the_decree_defaults(demo):
    row = MarketplaceSettings.load()
    assert row.withholding_vat_percent == Decimal("1.00")
    assert row.withholding_pit_percent == Decimal("0.50")


def test_sale_figures_households_pay_tax_cooperatives_do_not(demo):
    row = MarketplaceSettings.load()
    row.commission_percent = Decimal("5")
    household = settlements.sale_figures(sales=390010, household=True, settings_row=row)
    assert (household.commission, household.vat, household.pit) == (19501, 3900, 1950)
    assert household.net == 390010 - 19501 - 3900 - 1950
    coop = settlements.sale_figures(sales=390010, household=False, settings_row=row)
    assert (coop.commission, coop.vat, coop.pit) == (19501, 0, 0)
    assert coop.net == 390010 - 19501


@pytest.mark.parametrize("method", [COD, VIETQR, CARD])
def test_a_delivered_parcel_is_posted_for_every_method(demo, method):
    placed = order({DURIAN: 2, PEPPER: 1}, method)
    deliver(placed)
    entries = settlements.post_deliveries(by=operator())
    assert len(entries) == 2
    settings_row = MarketplaceSettings.load()
    by_partner = {entry.partner_id: entry for entry in entries}
    for key, household in (("krongpac", True), ("chuse", False)):
        parcel = placed.parcels.get(partner=partner(key))
        entry = by_partner[parcel.partner_id]
        own_lines = sum(
            line.line_price_incl_tax for line in placed.lines.filter(partner=parcel.partner)
        )
        # The producer's own lines only: never the delivery charge, never the other farm.
        assert entry.sales == own_lines == parcel.goods_total
        assert entry.parcel == parcel and entry.kind == "sale"
        assert entry.commission == percent_of(own_lines, settings_row.commission_percent)
        if household:
            assert entry.vat == percent_of(own_lines, settings_row.withholding_vat_percent) > 0
            assert entry.pit == percent_of(own_lines, settings_row.withholding_pit_percent) > 0
        else:
            assert entry.vat == entry.pit == 0
        assert entry.amount == entry.sales - entry.commission - entry.vat - entry.pit
        assert balance_of(key) == entry.amount
    # Posting again posts nothing.
    assert settlements.post_deliveries(by=operator()) == []


def test_enterprises_are_exempt_and_households_withheld(demo):
    deliver(order({GINSENG_TEA: 1, CINNAMON: 1}, VIETQR))
    entries = {e.partner_id: e for e in settlements.post_deliveries(by=None)}
    assert entries[partner("ngoclinh").pk].vat == 0
    assert entries[partner("trabong").pk].vat > 0


def test_parcels_not_delivered_paid_or_collected_are_not_posted(demo):
    order({DURIAN: 1}, COD)  # not delivered
    unpaid = order({AVOCADO: 1}, VIETQR, paid=False)
    cod = order({PEPPER: 1}, COD)
    for parcel in deliver(cod):
        parcel.cod_collected = None  # delivered, cash not recorded yet
        parcel.save()
    assert settlements.post_deliveries(by=None) == []
    deliver(unpaid)  # (delivered in this test only: a real unpaid parcel is never packed)
    assert len(settlements.post_deliveries(by=None)) == 1


def test_a_parcel_is_in_the_ledger_or_a_cod_remittance_never_both(demo):
    first = order({DURIAN: 1}, COD)
    deliver(first)
    remittance = remittances.create_remittance(partner("krongpac"), operator())
    assert settlements.post_deliveries(by=None) == []  # already in the remittance
    second = order({AVOCADO: 1}, COD)
    deliver(second)
    assert len(settlements.post_deliveries(by=None)) == 1
    with pytest.raises(remittances.RemittanceError):
        remittances.create_remittance(partner("krongpac"), operator())
    assert remittance.parcels.count() == 1


def test_past_entries_keep_the_rates_of_their_day(demo):
    deliver(order({DURIAN: 1}, CARD))
    (entry,) = settlements.post_deliveries(by=None)
    row = MarketplaceSettings.load()
    row.commission_percent, row.withholding_vat_percent = Decimal(10), Decimal(2)
    row.save()
    deliver(order({DURIAN: 1}, CARD))
    (later,) = settlements.post_deliveries(by=None)
    entry.refresh_from_db()
    assert entry.commission_percent == 5 and entry.vat_percent == 1
    assert later.commission_percent == 10 and later.vat_percent == 2


def test_record_adjustment(demo):
    deliver(order({DURIAN: 1}, VIETQR))
    (sale,) = settlements.post_deliveries(by=None)
    with pytest.raises(TypeError):
        settlements.record_adjustment(partner("krongpac"), 1000, "refund", "R1", None)
    entry = settlements.record_adjustment(
        producer=partner("krongpac"), amount=50000, kind="refund", reference="R-1", by=operator()
    )
    assert (entry.kind, entry.adjustment, entry.amount) == ("refund", 50000, -50000)
    assert balance_of("krongpac") == sale.amount - 50000
    credit = settlements.record_adjustment(
        producer=partner("krongpac").producer_profile,
        amount=-20000,
        kind="shipping",
        reference="Phí ship",
        by=None,
    )
    assert credit.amount == 20000
    assert balance_of("krongpac") == sale.amount - 30000
    for bad in (
        {"amount": 100, "kind": "gift"},
        {"amount": 0, "kind": "refund"},
        {"amount": Decimal("10.5"), "kind": "refund"},
        {"amount": 100, "kind": "refund", "reference": "  "},
    ):
        arguments = {"producer": partner("krongpac"), "reference": "X", "by": None, **bad}
        with pytest.raises(settlements.SettlementError):
            settlements.record_adjustment(**arguments)
    assert SettlementEntry.objects.filter(partner=partner("krongpac")).count() == 3


def test_entries_are_append_only(demo):
    deliver(order({DURIAN: 1}, CARD))
    (entry,) = settlements.post_deliveries(by=None)
    entry.amount += 1
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    entry.refresh_from_db()
    assert entry.amount == entry.sales - entry.commission - entry.tax
