"""Food safety rules of lots: whether a lot may be sold, the pre-harvest interval, banned
active ingredients and the dates farm events may carry. One function per rule; the trace
page, the farmer's pages, packing an order line and the operator's review call them.

- `sale_refusal(lot, on=…)`: None when the lot may be sold on that day, else why not
  (recalled; past its expiry date; harvested inside an input's pre-harvest interval and
  not cleared by the operator, or refused by them). `sale_refusals` lists every reason.
- A harvest inside a pre-harvest interval is recorded only when the farmer confirms it
  (`PreHarvestWarning` first); the lot then waits for the operator's review
  (`Lot.safety_review`, the queue `lots_to_review`, the decision `review_lot`).
- `banned_ingredient(text)`: the banned active ingredient named in `text`, compared with
  marketplace.core.text.fold (no case, no diacritics, whole words).
- `validate_event_date(value)`: a farm event's date lies between EARLIEST_EVENT_DATE and
  tomorrow in Vietnam time.
"""

import csv
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.catalogue import batches
from marketplace.core.text import fold

from . import caching, services, transparency
from .models import BannedIngredient, FarmEvent, Lot, SafetyReview

BANNED_FILE = Path(__file__).resolve().parent / "data" / "banned_ingredients.csv"
# No farm event of a lot on this marketplace happened before this day.
EARLIEST_EVENT_DATE = date(2000, 1, 1)
# How far ahead of the production date an expiry date may lie (dried goods keep years).
MAX_SHELF_LIFE_YEARS = 20
MAX_NOTE = 2000

RECALLED = "recalled"
EXPIRED = "expired"
PRE_HARVEST_PENDING = "pre_harvest_pending"
PRE_HARVEST_REFUSED = "pre_harvest_refused"


# --- Dates ------------------------------------------------------------------------------------


def latest_event_date() -> date:
    """Tomorrow in Vietnam time: a farm event is recorded after it happens (one day of
    slack for clocks and time zones)."""
    return timezone.localdate() + timedelta(days=1)


def _local_date(value) -> date | None:
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            return value.date()
        try:
            return timezone.localtime(value).date()
        except (OverflowError, ValueError):  # year 9999 plus 7 hours, year 1 minus them
            return date.max if value.year > 5000 else date.min
    return value if isinstance(value, date) else None


def validate_event_date(value) -> None:
    """The one bound on the date of a farm event (and of a lot's production): no earlier
    than 01/01/2000, no later than tomorrow in Vietnam time. `value` is a date or an
    aware datetime; raises ValidationError with a message for the farmer."""
    day = _local_date(value)
    if day is None:
        return
    if day < EARLIEST_EVENT_DATE:
        raise ValidationError(
            _("The date cannot be before %(date)s.")
            % {"date": date_format(EARLIEST_EVENT_DATE, "d/m/Y")},
            code="too_early",
        )
    latest = latest_event_date()
    if day > latest:
        raise ValidationError(
            _("The date cannot be later than tomorrow (%(date)s).")
            % {"date": date_format(latest, "d/m/Y")},
            code="too_late",
        )


def validate_expiry_date(value, *, production_date=None) -> None:
    """An expiry date: not before 01/01/2000, and at most MAX_SHELF_LIFE_YEARS after the
    production date (or today)."""
    if not isinstance(value, date):
        return
    if value < EARLIEST_EVENT_DATE:
        raise ValidationError(
            _("The date cannot be before %(date)s.")
            % {"date": date_format(EARLIEST_EVENT_DATE, "d/m/Y")},
            code="too_early",
        )
    start = production_date or timezone.localdate()
    if start.year + MAX_SHELF_LIFE_YEARS <= date.max.year and value > start.replace(
        year=start.year + MAX_SHELF_LIFE_YEARS, day=min(start.day, 28)
    ):
        raise ValidationError(
            _("The expiry date is more than %(n)s years after production.")
            % {"n": MAX_SHELF_LIFE_YEARS},
            code="too_late",
        )


# --- Banned active ingredients ---------------------------------------------------------------


