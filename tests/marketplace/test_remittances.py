"""Cash on delivery paid out to producers: commission maths, remittances created from
the collected parcels (each parcel in one remittance, the percentage of the day kept),
paid once with who and when, and the operator's ledger in a constant number of queries.

Parcels with cash collected are made through the real checkout (cash on delivery), then
marked delivered and collected directly (the post-office pages do it for real).
"""

import csv
import io
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from oscar.core.loading import get_model

from marketplace.demo.base import PRODUCERS
from marketplace.finance import remittances
from marketplace.models import MarketplaceSettings, Parcel, Remittance
from tests.conftest import need
from tests.marketplace.orders import checkout, set_settings
from tests.marketplace.test_farmer_products import client_for, users

Partner = get_model("partner", "Partner")

DURIAN = "NS0005"  # krongpac
PEPPER = "NS0009"  # chuse
COFFEE = "NS0001"  # eakiet
LEDGER = reverse("remittances:ledger")
EXPORT = reverse("remittances:export")


def partner(key) -> Partner:
    return Partner.objects.get(name=PRODUCERS[key][0])


def collect(order, by, partner_key=None):
    """The post office delivered the order's parcels (or one producer's) and collected
    the cash due on each."""
    parcels = Parcel.objects.filter(order=order)
    if partner_key:
        parcels = parcels.filter(partner=partner(partner_key))
    now = timezone.now()
    parcels.update(
        status=Parcel.Status.DELIVERED,
        delivered_at=now,
        delivered_by=by,
        cod_collected=F("cod_amount"),
        cod_collected_at=now,
        cod_collected_by=by,
    )


def cash(order, partner_key) -> Decimal:
    return Parcel.objects.get(order=order, partner=partner(partner_key)).cod_collected


def dots(value) -> str:
    return f"{int(value):,}".replace(",", ".")


@pytest.fixture
def people(demo):
    return users()


@pytest.fixture
def place(people):
    def _place(quantities=None, method="cod"):
        return checkout(client_for(people["buyer"]), quantities or {DURIAN: 1}, method=method)

    return _place


# --- Commission maths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "collected, percent, expected",
    [
        (390000, "5", 19500),
        (390010, "5", 19501),  # 19.500,5 → rounded half up
        (390009, "5", 19500),  # 19.500,45
        (20, "2.5", 1),  # 0,5 → 1
        (10, "2.5", 0),  # 0,25 → 0
        (333333, "3.33", 11100),  # 11.099,9889
        (140000, "0", 0),
        (140000, "100", 140000),
        (0, "5", 0),
    ],
)
def test_commission_is_a_percentage_in_whole_dong_rounded_half_up(collected, percent, expected):
    assert remittances.commission_on(collected, Decimal(percent)) == expected


# --- Creating and paying remittances ---------------------------------------------------------


def test_a_remittance_gathers_the_collected_parcels_with_the_days_percentage(place, people):
    post = people["post_office_staff"]
    first = place({DURIAN: 1})
    mixed = place({DURIAN: 1, PEPPER: 1})  # one parcel for each producer
    waiting = place({DURIAN: 2})  # not delivered yet
    collect(first, post)
    collect(mixed, post)
    krongpac = partner("krongpac")

    remittance = remittances.create_remittance(krongpac, people["operator"])

    collected = cash(first, "krongpac") + cash(mixed, "krongpac")
    assert collected > 0
    assert remittance.partner == krongpac and remittance.created_by == people["operator"]
    assert remittance.collected == collected
    assert remittance.commission_percent == Decimal("5.00")
    assert remittance.commission == remittances.commission_on(collected, 5)
    assert remittance.amount == collected - remittance.commission
    assert set(remittance.parcels.values_list("order", flat=True)) == {first.pk, mixed.pk}
    assert Parcel.objects.get(order=mixed, partner=partner("chuse")).remittance is None
    assert Parcel.objects.get(order=waiting).remittance is None

    # Nothing left to remit for this producer.
    with (
        translation.override("en"),
        pytest.raises(remittances.RemittanceError, match="Nothing to remit"),
    ):
        remittances.create_remittance(krongpac, people["operator"])

    # A later change of the percentage changes no past remittance.
    set_settings(commission_percent=Decimal("10"))
    collect(waiting, post)
    later = remittances.create_remittance(krongpac, people["operator"])
    assert later.commission_percent == Decimal("10.00")
    assert later.commission == remittances.commission_on(cash(waiting, "krongpac"), 10)
    remittance.refresh_from_db()
    assert remittance.commission_percent == Decimal("5.00")
    assert remittance.commission == remittances.commission_on(collected, 5)
    assert Remittance.objects.count() == 2


