"""Onboarding reports of association and post-office staff, per scope.

Reads only: every figure is aggregated in the database (values/annotate/Count, TruncWeek)
over `selectors.members_in_scope(user)`, so a report costs a fixed number of queries
whatever the number of members (one per table), on SQLite and PostgreSQL alike.

- `filtered_members`: the scope, narrowed to a branch and to members registered in a period;
- `members_by_status_and_commune`: current status counts, per commune, with shops opened;
- `approvals_per_week`: the approve transitions of MemberEvent per ISO week, zero weeks too;
- `listings_by_commune`: the products listed by the shops of those members, per status.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F
from django.db.models.functions import TruncWeek
from django.utils import timezone

from marketplace.core import geo

from . import selectors
from .models import Member, MemberEvent

STATUSES = tuple(Member.Status)  # draft, submitted, verified, approved, returned, rejected
DEFAULT_WEEKS = 12
MAX_WEEKS = 104  # two years of weeks at most on one chart
TOP_COMMUNES = 10
LISTING_STATUSES = ("approved", "pending", "rejected", "withdrawn")


# --- The members a report covers ---------------------------------------------------------------


def filtered_members(user, membership=None, *, branch=None, start=None, end=None):
    """Members in the caller's scope, of one branch (optional), registered from `start` to
    `end` (dates, inclusive, local time; each optional)."""
    members = selectors.members_in_scope(user, membership).order_by()
    if branch is not None:
        members = members.filter(branch=branch)
    if start is not None:
        members = members.filter(created__date__gte=start)
    if end is not None:
        members = members.filter(created__date__lte=end)
    return members


# --- Members by status and commune (one query) -------------------------------------------------


@dataclass
class CommuneRow:
    code: int
    name: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    shops: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def by_status(self) -> list[int]:
        return [self.counts[status] for status in STATUSES]


@dataclass
class StatusReport:
    totals: dict
    communes: list  # every commune with a member, most members first
    shops: int

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def top_communes(self) -> list:
        return self.communes[:TOP_COMMUNES]

    @property
    def by_status(self) -> list[tuple[str, str, int]]:
        return [(status.value, status.label, self.totals[status]) for status in STATUSES]


def members_by_status_and_commune(members) -> StatusReport:
    rows = members.values("commune_code", "status").annotate(n=Count("pk"), shops=Count("partner"))
    totals = dict.fromkeys(STATUSES, 0)
    communes: dict[int, CommuneRow] = {}
    shops = 0
    for row in rows:
        status = Member.Status(row["status"])
        code = row["commune_code"]
        commune = communes.get(code)
        if commune is None:
            commune = communes[code] = CommuneRow(code=code, name=geo.commune_name(code))
        commune.counts[status] += row["n"]
        commune.shops += row["shops"]
        totals[status] += row["n"]
        shops += row["shops"]
    ordered = sorted(communes.values(), key=lambda c: (-c.total, c.name, c.code))
    return StatusReport(totals=totals, communes=ordered, shops=shops)


# --- Approvals per ISO week (one query) --------------------------------------------------------


def monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Window:
    """The weeks a chart shows: from the Monday of `start`'s week to `end`'s week."""

    start: datetime.date  # first day counted
    end: datetime.date  # last day counted
    weeks: tuple  # the Mondays, oldest first
    truncated: bool = False  # the period was longer than MAX_WEEKS: only its last weeks


def week_window(*, start=None, end=None, today=None, weeks=DEFAULT_WEEKS) -> Window:
    """The last `weeks` ISO weeks up to today by default; a period's weeks when given
    (capped to its last MAX_WEEKS weeks)."""
    today = today or timezone.localdate()
    end = end or today
    last = monday(end)
    first = monday(start) if start else last - datetime.timedelta(weeks=weeks - 1)
    truncated = False
    count = (last - first).days // 7 + 1
    if count > MAX_WEEKS:
        first, count, truncated = last - datetime.timedelta(weeks=MAX_WEEKS - 1), MAX_WEEKS, True
    mondays = tuple(first + datetime.timedelta(weeks=i) for i in range(max(count, 0)))
    counted_from = max(start, first) if start else first
    return Window(start=counted_from, end=end, weeks=mondays, truncated=truncated)


@dataclass(frozen=True)
class WeekRow:
    monday: datetime.date
    approvals: int

    @property
    def iso(self) -> str:
        year, week, _day = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def week(self) -> int:
        return self.monday.isocalendar()[1]

    @property
    def year(self) -> int:
        return self.monday.isocalendar()[0]


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def approvals_per_week(members, window: Window) -> list[WeekRow]:
    """How many members were approved (shop opened) in each week of the window, from the
    history's approve transitions; weeks without an approval count zero."""
    rows = (
        MemberEvent.objects.filter(
            action="approve",
            member__in=members.values("pk"),
            at__date__gte=window.start,
            at__date__lte=window.end,
        )
        .annotate(week=TruncWeek("at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    found = {_as_date(row["week"]): row["n"] for row in rows}
    return [WeekRow(monday=day, approvals=found.get(day, 0)) for day in window.weeks]


# --- Shops and the products they list (one query) ----------------------------------------------


@dataclass
class ShopRow:
    code: int
    name: str
    shops: int = 0
    listings: dict = field(default_factory=lambda: dict.fromkeys(LISTING_STATUSES, 0))

    @property
    def on_sale(self) -> int:
        return self.listings["approved"]

    @property
    def waiting(self) -> int:
        return self.listings["pending"]


@dataclass
class ShopReport:
    shops: int
    listings: dict
    communes: list  # communes with a shop, most shops first

    @property
    def on_sale(self) -> int:
        return self.listings["approved"]

    @property
    def waiting(self) -> int:
        return self.listings["pending"]


def listings_by_commune(members, status_report: StatusReport) -> ShopReport:
    """Shops opened (members with a shop, from the status report) and the listings of
    those shops per status, by the member's commune."""
    from marketplace.models import ProductListing

    rows = (
        ProductListing.objects.filter(
            producer__partner__in=members.filter(partner__isnull=False).values("partner")
        )
        .values("status", commune=F("producer__partner__member__commune_code"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    communes = {
        c.code: ShopRow(code=c.code, name=c.name, shops=c.shops)
        for c in status_report.communes
        if c.shops
    }
    listings = dict.fromkeys(LISTING_STATUSES, 0)
    for row in rows:
        code = row["commune"]
        commune = communes.get(code)
        if commune is None:  # defensive: every listed shop is a member's, counted above
            commune = communes[code] = ShopRow(code=code, name=geo.commune_name(code))
        status = row["status"] if row["status"] in listings else "withdrawn"
        commune.listings[status] += row["n"]
        listings[status] += row["n"]
    ordered = sorted(communes.values(), key=lambda c: (-c.shops, -c.on_sale, c.name, c.code))
    return ShopReport(shops=status_report.shops, listings=listings, communes=ordered)
