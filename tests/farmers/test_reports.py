"""Onboarding reports per scope: the page and every CSV × every role, the numbers each
scope sees, the filters (branch within the scope, a validated period), approvals per ISO
week (zero weeks included, local-time week boundaries), the CSV format and the query budget.

The world (tests/farmers/conftest.py) gets members in three branches: Ea Kiết and Krông
Pắc in Đắk Lắk (66), Chư Sê in Gia Lai (52), some approved (with a shop and listings).
"""

import csv
import datetime
import io
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from oscar.core.loading import get_model

from farmers import reports, services
from farmers.models import Member, MemberEvent, Organisation
from marketplace.core.csv_export import safe_cell
from marketplace.models import ProductListing
from marketplace.shops.services import open_producer_shop

from .conftest import IN_SCOPE, ROLES

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")

KINDS = ("status", "communes", "weeks", "shops")
STAFF = (*IN_SCOPE, "post_office", "neighbour_branch", "other_branch", "other_province")
_numbers = itertools.count(1)


def page_url():
    return reverse("farmers:reports")


def csv_url(kind):
    return reverse("farmers:report-csv", args=[kind])


def report_urls():
    return [page_url(), *(csv_url(kind) for kind in KINDS)]


def make_member(branch, status="draft", *, approved_at=None, listings=(), created=None):
    """A member written directly (the services are exercised by the world's own member):
    approved ones get a shop, an approve event at `approved_at` and listings."""
    n = next(_numbers)
    partner = None
    if status == Member.Status.APPROVED:
        partner = open_producer_shop(
            name=f"Cửa hàng thử {n}",
            kind="household",
            province_code=branch.province_code,
            commune_code=branch.commune_code,
        )
    member = Member.objects.create(
        full_name=f"Hội viên thử {n}", name_folded=f"hoi vien thu {n}",
        date_of_birth=datetime.date(1980, 1, 1), gender="male", cccd_encrypted="-",
        cccd_hash=f"report-test-{n}", cccd_last3="000", phone=f"+849{n:08d}",
        province_code=branch.province_code, commune_code=branch.commune_code,
        branch=branch, status=status, partner=partner,
    )  # fmt: skip
    if approved_at is not None:
        approve(member, approved_at)
    for listing_status in listings:
        add_listing(partner, listing_status)
    if created is not None:
        Member.objects.filter(pk=member.pk).update(created=created)
    return member


def approve(member, at):
    event = MemberEvent.objects.create(
        member=member, action="approve", from_status="verified", to_status="approved",
        actor_role="province",
    )  # fmt: skip
    MemberEvent.objects.filter(pk=event.pk).update(at=at)  # history is append-only


def add_listing(partner, status):
    product_class, _ = ProductClass.objects.get_or_create(
        name="Nông sản thử", defaults={"slug": "nong-san-thu"}
    )
    product = Product.objects.create(
        title=f"Sản phẩm {next(_numbers)}", product_class=product_class
    )
    return ProductListing.objects.create(
        product=product, producer=partner.producer_profile, status=status
    )


def org(name):
    return Organisation.objects.get(name=name)


@pytest.fixture
def populated(world):
    """World + members. The world's own member goes through the real services: submitted
    and verified by its branch, approved by the province (now), so its shop opens."""
    now = timezone.now()
    day = datetime.timedelta(days=1)
    for role, action in (("branch", "submit"), ("branch", "verify"), ("province", "approve")):
        services.transition(actor=world.users[role], role=role, member=world.member, action=action)
    world.member.refresh_from_db()
    add_listing(world.member.partner, "approved")
    add_listing(world.member.partner, "pending")
    ea_kiet, krong_pac, chu_se = world.ea_kiet, org("Chi hội Krông Pắc"), world.chu_se
    make_member(ea_kiet, "submitted")
    make_member(ea_kiet, "rejected")
    make_member(ea_kiet, "approved", approved_at=now - 14 * day, listings=["approved", "rejected"])
    make_member(krong_pac, "approved", approved_at=now - 7 * day, listings=["approved"])
    make_member(krong_pac, "verified")
    make_member(chu_se, "approved", approved_at=now - 21 * day, listings=["approved", "pending"])
    make_member(chu_se, "returned")
    world.now = now
    return world