def test_parcels_not_delivered_prepaid_or_without_cash_are_not_remitted(place, people):
    post = people["post_office_staff"]
    prepaid = place({DURIAN: 1}, method="vietqr")  # nothing to collect on delivery
    collect(prepaid, post)
    picked_up = place({DURIAN: 1})
    Parcel.objects.filter(order=picked_up).update(
        status=Parcel.Status.PICKED_UP, cod_collected=F("cod_amount")
    )
    delivered_unpaid = place({DURIAN: 1})
    Parcel.objects.filter(order=delivered_unpaid).update(status=Parcel.Status.DELIVERED)
    with pytest.raises(remittances.RemittanceError):
        remittances.create_remittance(partner("krongpac"), people["operator"])
    assert not Remittance.objects.exists()
    rows, totals = remittances.ledger()
    assert rows == [] and totals.collected == 0


def test_a_remittance_is_marked_paid_once_with_who_and_when(place, people):
    collect(place(), people["post_office_staff"])
    remittance = remittances.create_remittance(partner("krongpac"), people["operator"])
    before = timezone.now()
    remittances.mark_paid(remittance, people["operator"], "  VCB  FT25080123  ")
    remittance.refresh_from_db()
    assert remittance.paid_by == people["operator"]
    assert before <= remittance.paid_at <= timezone.now()
    assert remittance.reference == "VCB FT25080123"
    paid_at = remittance.paid_at

    other = users()["branch_staff"]
    with (
        translation.override("en"),
        pytest.raises(remittances.RemittanceError, match="already marked paid"),
    ):
        remittances.mark_paid(remittance, other, "again")
    # A stale copy that still looks unpaid is refused too (the row is re-read locked).
    stale = Remittance.objects.get(pk=remittance.pk)
    stale.paid_at = None
    with pytest.raises(remittances.RemittanceError):
        remittances.mark_paid(stale, other, "again")
    remittance.refresh_from_db()
    assert (remittance.paid_by, remittance.paid_at) == (people["operator"], paid_at)
    assert remittance.reference == "VCB FT25080123"


def test_a_too_long_reference_is_refused(place, people):
    collect(place(), people["post_office_staff"])
    remittance = remittances.create_remittance(partner("krongpac"), people["operator"])
    with pytest.raises(remittances.RemittanceError):
        remittances.mark_paid(remittance, people["operator"], "x" * 101)
    remittance.refresh_from_db()
    assert remittance.paid_at is None


# --- The ledger ------------------------------------------------------------------------------


@pytest.fixture
def history(place, people):
    """krongpac: a paid remittance, an unpaid one, and a parcel not remitted yet;
    chuse: a parcel not remitted yet (collected under a 10% commission later)."""
    post, operator = people["post_office_staff"], people["operator"]
    krongpac = partner("krongpac")
    paid_order = place({DURIAN: 3})
    collect(paid_order, post)
    paid = remittances.create_remittance(krongpac, operator)
    remittances.mark_paid(paid, operator, "FT1")
    unpaid_order = place({DURIAN: 1})
    collect(unpaid_order, post)
    set_settings(commission_percent=Decimal("2.5"))
    unpaid = remittances.create_remittance(krongpac, operator)
    pending_order = place({DURIAN: 2, PEPPER: 1})
    collect(pending_order, post)
    set_settings(commission_percent=Decimal("10"))
    return {
        "paid": paid,
        "unpaid": unpaid,
        "krongpac_pending": cash(pending_order, "krongpac"),
        "chuse_pending": cash(pending_order, "chuse"),
    }


