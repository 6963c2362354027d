"""The harvest outlook: what the producers in a person's scope expect to harvest, per
product and commune, week by week for the next eight weeks, beside what is already on
sale, sold from lots on sale, and pre-ordered. For association staff (their scope:
marketplace.core.scope, the one rule) and the operator; the page and its CSV read
`harvest_outlook`, in a fixed number of queries whatever the number of rows.

Where the numbers come from:
- a planting event's expected harvest date and yield (its details as corrected), for a
  lot not harvested (nor packed) yet: in the week of the expected date;
- a harvest event (as corrected) in the week it happened (this week's harvests; the lot's
  planting expectation no longer counts once it is harvested);
- lots on sale: what their open batches still hold ("on sale now") and what orders took
  from them ("sold"), whatever week it is;
- open pre-orders (placed, not converted, not cancelled) of windows not converted yet: in
  the week their expected harvest starts (a window started before the first week: the
  first week).
Quantities are in the product's unit (`traceability.sale.quantity_in_product_unit`, the
conversion lots on sale use: tạ, yến, lạng, tấn, g to kg), rounded down; an expectation in
a unit that cannot be converted keeps its own unit, on a row of its own.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.catalogue import batches
from marketplace.core import geo
from marketplace.core.scope import scope_of
from marketplace.preorders import selectors as preorder_selectors

from .models import FarmEvent, Lot
from .sale import ON_SALE_KINDS, quantity_in_product_unit
from .services import apply_correction

Kind = FarmEvent.Kind
Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
ProducerProfile = get_model("marketplace", "ProducerProfile")

WEEKS = 8
MAX_OFFSET = 52  # how many weeks ahead the outlook may start


def may_see_outlook(user) -> bool:
    """Association staff (a commune branch, a provincial association) and the operator."""
    scope = scope_of(user)
    return scope.everything or scope.is_association


def first_monday(offset: int = 0, *, today: date | None = None) -> date:
    today = today or timezone.localdate()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=offset)


@dataclass
class OutlookRow:
    product_id: int
    product: str
    province_code: int
    commune_code: int
    unit: str
    expected: list = field(default_factory=lambda: [0] * WEEKS)
    preordered: list = field(default_factory=lambda: [0] * WEEKS)
    on_sale: int = 0
    sold: int = 0

    @property
    def commune(self) -> str:
        return geo.commune_name(self.commune_code)

    @property
    def province(self) -> str:
        return geo.province_name(self.province_code)

    @property
    def expected_total(self):
        return sum(self.expected)

    @property
    def preordered_total(self):
        return sum(self.preordered)

    @property
    def weeks(self) -> list[tuple]:
        return list(zip(self.expected, self.preordered, strict=True))


@dataclass
class Outlook:
    mondays: list[date]
    rows: list[OutlookRow]

    @property
    def start(self) -> date:
        return self.mondays[0]

    @property
    def end(self) -> date:
        """The day after the last week."""
        return self.mondays[-1] + timedelta(days=7)


def _in_unit(quantity, unit, product_unit) -> tuple[int | Decimal, str] | None:
    """(quantity in the product's unit, that unit), or in its own unit when the two do
    not compare; None for no quantity."""
    try:
        number = Decimal(str(quantity))
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite() or number <= 0:
        return None
    converted = quantity_in_product_unit(SimpleNamespace(quantity=number, unit=unit), product_unit)
    if converted is not None:
        return converted, product_unit
    return number.normalize(), (unit or "").strip()


def _week(day: date, mondays: list[date]) -> int | None:
    index = (day - mondays[0]).days // 7
    return index if 0 <= index < WEEKS else None


def _corrected(events) -> dict[int, dict]:
    """{event id: its details as corrected} for the planting and harvest events of
    `events` (corrections among them are applied in order, as the trace page does)."""
    details = {e.pk: dict(e.details) for e in events if e.kind != Kind.CORRECTION}
    for e in events:
        if e.kind == Kind.CORRECTION and e.corrects_id in details:
            apply_correction(details[e.corrects_id], e)
    return details


def harvest_outlook(user, *, offset: int = 0, today: date | None = None) -> Outlook:
    """The outlook of the producers in `user`'s scope for the eight weeks from the Monday
    `offset` weeks after this week's. Seven queries (and the scope's own), whatever the
    number of rows."""
    offset = max(0, min(int(offset), MAX_OFFSET))
    mondays = [first_monday(offset + i, today=today) for i in range(WEEKS)]
    start, end = mondays[0], mondays[-1] + timedelta(days=7)
    scope = scope_of(user)
    producers = scope.producers(ProducerProfile.objects.all()).values("pk")
    lots = Lot.objects.filter(producer__in=producers)

    # 1. Plantings of lots not harvested yet, harvests of these weeks, their corrections.
    aware = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), aware)
    until = timezone.make_aware(datetime.combine(end, time.min), aware)
    harvested = FarmEvent.objects.filter(lot=OuterRef("lot"), kind__in=ON_SALE_KINDS)
    wanted = (Q(kind=Kind.PLANTING) & ~Exists(harvested)) | Q(
        kind=Kind.HARVEST, event_time__gte=since, event_time__lt=until
    )
    originals = FarmEvent.objects.filter(wanted, lot__in=lots)
    events = list(
        FarmEvent.objects.filter(
            Q(pk__in=originals.values("pk"))
            | Q(kind=Kind.CORRECTION, corrects__in=originals.values("pk"))
        )
        .select_related("lot")
        .order_by("lot_id", "sequence")
    )
    details = _corrected(events)

    # 2. Lots on sale (one query) and where they are (one query).
    on_sale = batches.open_by_source(lots.values("pk"))
    sale_lots = list(
        Lot.objects.filter(pk__in=list(on_sale)).values(
            "pk", "product_id", "province_code", "commune_code"
        )
    )

    # 3. Open pre-orders of these weeks (one query) and their producers' places (one).
    windows = preorder_selectors.open_preorders_between(producers.values("partner_id"), start, end)
    places = {
        p["partner_id"]: (p["province_code"], p["commune_code"])
        for p in ProducerProfile.objects.filter(
            partner_id__in={w["partner_id"] for w in windows}
        ).values("partner_id", "province_code", "commune_code")
    }

    # 4. The products' titles and units (one query each).
    product_ids = {e.lot.product_id for e in events}
    product_ids |= {lot["product_id"] for lot in sale_lots} | {w["product_id"] for w in windows}
    titles = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "title"))
    units = dict(
        ProductAttributeValue.objects.filter(
            product_id__in=product_ids, attribute__code="unit"
        ).values_list("product_id", "value_text")
    )

    rows: dict[tuple, OutlookRow] = {}

    def row(product_id, province_code, commune_code, unit) -> OutlookRow:
        key = (product_id, commune_code, unit)
        if key not in rows:
            rows[key] = OutlookRow(
                product_id=product_id,
                product=titles.get(product_id, ""),
                province_code=province_code,
                commune_code=commune_code,
                unit=unit,
            )
        return rows[key]

    for event in events:
        if event.kind == Kind.CORRECTION:
            continue
        lot, d = event.lot, details[event.pk]
        product_unit = units.get(lot.product_id) or ""
        if event.kind == Kind.PLANTING:
            try:
                day = date.fromisoformat(str(d.get("expected_harvest") or ""))
            except ValueError:
                continue
            amount = _in_unit(d.get("expected_quantity"), d.get("expected_unit"), product_unit)
        else:
            day = timezone.localtime(event.event_time).date()
            amount = _in_unit(d.get("quantity"), d.get("unit") or lot.unit, product_unit)
        week = _week(day, mondays)
        if week is None or amount is None:
            continue
        quantity, unit = amount
        row(lot.product_id, lot.province_code, lot.commune_code, unit).expected[week] += quantity

    for lot in sale_lots:
        left, taken = on_sale[lot["pk"]]
        r = row(
            lot["product_id"],
            lot["province_code"],
            lot["commune_code"],
            units.get(lot["product_id"]) or "",
        )
        r.on_sale += left
        r.sold += taken

    for window in windows:
        province_code, commune_code = places.get(window["partner_id"], (None, None))
        week = _week(max(window["harvest_from"], start), mondays)
        r = row(
            window["product_id"], province_code, commune_code, units.get(window["product_id"]) or ""
        )
        r.preordered[week] += window["quantity"] or 0

    ordered = sorted(
        rows.values(),
        key=lambda r: (r.product.casefold(), r.province, r.commune, r.unit, r.product_id),
    )
    return Outlook(mondays=mondays, rows=ordered)


def weekly_totals(rows: list[OutlookRow]) -> dict[str, list]:
    """{unit: expected per week} over `rows` (a chart adds up one unit only)."""
    totals: dict[str, list] = defaultdict(lambda: [0] * WEEKS)
    for r in rows:
        for i, value in enumerate(r.expected):
            totals[r.unit][i] += value
    return dict(totals)