# What each role sees: statuses (non-zero), shops, listings (non-zero), approvals by days ago.
EA_KIET = {
    "status": {"approved": 2, "submitted": 1, "rejected": 1},
    "shops": 2,
    "listings": {"approved": 2, "pending": 1, "rejected": 1},
    "approved_days_ago": [0, 14],
}
KRONG_PAC = {
    "status": {"approved": 1, "verified": 1},
    "shops": 1,
    "listings": {"approved": 1},
    "approved_days_ago": [7],
}
DAK_LAK = {
    "status": {"approved": 3, "submitted": 1, "rejected": 1, "verified": 1},
    "shops": 3,
    "listings": {"approved": 3, "pending": 1, "rejected": 1},
    "approved_days_ago": [0, 7, 14],
}
GIA_LAI = {
    "status": {"draft": 1, "approved": 1, "returned": 1},
    "shops": 1,
    "listings": {"approved": 1, "pending": 1},
    "approved_days_ago": [21],
}
EVERYONE = {
    "status": {"approved": 4, "submitted": 1, "rejected": 1, "verified": 1, "draft": 1,
               "returned": 1},
    "shops": 4,
    "listings": {"approved": 4, "pending": 2, "rejected": 1},
    "approved_days_ago": [0, 7, 14, 21],
}  # fmt: skip
EXPECTED = {
    "branch": EA_KIET,
    "neighbour_branch": KRONG_PAC,
    "province": DAK_LAK,
    "post_office": DAK_LAK,
    "other_branch": GIA_LAI,
    "other_province": GIA_LAI,
    "operator": EVERYONE,
}


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM, once
    assert not response.content[3:].startswith(b"\xef\xbb\xbf")
    assert response["Content-Disposition"].startswith('attachment; filename="nongsan-')
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def weeks_of(days_ago, now):
    """{Monday of the local week: approvals} for approvals `days_ago` days before now."""
    found = {}
    for days in days_ago:
        local = timezone.localtime(now - datetime.timedelta(days=days)).date()
        monday = reports.monday(local)
        found[monday] = found.get(monday, 0) + 1
    return found


# --- Who reaches the reports -------------------------------------------------------------------


@pytest.mark.django_db
def test_every_report_url_by_role(populated):
    """Anonymous → sign in; buyers and farmers → 404 like the member list; staff → 200."""
    for url in report_urls():
        codes = {}
        for role in ROLES:
            response = populated.client(role).get(url)
            codes[role] = response.status_code
            if role == "anonymous":
                assert response["Location"].startswith("/accounts/login/")
        expected = dict.fromkeys(STAFF, 200) | {"anonymous": 302, "buyer": 404, "farmer": 404}
        assert codes == expected, url
    member_list = reverse("farmers:members")
    for role in ("buyer", "farmer"):  # the same answer as the member list gives them
        assert populated.client(role).get(member_list).status_code == 404


@pytest.mark.django_db
def test_an_unknown_csv_is_404_for_everyone(populated):
    url = reverse("farmers:report-csv", args=["members"])
    codes = {role: populated.client(role).get(url).status_code for role in ROLES}
    assert codes == {role: 302 if role == "anonymous" else 404 for role in ROLES}


# --- The numbers each scope sees ---------------------------------------------------------------