def test_the_ledger_numbers(history):
    paid, unpaid = history["paid"], history["unpaid"]
    rows, totals = remittances.ledger()
    by_name = {row.name: row for row in rows}
    assert list(by_name) == sorted([PRODUCERS["krongpac"][0], PRODUCERS["chuse"][0]])

    k = by_name[PRODUCERS["krongpac"][0]]
    pending = history["krongpac_pending"]
    pending_commission = remittances.commission_on(pending, 10)
    assert k.collected == paid.collected + unpaid.collected + pending
    assert k.commission == paid.commission + unpaid.commission + pending_commission
    assert k.owed == k.collected - k.commission
    assert k.owed == paid.amount + unpaid.amount + pending - pending_commission
    assert k.remitted == paid.amount
    assert k.in_unpaid == unpaid.amount
    assert k.outstanding == unpaid.amount + pending - pending_commission
    assert k.pending_collected == pending

    c = by_name[PRODUCERS["chuse"][0]]
    chuse_commission = remittances.commission_on(history["chuse_pending"], 10)
    assert (c.collected, c.commission, c.remitted) == (
        history["chuse_pending"],
        chuse_commission,
        0,
    )
    assert c.outstanding == c.owed == history["chuse_pending"] - chuse_commission

    for name in ("collected", "commission", "owed", "remitted", "outstanding"):
        assert getattr(totals, name) == getattr(k, name) + getattr(c, name)
    # The worked example of the brief: 5% of 390.000 is 19.500.
    assert remittances.commission_on(390000, 5) == 19500


def test_the_ledger_is_one_query_whatever_the_number_of_producers(place, people):
    post = people["post_office_staff"]
    collect(place({DURIAN: 1}), post)
    operator = client_for(people["operator"])
    operator.get(LEDGER)
    with CaptureQueriesContext(connection) as one_service:
        rows, _totals = remittances.ledger()
    with CaptureQueriesContext(connection) as one_page:
        assert operator.get(LEDGER).status_code == 200
    assert len(rows) == 1

    collect(place({PEPPER: 1, COFFEE: 1}), post)
    remittances.create_remittance(partner("chuse"), people["operator"])
    with CaptureQueriesContext(connection) as three_service:
        rows, _totals = remittances.ledger()
    with CaptureQueriesContext(connection) as three_page:
        assert operator.get(LEDGER).status_code == 200
    assert len(rows) == 3
    assert len(three_service) == len(one_service) <= 2  # the settings row and the ledger
    assert len(three_page) == len(one_page), [q["sql"] for q in three_page.captured_queries]


# --- Pages -----------------------------------------------------------------------------------


def test_the_urls_are_vietnamese():
    assert LEDGER == "/quan-tri/doi-soat-cod/"
    assert EXPORT == "/quan-tri/doi-soat-cod/xuat-csv/"
    assert reverse("remittances:producer", args=[3]) == "/quan-tri/doi-soat-cod/nha-san-xuat/3/"
    assert reverse("remittances:create", args=[3]) == "/quan-tri/doi-soat-cod/nha-san-xuat/3/tao/"
    assert reverse("remittances:mark-paid", args=[4]) == "/quan-tri/doi-soat-cod/phieu/4/da-tra/"


def test_the_ledger_page_shows_each_producer_and_the_totals(history, people):
    response = client_for(people["operator"]).get(LEDGER)
    assert response.status_code == 200
    page = response.content.decode()
    rows, totals = remittances.ledger()
    for row in rows:
        assert row.name in page
        assert reverse("remittances:producer", args=[row.pk]) in page
        assert f"{dots(row.outstanding)}\xa0₫" in page
    assert f"{dots(totals.collected)}\xa0₫" in page
    assert f"{dots(totals.commission)}\xa0₫" in page


