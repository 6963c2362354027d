"""Settlement pages: the operator's ledger, payout batches (file, VietQR, marked paid with a
required bank reference), the monthly withholding CSV, the printable statement (operator
and farmer), who may open what; the farmer's revenue from its own lines; a parcel paid in
advance is shown so only once paid; the basket's delivery price is called an estimate."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from marketplace.finance import settlements
from marketplace.models import Parcel, Payout, SettlementEntry
from marketplace.payments import vietqr
from marketplace.payments.state import CARD, COD, VIETQR, parcel_payment
from tests.marketplace.settlement_helpers import (
    DURIAN,
    PEPPER,
    deliver,
    order,
    partner,
    with_bank_accounts,
)
from tests.marketplace.test_farmer_products import client_for, users

pytestmark = pytest.mark.django_db

LEDGER = reverse("settlements:ledger")
WITHHOLDING_CSV = reverse("settlements:withholding-csv")
MINE = reverse("settlements:mine")


@pytest.fixture
def people(demo):
    return users()


@pytest.fixture
def accounts():
    restore = with_bank_accounts()
    yield
    restore()


def rows_of(response):
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


def test_only_the_operator_opens_the_operator_pages(people):
    deliver(order({DURIAN: 1}, VIETQR))
    settlements.post_deliveries(by=None)
    pages = [
        LEDGER,
        WITHHOLDING_CSV,
        reverse("settlements:withholding"),
        reverse("settlements:statement", args=[partner("krongpac").pk]),
    ]
    for url in pages:
        assert client_for(None).get(url).status_code == 302
        for role in ("buyer", "farmer", "branch_staff", "post_office_staff"):
            assert client_for(people[role]).get(url).status_code == 403, (url, role)
        assert client_for(people["operator"]).get(url).status_code == 200, url
    for url in (reverse("settlements:post"), reverse("settlements:create-batch")):
        assert client_for(people["farmer"]).post(url).status_code == 403


def test_the_farmer_sees_its_own_statement_only(people):
    deliver(order({DURIAN: 2, PEPPER: 1}, CARD))
    settlements.post_deliveries(by=None)
    assert client_for(None).get(MINE).status_code == 302
    assert client_for(people["buyer"]).get(MINE).status_code == 403
    with translation.override("vi"):
        page = client_for(people["farmer"]).get(MINE).content.decode()
    entry = SettlementEntry.objects.get(partner=partner("krongpac"))
    assert partner("krongpac").name in page
    assert partner("chuse").name not in page  # the other farm of the same order
    assert f"{int(entry.amount):,}".replace(",", ".") in page
    today = timezone.localdate()
    assert f"01/{today:%m/%Y}" in page  # dd/mm/yyyy
    # Linked from the farmer's shop pages.
    products = client_for(people["farmer"]).get(reverse("shop:products")).content.decode()
    assert MINE in products
    # A malformed month is the current month, never an error.
    assert client_for(people["farmer"]).get(MINE + "?thang=2026-13").status_code == 200
    assert client_for(people["farmer"]).get(MINE + "?thang=%00").status_code == 400


def test_statement_totals_and_balances(people):
    deliver(order({DURIAN: 1}, COD))
    (sale,) = settlements.post_deliveries(by=None)
    settlements.record_adjustment(
        producer=partner("krongpac"), amount=10000, kind="return", reference="CH-1", by=None
    )
    today = timezone.localdate()
    result = settlements.statement(partner=partner("krongpac"), start=today, end=today)
    assert result.opening == 0
    assert result.totals.sales == sale.sales and result.totals.adjustment == 10000
    assert result.closing == sale.amount - 10000
    later = settlements.statement(
        partner=partner("krongpac"),
        start=today + timezone.timedelta(days=1),
        end=today + timezone.timedelta(days=2),
    )
    assert later.opening == result.closing and later.entries == []


def test_payout_batch_file_vietqr_and_mark_paid(people, accounts):
    deliver(order({DURIAN: 2, PEPPER: 1}, VIETQR))
    operator = client_for(people["operator"])
    page = operator.get(LEDGER).content.decode()
    assert "payout-form" not in page or partner("krongpac").name in page
    assert operator.post(reverse("settlements:post")).status_code == 302
    chosen = [partner("krongpac").pk, partner("chuse").pk]
    response = operator.post(reverse("settlements:create-batch"), {"producers": chosen})
    assert response.status_code == 302
    payouts = list(Payout.objects.order_by("partner__name"))
    assert len(payouts) == 2
    batch_url = reverse("settlements:batch", args=[payouts[0].batch_id])
    assert response.url == batch_url
    for payout in payouts:
        entry = SettlementEntry.objects.get(payout=payout)
        assert entry.paid_out == payout.amount == -entry.amount > 0
        assert settlements.balances([payout.partner_id])[payout.partner_id] == 0
    page = operator.get(batch_url).content.decode()
    assert page.count("<svg") >= 2
    rows = rows_of(operator.get(reverse("settlements:batch-csv", args=[payouts[0].batch_id])))
    assert len(rows) == 3
    by_account = {row[4]: row for row in rows[1:]}
    for payout in payouts:
        row = by_account[payout.bank_account]
        assert row[1] == payout.partner.name and row[3] == "970405" and row[2] == "Agribank"
        assert row[5] == payout.bank_holder and int(row[6]) == payout.amount
    # A VietQR code that pays exactly this amount into this account.
    text = vietqr.payload(
        vietqr.Account(bank_bin=payouts[0].bank_bin, number=payouts[0].bank_account),
        amount=int(payouts[0].amount),
        purpose=f"NONGSAN CHI TRA {payouts[0].pk}",
    )
    assert vietqr.parse(text)["54"] == str(int(payouts[0].amount))
    # Mark paid: the bank reference is required; once only.
    mark = reverse("settlements:mark-paid", args=[payouts[0].pk])
    operator.post(mark, {"reference": "   "})
    payouts[0].refresh_from_db()
    assert payouts[0].paid_at is None
    operator.post(mark, {"reference": "FT26341000777"})
    payouts[0].refresh_from_db()
    assert payouts[0].paid_at and payouts[0].reference == "FT26341000777"
    with pytest.raises(settlements.SettlementError):
        settlements.mark_payout_paid(payout=payouts[0], reference="AGAIN", by=None)
    # Nothing left to pay: a second batch of the same producers is refused.
    with pytest.raises(settlements.SettlementError):
        settlements.create_payout_batch(partner_ids=chosen, by=people["operator"])
    assert Payout.objects.count() == 2


def test_a_producer_without_a_bank_account_is_not_paid(people):
    deliver(order({DURIAN: 1}, CARD))
    with pytest.raises(settlements.SettlementError):
        settlements.create_payout_batch(partner_ids=[partner("krongpac").pk], by=people["operator"])
    assert settlements.payable()[0].account is None


def test_monthly_withholding_csv(people):
    deliver(order({DURIAN: 2, PEPPER: 1}, COD))
    entries = {e.partner_id: e for e in settlements.post_deliveries(by=None)}
    household = entries[partner("krongpac").pk]
    today = timezone.localdate()
    with translation.override("vi"):
        rows = rows_of(
            client_for(people["operator"]).get(WITHHOLDING_CSV + f"?thang={today:%Y-%m}")
        )
    assert len(rows) == 3  # header, the household, total (the cooperative is exempt)
    month, name, _kind, revenue, vat, pit, total = rows[1]
    assert (month, name) == (f"{today:%m/%Y}", partner("krongpac").name)
    assert (int(revenue), int(vat), int(pit)) == (household.sales, household.vat, household.pit)
    assert int(total) == household.vat + household.pit
    assert rows[2][3:] == rows[1][3:]


def test_the_farmer_dashboard_revenue_is_its_own_lines(people):
    placed = order({DURIAN: 1, PEPPER: 3}, COD)
    own = sum(line.line_price_incl_tax for line in placed.lines.filter(partner=partner("krongpac")))
    assert own < placed.total_incl_tax
    response = client_for(people["farmer"]).get("/dashboard/")
    assert response.status_code == 200
    assert response.context["total_revenue"] == own
    assert response.context["total_revenue_last_day"] == own
    assert response.context["average_order_costs"] == own
    hourly = response.context["hourly_report_dict"]["order_total_hourly"]
    assert sum(item["total_incl_tax"] for item in hourly) == own
    staff = client_for(people["operator"]).get("/dashboard/")
    assert staff.context["total_revenue"] >= placed.total_incl_tax


def test_an_unpaid_vietqr_parcel_is_not_shown_as_paid_in_advance(people):
    unpaid = order({DURIAN: 1}, VIETQR, paid=False)
    parcel = Parcel.objects.select_related("order").get(order=unpaid)
    assert parcel_payment(parcel).code == "awaiting_payment"
    assert not parcel_payment(parcel).cod
    url = reverse("fulfilment:producer-parcel", args=[parcel.pk])
    with translation.override("vi"):
        page = client_for(people["farmer"]).get(url).content.decode()
        assert translation.gettext("Nothing: paid in advance") not in page
    paid = order({DURIAN: 1}, VIETQR)
    assert Parcel.objects.get(order=paid).payment.code == "paid_in_advance"
    cod = order({DURIAN: 1}, COD)
    assert Parcel.objects.get(order=cod).payment.code == "cod_to_collect"


def test_the_basket_delivery_price_is_an_estimate(people):
    from oscar.core.loading import get_model

    product = get_model("catalogue", "Product").objects.get(upc=DURIAN)
    client = client_for(people["buyer"])
    client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    with translation.override("vi"):
        page = client.get("/basket/").content.decode()
    assert "ước tính" in page


def test_settings_page_edits_the_withholding_rates(people):
    from marketplace.models import MarketplaceSettings

    url = reverse("shop:payment-settings")
    page = client_for(people["operator"]).get(url).content.decode()
    assert "withholding_vat_percent" in page
    row = MarketplaceSettings.load()
    data = {
        "commission_percent": "5",
        "withholding_vat_percent": "1.5",
        "withholding_pit_percent": "0.5",
        "bank_bin": "",
        "bank_account_number": "",
        "bank_account_name": "",
    }
    client_for(people["operator"]).post(url, data)
    row.refresh_from_db()
    assert row.withholding_vat_percent == Decimal("1.5")


def test_every_settlement_page_is_fully_translated_into_vietnamese(people, accounts):
    from tests.i18n import record_untranslated

    deliver(order({DURIAN: 2, PEPPER: 1}, COD))
    settlements.post_deliveries(by=None)
    settlements.record_adjustment(
        producer=partner("krongpac"), amount=1000, kind="return", reference="CH-1", by=None
    )
    batch = settlements.create_payout_batch(
        partner_ids=[partner("chuse").pk], by=people["operator"]
    )
    deliver(order({DURIAN: 1}, CARD))  # a parcel not in the ledger yet
    month = f"?thang={timezone.localdate():%Y-%m}"
    pages = {
        "operator": [
            LEDGER,
            reverse("settlements:batch", args=[batch.pk]),
            reverse("settlements:statement", args=[partner("krongpac").pk]) + month,
            reverse("settlements:withholding") + month,
        ],
        "farmer": [MINE + month],
    }
    untranslated = {}
    for role, urls in pages.items():
        client = client_for(people[role])
        for url in urls:
            with record_untranslated("vi") as missing:
                response = client.get(url)
            assert response.status_code == 200, url
            if missing:
                untranslated[url] = sorted(missing)
    assert untranslated == {}