@pytest.mark.django_db
# The post office's members follow their consent to sharing with it (no member of this
# world gave it): tests/farmers/test_personal_data.py.
@pytest.mark.parametrize("role", [role for role in EXPECTED if role != "post_office"])
def test_each_role_sees_exactly_its_scope(populated, role):
    expected = EXPECTED[role]
    client = populated.client(role)
    with translation.override("en"):
        page = client.get(page_url())
        context = page.context
        status_rows = read_csv(client.get(csv_url("status")))
        commune_rows = read_csv(client.get(csv_url("communes")))
        week_rows = read_csv(client.get(csv_url("weeks")))
        shop_rows = read_csv(client.get(csv_url("shops")))
        labels = {str(status.label): status.value for status in Member.Status}
    assert page.status_code == 200
    # The page
    totals = {status.value: n for status, n in context["status"].totals.items() if n}
    assert totals == expected["status"]
    assert context["status"].total == sum(expected["status"].values())
    assert context["shops"].shops == expected["shops"]
    assert {s: n for s, n in context["shops"].listings.items() if n} == expected["listings"]
    weeks = {row.monday: row.approvals for row in context["weeks"] if row.approvals}
    assert weeks == weeks_of(expected["approved_days_ago"], populated.now)
    # The CSVs say the same
    assert status_rows[0] == ["Status", "Members"]
    by_status = {labels[label]: int(n) for label, n in status_rows[1:-1] if int(n)}
    assert by_status == expected["status"]
    assert status_rows[-1] == ["Total", str(sum(expected["status"].values()))]
    assert commune_rows[0][0] == "Commune / ward"
    assert sum(int(row[-2]) for row in commune_rows[1:]) == sum(expected["status"].values())
    assert sum(int(row[-1]) for row in commune_rows[1:]) == expected["shops"]
    assert week_rows[0] == ["ISO week", "Week starting (dd/mm/yyyy)", "Members approved"]
    assert len(week_rows) == 1 + reports.DEFAULT_WEEKS
    csv_weeks = {
        datetime.datetime.strptime(d, "%d/%m/%Y").date(): int(n)
        for _w, d, n in week_rows[1:]
        if int(n)
    }
    assert csv_weeks == weeks
    assert shop_rows[0] == [
        "Commune / ward", "Shops opened", "Approved", "Waiting for approval", "Rejected",
        "Withdrawn (recall)",
    ]  # fmt: skip
    assert sum(int(row[1]) for row in shop_rows[1:]) == expected["shops"]
    assert sum(int(row[2]) for row in shop_rows[1:]) == expected["listings"].get("approved", 0)
    assert sum(int(row[3]) for row in shop_rows[1:]) == expected["listings"].get("pending", 0)


@pytest.mark.django_db
def test_a_branch_never_sees_another_branchs_communes(populated):
    from marketplace.core import geo

    names = {
        key: geo.commune_name(o.commune_code)
        for key, o in (
            ("ea_kiet", populated.ea_kiet),
            ("krong_pac", org("Chi hội Krông Pắc")),
            ("chu_se", populated.chu_se),
        )
    }
    seen = {
        "branch": {"ea_kiet"},
        "neighbour_branch": {"krong_pac"},
        "other_branch": {"chu_se"},
        "province": {"ea_kiet", "krong_pac"},
        "operator": {"ea_kiet", "krong_pac", "chu_se"},
    }
    for role, keys in seen.items():
        client = populated.client(role)
        page = client.get(page_url()).content.decode()
        communes = client.get(csv_url("communes")).content.decode("utf-8-sig")
        shops = client.get(csv_url("shops")).content.decode("utf-8-sig")
        for key, name in names.items():
            for text in (page, communes, shops):
                assert (name in text) == (key in keys), (role, key)