def test_the_ledger_page_when_nothing_was_collected(people):
    response = client_for(people["operator"]).get(LEDGER)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert 'class="alert alert-info"' in response.content.decode()


def test_create_and_pay_a_remittance_from_the_pages(place, people):
    order = place({DURIAN: 1})
    collect(order, people["post_office_staff"])
    krongpac = partner("krongpac")
    operator = client_for(people["operator"])
    detail = reverse("remittances:producer", args=[krongpac.pk])

    page = operator.get(detail)
    assert page.status_code == 200
    assert order.number in page.content.decode()
    assert 'id="pending-parcels"' in page.content.decode()

    created = operator.post(reverse("remittances:create", args=[krongpac.pk]), follow=True)
    assert created.redirect_chain[-1][0] == detail
    remittance = Remittance.objects.get()
    assert remittance.created_by == people["operator"]
    body = created.content.decode()
    assert f'id="remittance-{remittance.pk}"' in body
    assert f"{dots(remittance.amount)}\xa0₫" in body

    again = operator.post(reverse("remittances:create", args=[krongpac.pk]), follow=True)
    assert again.status_code == 200 and Remittance.objects.count() == 1

    mark = reverse("remittances:mark-paid", args=[remittance.pk])
    paid = operator.post(mark, {"reference": "VCB-FT9"}, follow=True)
    assert paid.redirect_chain[-1][0] == detail
    remittance.refresh_from_db()
    assert remittance.paid_by == people["operator"] and remittance.reference == "VCB-FT9"
    assert "VCB-FT9" in paid.content.decode()

    twice = operator.post(mark, {"reference": "other"}, follow=True)
    assert twice.status_code == 200
    remittance.refresh_from_db()
    assert remittance.reference == "VCB-FT9"
    too_long = operator.post(mark, {"reference": "x" * 101}, follow=True)
    assert too_long.status_code == 200


def test_a_producer_page_constant_queries_and_bad_ids(place, people):
    post, operator_user = people["post_office_staff"], people["operator"]
    krongpac = partner("krongpac")
    operator = client_for(operator_user)
    detail = reverse("remittances:producer", args=[krongpac.pk])
    collect(place(), post)
    remittances.create_remittance(krongpac, operator_user)
    operator.get(detail)
    with CaptureQueriesContext(connection) as one:
        assert operator.get(detail).status_code == 200
    for _ in range(2):
        collect(place({DURIAN: 1}), post)
        collect(place({DURIAN: 1}), post)
        remittances.create_remittance(krongpac, operator_user)
    collect(place(), post)
    with CaptureQueriesContext(connection) as more:
        assert operator.get(detail).status_code == 200
    assert len(more) == len(one), [q["sql"] for q in more.captured_queries]

    assert operator.get(reverse("remittances:producer", args=[999999])).status_code == 404
    assert operator.post(reverse("remittances:create", args=[999999])).status_code == 404
    assert operator.post(reverse("remittances:mark-paid", args=[999999])).status_code == 404
    assert operator.get(reverse("remittances:create", args=[krongpac.pk])).status_code == 405
    assert operator.get(detail, {"page": "x"}).status_code == 200
    # A producer with nothing collected has an empty page, not an error.
    empty = operator.get(reverse("remittances:producer", args=[partner("ngoclinh").pk]))
    assert empty.status_code == 200 and empty.context["row"] is None