def read_banned_file(path: Path = BANNED_FILE) -> list[dict]:
    """The rows of the shipped list (lines starting with "#" are its notes and sources)."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if line.strip() and not line.lstrip().startswith("#")]
    return [
        {key: (value or "").strip() for key, value in row.items()} for row in csv.DictReader(lines)
    ]


def banned_ingredient(*texts) -> BannedIngredient | None:
    """The banned active ingredient (in force) that one of `texts` names, or None. A name
    matches as whole words after folding: "Chlorpyrifos-ethyl 48EC", "CHLORPYRIFOS ETHYL"
    and "chlorpyrifos ethyl" all name Chlorpyrifos ethyl; "2,4-D" is not found in
    "2,4-DB". One query."""
    folded = [f" {fold(text)} " for text in texts if text]
    if not any(text.strip() for text in folded):
        return None
    for ingredient in BannedIngredient.objects.filter(active=True).order_by("name"):
        for name in ingredient.names():
            needle = fold(name)
            if needle and any(f" {needle} " in text for text in folded):
                return ingredient
    return None


def banned_message(ingredient: BannedIngredient) -> str:
    return _(
        "%(ingredient)s is banned from use in Vietnam (%(source)s). Do not use it; "
        "record only products that are permitted."
    ) % {"ingredient": ingredient.name, "source": ingredient.source}


# --- Pre-harvest interval --------------------------------------------------------------------


def breaches(lot, events, *, pre_harvest=None) -> list:
    """The inputs of `events` whose pre-harvest interval the harvest did not respect
    (services.pre_harvest_status, values as corrected; `pre_harvest`: its result when the
    caller has it)."""
    if pre_harvest is None:
        pre_harvest = services.pre_harvest_status(lot, events)
    return [p for p in pre_harvest if p.ok is False]


class PreHarvestWarning(ValidationError):
    """Recording this event would put the harvest inside a pre-harvest interval: the
    farmer must confirm (record_event(confirm_pre_harvest=True))."""

    def __init__(self, found):
        self.breaches = found
        lines = [
            _(
                "%(product)s was applied on %(applied)s with a pre-harvest interval of "
                "%(days)s days: the harvest on %(harvest)s is only %(after)s days after."
            )
            % {
                "product": p.product_name,
                "applied": date_format(p.applied_on, "d/m/Y"),
                "days": p.interval_days,
                "harvest": date_format(p.harvest_date, "d/m/Y"),
                "after": p.days,
            }
            for p in found
        ]
        super().__init__(lines, code="pre_harvest")


def check_new_breaches(*, lot, before, after, confirmed: bool) -> bool:
    """Whether the event that turns `before` into `after` (the lot's events) adds a
    pre-harvest breach. Unconfirmed, that raises PreHarvestWarning."""
    old = {p.input_event.pk for p in breaches(lot, before)}
    new = [
        p for p in breaches(lot, after) if p.input_event.pk not in old or p.input_event.pk is None
    ]
    if new and not confirmed:
        raise PreHarvestWarning(new)
    return bool(new)


# --- May this lot be sold? --------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


MESSAGES = {
    RECALLED: gettext_lazy("This lot has been recalled: it is not sold."),
    EXPIRED: gettext_lazy("This lot is past its expiry date: it is not sold."),
    PRE_HARVEST_PENDING: gettext_lazy(
        "This lot was harvested before a pre-harvest interval ended. It is not sold until "
        "the marketplace has reviewed it."
    ),
    PRE_HARVEST_REFUSED: gettext_lazy(
        "This lot was harvested before a pre-harvest interval ended, and the marketplace "
        "has decided it is not to be sold."
    ),
}


def _refusal(code) -> Refusal:
    return Refusal(code, str(MESSAGES[code]))


def sale_refusals(lot, *, on: date | None = None, events=None, pre_harvest=None) -> list[Refusal]:
    """Every reason why `lot` may not be sold on `on` (today in Vietnam time), most
    serious first; empty when it may. `events`: the lot's events when the caller has read
    them (else one query); `pre_harvest`: services.pre_harvest_status of them when the
    caller has it; the recall is read through `lot.recall` (select_related it)."""
    on = on or timezone.localdate()
    found = []
    if getattr(lot, "recall", None) is not None:
        found.append(_refusal(RECALLED))
    if lot.safety_review == SafetyReview.REFUSED:
        found.append(_refusal(PRE_HARVEST_REFUSED))
    elif lot.safety_review != SafetyReview.CLEARED:
        if events is None and pre_harvest is None:
            events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
        if breaches(lot, events, pre_harvest=pre_harvest):
            found.append(_refusal(PRE_HARVEST_PENDING))
    if lot.expiry_date is not None and lot.expiry_date < on:
        found.append(_refusal(EXPIRED))
    return found


def sale_refusal(lot, *, on: date | None = None, events=None) -> Refusal | None:
    """None when `lot` may be sold on `on`, else the most serious reason why not."""
    refusals = sale_refusals(lot, on=on, events=events)
    return refusals[0] if refusals else None


def refusal_changes_at(lot) -> datetime | None:
    """When the passing of time alone changes sale_refusal(lot): the start of the day
    after its expiry date (Vietnam time), if that is still to come."""
    if lot.expiry_date is None or lot.expiry_date >= date.max - timedelta(days=1):
        return None
    moment = timezone.make_aware(datetime.combine(lot.expiry_date + timedelta(days=1), time()))
    return moment if moment > timezone.now() else None


def refusals_of(lots, *, on: date | None = None) -> dict[int, list[Refusal]]:
    """{lot pk: sale_refusals} for `lots` (Lot rows with `recall` selected), reading all
    their events in one query."""
    lots = list(lots)
    by_lot: dict[int, list] = {lot.pk: [] for lot in lots}
    for event in FarmEvent.objects.filter(lot_id__in=list(by_lot)).order_by("lot_id", "sequence"):
        by_lot[event.lot_id].append(event)
    return {lot.pk: sale_refusals(lot, on=on, events=by_lot[lot.pk]) for lot in lots}


def sellable(lots, *, on: date | None = None) -> list:
    """The lots of `lots` (Lot rows with `recall` selected) that may be sold (one query)."""
    lots = list(lots)
    refusals = refusals_of(lots, on=on)
    return [lot for lot in lots if not refusals[lot.pk]]


# --- The operator's review --------------------------------------------------------------------


def lots_to_review():
    """Lots harvested inside a pre-harvest interval waiting for the operator."""
    return Lot.objects.filter(safety_review=SafetyReview.PENDING)


def count_to_review() -> int:
    return lots_to_review().count()


@transaction.atomic
def mark_for_review(*, lot) -> None:
    """A pre-harvest breach was recorded on `lot`: it waits for the operator again."""
    Lot.objects.filter(pk=lot.pk).update(
        safety_review=SafetyReview.PENDING,
        safety_reviewed_at=None,
        safety_reviewed_by=None,
    )
    lot.safety_review = SafetyReview.PENDING
    # Not sold until the operator clears it: what is on sale of it leaves the stock now.
    batches.withdraw(source_id=lot.pk, reason=PRE_HARVEST_PENDING)
    caching.invalidate_lot(lot.pk)  # now, and again once committed (as record_event)
    transaction.on_commit(lambda: caching.invalidate_lot(lot.pk))


@transaction.atomic
def review_lot(*, lot, by, decision: str, note: str) -> Lot:
    """The operator's decision on a lot waiting for review: CLEARED (e.g. a residue test
    passed) or REFUSED, with the reason. Only the operator decides."""
    if by is None or not getattr(by, "is_superuser", False):
        raise ValidationError(_("Only the marketplace operator reviews lots."))
    if decision not in (SafetyReview.CLEARED, SafetyReview.REFUSED):
        raise ValidationError({"decision": _("Choose whether the lot may be sold.")})
    note = str(note or "").strip()
    if not note:
        raise ValidationError({"note": _("Please say what the decision rests on.")})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _("At most %(n)s characters.") % {"n": MAX_NOTE}})
    locked = Lot.objects.select_for_update().get(pk=lot.pk)
    if locked.safety_review != SafetyReview.PENDING:
        raise ValidationError(_("This lot is not waiting for a review."))
    locked.safety_review = decision
    locked.safety_review_note = note
    locked.safety_reviewed_by = by
    locked.safety_reviewed_at = timezone.now()
    locked.save(
        update_fields=[
            "safety_review",
            "safety_review_note",
            "safety_reviewed_by",
            "safety_reviewed_at",
            "updated_at",
        ]
    )
    if decision == SafetyReview.REFUSED:
        batches.withdraw(source_id=locked.pk, reason=PRE_HARVEST_REFUSED)
    # Signed into the transparency log, so that "record intact" covers the decision too
    # (integrity.compare_facts compares it with the lot's row).
    transparency.record_review(lot=locked)
    caching.invalidate_lot(locked.pk)  # now, and again once committed (as record_event)
    transaction.on_commit(lambda: caching.invalidate_lot(locked.pk))
    return locked