# --- Filters -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_branch_filter_narrows_within_the_scope(populated):
    krong_pac = org("Chi hội Krông Pắc")
    response = populated.client("province").get(page_url(), {"branch": krong_pac.pk})
    assert response.context["form"].is_valid()
    assert response.context["status"].total == 2
    assert response.context["shops"].shops == 1
    assert sum(row.approvals for row in response.context["weeks"]) == 1
    rows = read_csv(populated.client("province").get(csv_url("status"), {"branch": krong_pac.pk}))
    assert rows[-1][1] == "2"
    # The CSV links of the page keep the filter.
    assert f"status.csv?branch={krong_pac.pk}" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "branch_name", "total"),
    [("province", "Chi hội Chư Sê", 6), ("branch", "Chi hội Krông Pắc", 4)],
)
def test_a_branch_outside_the_scope_is_refused_and_shows_nothing_more(
    populated, role, branch_name, total
):
    client = populated.client(role)
    branch = org(branch_name)
    response = client.get(page_url(), {"branch": branch.pk})
    assert response.status_code == 200
    assert "branch" in response.context["form"].errors
    assert response.context["status"].total == total  # the scope, unfiltered
    assert client.get(csv_url("status"), {"branch": branch.pk}).status_code == 400


@pytest.mark.django_db
def test_the_period_must_run_forwards_with_a_clear_message(populated):
    client = populated.client("operator")
    start, end = datetime.date(2026, 3, 10), datetime.date(2026, 3, 1)
    response = client.get(page_url(), {"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200
    message = gettext("The end of the period must be on or after its start (%(start)s).") % {
        "start": formats.date_format(start, "SHORT_DATE_FORMAT")
    }
    assert response.context["form"].errors["end"] == [message]
    assert message in response.content.decode()
    assert response.context["status"].total == 9  # unfiltered
    with translation.override("en"):
        english = client.get(
            reverse("farmers:reports"), {"start": "2026-03-10", "end": "2026-03-01"}
        )
    # One date format in both languages: day first.
    assert "The end of the period must be on or after its start (10/03/2026)." in (
        english.content.decode()
    )
    bad = client.get(csv_url("weeks"), {"start": start.isoformat(), "end": end.isoformat()})
    assert bad.status_code == 400
    assert message in bad.content.decode()


GARBAGE = [
    {"start": "abc"},
    {"end": "2026-02-30"},
    {"start": "0001-01-01", "end": "9999-12-31"},
    {"branch": "x"},
    {"branch": "99999999999999999999999"},
    {"branch": "-1", "start": "2026-13-01"},
    {"start": ["2026-01-01", "2026-02-01"], "end": "' OR 1=1 --"},
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", GARBAGE, ids=lambda q: repr(q))
def test_garbage_filters_never_fail(populated, query):
    client = populated.client("province")
    response = client.get(page_url(), query)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["status"].total == 6
    for kind in KINDS:
        assert client.get(csv_url(kind), query).status_code == 400


@pytest.mark.django_db
def test_a_nul_in_a_filter_is_refused_before_the_page(populated):
    """marketplace.core.malformed answers 400 to a NUL in the address."""
    client = populated.client("province")
    assert client.get(page_url(), {"start": "2026-01-01\x00"}).status_code == 400


@pytest.mark.django_db
def test_the_period_selects_members_by_registration_and_approvals_by_date(populated):
    today = timezone.localdate()
    old = make_member(populated.ea_kiet, "draft")
    Member.objects.filter(pk=old.pk).update(created=timezone.now() - datetime.timedelta(days=60))
    client = populated.client("branch")
    assert client.get(page_url()).context["status"].total == 5
    start = today - datetime.timedelta(days=10)
    response = client.get(page_url(), {"start": start.isoformat(), "end": today.isoformat()})
    assert response.context["status"].total == 4  # the old draft was registered before
    weeks = response.context["weeks"]
    assert weeks[0].monday == reports.monday(start)
    assert weeks[-1].monday == reports.monday(today)
    assert sum(row.approvals for row in weeks) == 1  # the one approved 14 days ago is out
    only_old = client.get(
        page_url(), {"end": (today - datetime.timedelta(days=30)).isoformat()}
    ).context
    assert only_old["status"].total == 1
    assert only_old["status"].totals[Member.Status.DRAFT] == 1


@pytest.mark.django_db
def test_a_long_period_shows_its_last_weeks_only(populated):
    response = populated.client("operator").get(
        page_url(), {"start": "2000-01-01", "end": timezone.localdate().isoformat()}
    )
    assert len(response.context["weeks"]) == reports.MAX_WEEKS
    assert response.context["window"].truncated
    assert sum(row.approvals for row in response.context["weeks"]) == 4


# --- Weeks -------------------------------------------------------------------------------------


def test_the_default_window_is_the_last_twelve_iso_weeks():
    window = reports.week_window(today=datetime.date(2026, 1, 7))  # a Wednesday
    assert len(window.weeks) == 12
    assert window.weeks[-1] == datetime.date(2026, 1, 5)
    assert window.weeks[0] == datetime.date(2025, 10, 20)
    assert all(b - a == datetime.timedelta(days=7) for a, b in itertools.pairwise(window.weeks))
    assert (window.start, window.end) == (datetime.date(2025, 10, 20), datetime.date(2026, 1, 7))
    row = reports.WeekRow(monday=datetime.date(2025, 12, 29), approvals=0)
    assert (row.iso, row.week, row.year) == ("2026-W01", 1, 2026)  # ISO years, not calendar


@pytest.mark.django_db
def test_weeks_follow_local_time_and_zero_weeks_are_shown(world):
    """Monday 00:30 in Vietnam is still Sunday in UTC: it counts in the new week."""
    tz = timezone.get_current_timezone()
    this_monday = reports.monday(timezone.localdate())
    monday = this_monday - datetime.timedelta(weeks=3)
    early_monday = datetime.datetime.combine(monday, datetime.time(0, 30), tzinfo=tz)
    late_sunday = datetime.datetime.combine(
        monday - datetime.timedelta(days=1), datetime.time(23, 30), tzinfo=tz
    )
    make_member(world.ea_kiet, "approved", approved_at=early_monday)
    make_member(world.ea_kiet, "approved", approved_at=late_sunday)
    make_member(world.ea_kiet, "approved", approved_at=late_sunday - datetime.timedelta(hours=2))
    weeks = world.client("branch").get(page_url()).context["weeks"]
    assert len(weeks) == reports.DEFAULT_WEEKS
    by_monday = {row.monday: row.approvals for row in weeks}
    assert by_monday[monday] == 1
    assert by_monday[monday - datetime.timedelta(weeks=1)] == 2
    assert sum(by_monday.values()) == 3
    assert list(by_monday.values()).count(0) == reports.DEFAULT_WEEKS - 2


# --- The page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_draws_accessible_charts_without_any_cdn(populated):
    response = populated.client("province").get(page_url())
    html = response.content.decode()
    assert html.count('<svg class="nongsan-chart"') == 4
    assert html.count('role="img"') >= 4
    desc = response.context["status_chart"]["description"]
    assert f"{Member.Status.APPROVED.label}: 3" in desc
    assert f'<desc id="chart-status-desc">{desc}</desc>' in html
    assert "cdn" not in html.lower()
    assert "//" not in "".join(
        line for line in html.splitlines() if "<script" in line and "src=" in line
    ).replace("/static/", "")
    assert "farmers/reports.css" in html
    # Breadcrumbs and a table for every chart.
    assert reverse("farmers:staff-home") in html
    assert html.count("<table") == 4
    # SVG attributes are never localised (no decimal commas, no thousand separators).
    for row in response.context["weeks_chart"]["rows"]:
        assert isinstance(row["total_x"], int)


@pytest.mark.django_db
def test_an_empty_scope_says_so(world):
    response = world.client("neighbour_branch").get(page_url())
    assert response.status_code == 200
    assert gettext("No members yet in your scope.") in response.content.decode()
    assert sum(row.approvals for row in response.context["weeks"]) == 0
    assert len(response.context["weeks"]) == reports.DEFAULT_WEEKS
    filtered = world.client("branch").get(page_url(), {"start": "2001-01-01", "end": "2001-02-01"})
    assert gettext("No member matches these filters.") in filtered.content.decode()
    rows = read_csv(world.client("neighbour_branch").get(csv_url("communes")))
    assert len(rows) == 1  # the header only


# --- CSV ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_csv_headers_follow_the_language(populated):
    client = populated.client("operator")
    vietnamese = read_csv(client.get(csv_url("communes")))[0]
    assert vietnamese[0] == gettext("Commune / ward") != "Commune / ward"
    assert vietnamese[1:7] == [str(status.label) for status in Member.Status]
    assert vietnamese[1] != "Draft"
    assert "Xã" in "".join(row[0] for row in read_csv(client.get(csv_url("communes")))[1:])
    with translation.override("en"):
        english_url = reverse("farmers:report-csv", args=["communes"])
    assert english_url.startswith("/en/")
    english = read_csv(client.get(english_url))[0]
    assert english[:3] == ["Commune / ward", "Draft", "Submitted"]


def test_csv_cells_that_look_like_formulas_are_neutralised():
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("@SUM") == "'@SUM"
    assert safe_cell("Xã Ea Kiết") == "Xã Ea Kiết"
    assert safe_cell(-3) == -3


# --- Query budget ------------------------------------------------------------------------------

# The whole request: session and user (2), the request's savepoint (2), Oscar's layout
# (notifications, basket, category menu: 7; staff who are not superusers +2 for their
# permissions), the staff membership (1), the branch choices (1, +1 to validate a chosen
# branch) and the report itself: three aggregate queries. 19 at most today.
PAGE_BUDGET = 20
REPORT_TABLES = ("farmers_member", "farmers_memberevent", "marketplace_productlisting")


def _grow(world, n):
    branches = [world.ea_kiet, org("Chi hội Krông Pắc"), world.chu_se]
    now = timezone.now()
    statuses = ["draft", "submitted", "verified", "approved", "returned", "rejected"]
    for i in range(n):
        status = statuses[i % len(statuses)]
        make_member(
            branches[i % 3],
            status,
            approved_at=now - datetime.timedelta(days=i % 60) if status == "approved" else None,
            listings=["approved", "pending"] if status == "approved" else (),
        )


def _queries(client, url, query=None):
    """(all queries, queries that read members, events or listings)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query or {})
    assert response.status_code == 200
    sqls = [q["sql"] for q in captured.captured_queries]
    reading = [sql for sql in sqls if any(f'FROM "{t}"' in sql for t in REPORT_TABLES)]
    return len(sqls), len(reading)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "province", "branch"])
def test_the_report_costs_a_constant_number_of_queries(world, role, django_assert_max_num_queries):
    client = world.client(role)
    filtered = {"branch": world.ea_kiet.pk, "start": "2020-01-01", "end": "2100-01-01"}
    _grow(world, 3)
    client.get(page_url())  # warm what is not the report's (Oscar's basket)
    few = [_queries(client, page_url()), _queries(client, page_url(), filtered)]
    few_csv = [_queries(client, csv_url(kind)) for kind in KINDS]
    _grow(world, 60)
    with django_assert_max_num_queries(PAGE_BUDGET):
        response = client.get(page_url(), filtered)
    assert response.context["status"].total > 20
    many = [_queries(client, page_url()), _queries(client, page_url(), filtered)]
    many_csv = [_queries(client, csv_url(kind)) for kind in KINDS]
    assert few == many
    assert few_csv == many_csv
    assert max(total for total, _ in many) <= PAGE_BUDGET
    assert [reading for _, reading in many] == [3, 3]  # status+communes, listings, weeks
    # A CSV: one aggregate query (the shops table reuses the status query: two).
    assert [reading for _, reading in many_csv] == [1, 1, 1, 2]