def test_the_ledger_csv(history, people):
    krongpac = partner("krongpac")
    Partner.objects.filter(pk=krongpac.pk).update(name='=HYPERLINK("http://x")')
    response = client_for(people["operator"]).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    ledger_rows, totals = remittances.ledger()
    assert len(rows) == 1 + len(ledger_rows) + 1
    by_name = {row[0]: row for row in rows[1:]}
    assert '\'=HYPERLINK("http://x")' in by_name  # not run as a formula by a spreadsheet
    chuse = next(row for row in ledger_rows if row.name == PRODUCERS["chuse"][0])
    assert by_name[PRODUCERS["chuse"][0]][1:6] == [
        str(int(chuse.collected)),
        str(int(chuse.commission)),
        str(int(chuse.owed)),
        "0",
        str(int(chuse.outstanding)),
    ]
    assert rows[-1][1] == str(int(totals.collected))


# --- Who may use the pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["anonymous", "buyer", "farmer", "branch_staff", "post_office_staff"]
)
def test_only_the_operator_may_use_the_remittance_pages(place, people, role):
    collect(place(), people["post_office_staff"])
    krongpac = partner("krongpac")
    remittance = remittances.create_remittance(krongpac, people["operator"])
    collect(place(), people["post_office_staff"])
    client = client_for(people[role])
    urls = [
        ("get", LEDGER),
        ("get", EXPORT),
        ("get", reverse("remittances:producer", args=[krongpac.pk])),
        ("post", reverse("remittances:create", args=[krongpac.pk])),
        ("post", reverse("remittances:mark-paid", args=[remittance.pk])),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        if role == "anonymous":
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/"), url
        else:
            assert response.status_code == 403, (role, url)
    assert Remittance.objects.count() == 1
    remittance.refresh_from_db()
    assert remittance.paid_at is None
    # The farmer whose parcels these are is no operator either.
    assert MarketplaceSettings.load().commission_percent == Decimal("5.00")


# --- Concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_remittances_at_once_never_share_a_parcel(django_db_setup):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    people = users()
    buyer = client_for(people["buyer"])
    placed = [checkout(buyer, {DURIAN: 1}) for _ in range(3)]
    for order in placed:
        collect(order, people["post_office_staff"])
    krongpac = partner("krongpac")
    before = set(Remittance.objects.values_list("pk", flat=True))

    created, refused, errors = [], [], []
    start = threading.Barrier(4)

    def run():
        try:
            start.wait()
            created.append(remittances.create_remittance(krongpac, people["operator"]).pk)
        except remittances.RemittanceError as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(created) == 1 and len(refused) == 3
    remittance = Remittance.objects.exclude(pk__in=before).get()
    assert remittance.pk == created[0]
    parcels = Parcel.objects.filter(order__in=placed)
    assert parcels.count() == 3
    assert set(parcels.values_list("remittance", flat=True)) == {remittance.pk}
    assert remittance.collected == sum(p.cod_collected for p in parcels)


def test_a_farmer_reads_their_own_remittances_and_nobody_elses(client, place, people):
    # Remittances of the earlier cash-only ledger (parcels collected before deliveries
    # entered the settlement ledger: marked here directly, as they were then).
    order = place({DURIAN: 1})
    collect(order, people["post_office_staff"])
    remittances.create_remittance(partner("krongpac"), people["operator"])
    roles = people
    client.force_login(roles["farmer"])
    page = client.get("/cua-hang/tien-thu-ho/")
    assert page.status_code == 200
    html = page.content.decode()
    remittance = Remittance.objects.get()
    assert remittance.partner.users.filter(pk=roles["farmer"].pk).exists()
    assert f'id="remittance-{remittance.pk}"' in html
    assert "/tao/" not in html and "/da-tra/" not in html  # the operator's forms only

    client.force_login(roles["other_farmer"])
    html = client.get("/cua-hang/tien-thu-ho/").content.decode()
    assert f'id="remittance-{remittance.pk}"' not in html
    for role in ("buyer", "branch_staff", "post_office_staff"):
        client.force_login(roles[role])
        assert client.get("/cua-hang/tien-thu-ho/").status_code == 403
    client.logout()
    assert client.get("/cua-hang/tien-thu-ho/").status_code == 302
