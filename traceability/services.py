"""Writes of the traceability app (lots and farm events), and the reads the trace page
and the farmer pages share. Plain functions, keyword-only, one transaction each."""

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from . import caching, gs1, safety, transparency
from .models import (
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    TIMEZONE_OFFSET_RE,
    ZERO_HASH,
    FarmEvent,
    Lot,
    Recall,
    SafetyReview,
    TraceRecord,
    compute_hash,
)

StockRecord = get_model("partner", "StockRecord")

Kind = FarmEvent.Kind
LOT_CODE_RANDOM = string.ascii_uppercase + string.digits
MAX_INTERVAL_DAYS = 365
MAX_PHOTOS = 3
PHOTO_DIR = "trace/photos"
MAX_TEXT = 200

# Keys each kind of event may carry in `details` ("notes" is allowed for every kind).
DETAIL_KEYS = {
    Kind.PLANTING: {
        "variety",
        "area",
        "area_unit",
        "expected_harvest",
        "expected_quantity",
        "expected_unit",
    },
    Kind.GROWING_NOTE: set(),
    Kind.INPUT_APPLIED: {
        "product_name",
        "dose",
        "unit",
        "applied_on",
        "pre_harvest_interval_days",
        "kind_of_input",
        "active_ingredient",
    },
    Kind.HARVEST: {"quantity", "unit"},
    Kind.PROCESSING: {"method"},
    Kind.PACKING: {"output_lot", "quantity", "unit"},
    Kind.SHIPPING: {"carrier", "destination"},
    Kind.RECEIVING: {"received_from"},
    Kind.CORRECTION: {"reason"},
}


# --- Lots ------------------------------------------------------------------------------------


def new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def new_lot_code(*, product, on: date | None = None) -> str:
    """ "L" + YYMMDD + 4 random letters/digits, unique for the product."""
    on = on or timezone.localdate()
    for _attempt in range(50):
        code = (
            "L" + on.strftime("%y%m%d") + "".join(secrets.choice(LOT_CODE_RANDOM) for _ in "1234")
        )
        if not Lot.objects.filter(product=product, code=code).exists():
            return code
    raise RuntimeError("Could not find a free lot code")  # 36^4 per day: not in practice


def sells(producer, product) -> bool:
    return StockRecord.objects.filter(product=product, partner_id=producer.partner_id).exists()


@transaction.atomic
def create_lot(
    *,
    product,
    producer,
    by,
    code=None,
    quantity,
    unit,
    province_code,
    commune_code,
    latitude=None,
    longitude=None,
    production_date=None,
    expiry_date=None,
    standards="",
    brand="",
) -> Lot:
    """A new lot of `product` from `producer`, which must sell it. Raises ValidationError
    (with field names) on anything wrong; nothing is saved then."""
    if not sells(producer, product):
        raise ValidationError(
            {"product": _("%(producer)s does not sell this product.") % {"producer": producer}}
        )
    code = (code or "").strip()
    if code:
        try:
            gs1.validate_lot_code(code)  # the one rule: GS1 set 82, 1 to 20 characters
        except ValidationError as exc:
            raise ValidationError({"code": exc.messages}) from None
        if Lot.objects.filter(product=product, code=code).exists():
            raise ValidationError(
                {
                    "code": _("This product already has a lot with the code %(code)s.")
                    % {"code": code}
                }
            )
    else:
        code = new_lot_code(product=product, on=production_date)
    date_errors = {}
    for field, check in (
        ("production_date", lambda: safety.validate_event_date(production_date)),
        (
            "expiry_date",
            lambda: safety.validate_expiry_date(expiry_date, production_date=production_date),
        ),
    ):
        try:
            check()
        except ValidationError as exc:
            date_errors[field] = exc.messages
    if date_errors:
        raise ValidationError(date_errors)
    lot = Lot(
        product=product,
        producer=producer,
        code=code,
        quantity=quantity,
        unit=(unit or "").strip(),
        province_code=province_code,
        commune_code=commune_code,
        latitude=latitude,
        longitude=longitude,
        production_date=production_date,
        expiry_date=expiry_date,
        standards=clean_standards(standards),
        brand=(brand or "").strip(),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    if lot.quantity is not None and Decimal(lot.quantity) <= 0:
        raise ValidationError({"quantity": _("The quantity must be more than zero.")})
    for _attempt in range(10):
        lot.short_code = new_short_code()
        if not Lot.objects.filter(short_code=lot.short_code).exists():
            break
    lot.full_clean()
    try:
        with transaction.atomic():
            lot.save()
    except IntegrityError as exc:  # a concurrent lot took the code
        raise ValidationError(
            {"code": _("This product already has a lot with the code %(code)s.") % {"code": code}}
        ) from exc
    transparency.record_lot(lot=lot)  # signed and logged (traceability.transparency)
    return lot


STANDARD_PREFIXES = ("TCVN", "QCVN", "TCCS")


def standard_list(text: str) -> list[str]:
    """The standards of a lot's `standards` text, one per item ("TCVN 5251:2015; TCCS 01")."""
    return [part.strip() for part in str(text or "").replace("\n", ";").split(";") if part.strip()]


def clean_standards(text) -> str:
    """The standards a lot applies, as "TCVN …; QCVN …; TCCS …" (each naming a Vietnamese
    national standard, national technical regulation or the producer's own standard)."""
    items = standard_list(text)
    for item in items:
        if not item.upper().startswith(STANDARD_PREFIXES):
            raise ValidationError(
                {
                    "standards": _(
                        "“%(item)s” is not a TCVN, QCVN or TCCS number: write each standard "
                        "as e.g. TCVN 5251:2015, separated by “;”."
                    )
                    % {"item": item}
                }
            )
    text = "; ".join(items)
    if len(text) > 200:
        raise ValidationError({"standards": _("At most %(n)s characters.") % {"n": 200}})
    return text


# --- Events ----------------------------------------------------------------------------------


def _text(details, key, errors, *, required=False, label=""):
    value = details.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = _("Please fill in %(field)s.") % {"field": label}
        return None
    value = str(value).strip()
    if len(value) > MAX_TEXT:
        errors[key] = _("At most %(n)s characters.") % {"n": MAX_TEXT}
        return None
    return value


def _positive_decimal(details, key, errors, *, required=False, label=""):
    value = details.get(key)
    if value is None or value == "":
        if required:
            errors[key] = _("Please fill in %(field)s.") % {"field": label}
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        errors[key] = _("%(field)s must be a number.") % {"field": label}
        return None
    if not number.is_finite() or number <= 0:
        errors[key] = _("%(field)s must be more than zero.") % {"field": label}
        return None
    return format(number.normalize(), "f")


def _date(details, key, errors, *, required=False, label=""):
    value = details.get(key)
    if value is None or value == "":
        if required:
            errors[key] = _("Please fill in %(field)s.") % {"field": label}
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            errors[key] = _("%(field)s must be a date.") % {"field": label}
            return None
    return value.isoformat()


def _interval(details, key, errors):
    value = details.get(key)
    if value is None or value == "":
        errors[key] = _("Please give the pre-harvest interval in days (0 if none).")
        return None
    try:
        days = int(str(value))
    except ValueError:
        errors[key] = _("The pre-harvest interval must be a whole number of days.")
        return None
    if days < 0 or days > MAX_INTERVAL_DAYS:
        errors[key] = _("The pre-harvest interval must be between 0 and %(n)s days.") % {
            "n": MAX_INTERVAL_DAYS
        }
        return None
    return days


# How far ahead a planting may expect its harvest (a durian tree bears in its 4th–5th year).
MAX_EXPECTED_YEARS = 6


def clean_details(kind: str, details: dict | None, *, lot: Lot, on: date | None = None) -> dict:
    """Validated, JSON-safe details for an event of `kind` (numbers as strings so that the
    stored JSON, and so the hash, does not depend on a database's float handling). `on`:
    the event's date (a planting's expected harvest may not come before it)."""
    details = dict(details or {})
    errors: dict[str, str] = {}
    unknown = set(details) - DETAIL_KEYS.get(kind, set()) - {"notes"}
    if unknown:
        errors["details"] = _("Unexpected details for this kind of event: %(keys)s.") % {
            "keys": ", ".join(sorted(unknown))
        }
    out: dict = {}
    notes = details.get("notes")
    if notes not in (None, ""):
        notes = str(notes).strip()
        if len(notes) > 2000:
            errors["notes"] = _("At most %(n)s characters.") % {"n": 2000}
        elif notes:
            out["notes"] = notes

    if kind == Kind.INPUT_APPLIED:
        out["product_name"] = _text(
            details, "product_name", errors, required=True, label=_("the product applied")
        )
        out["dose"] = _positive_decimal(details, "dose", errors, required=True, label=_("Dose"))
        out["unit"] = _text(details, "unit", errors) or ""
        out["applied_on"] = _date(
            details, "applied_on", errors, required=True, label=_("the date applied")
        )
        if out["applied_on"] and "applied_on" not in errors:
            try:
                safety.validate_event_date(date.fromisoformat(out["applied_on"]))
            except ValidationError as exc:
                errors["applied_on"] = exc.messages[0]
        out["pre_harvest_interval_days"] = _interval(details, "pre_harvest_interval_days", errors)
        for key in ("kind_of_input", "active_ingredient"):
            value = _text(details, key, errors)
            if value:
                out[key] = value
        banned = safety.banned_ingredient(out.get("product_name"), out.get("active_ingredient"))
        if banned is not None:
            key = "active_ingredient" if out.get("active_ingredient") else "product_name"
            errors[key] = safety.banned_message(banned)
    elif kind == Kind.HARVEST:
        out["quantity"] = _positive_decimal(
            details, "quantity", errors, required=True, label=_("Quantity harvested")
        )
        out["unit"] = _text(details, "unit", errors) or lot.unit
    elif kind == Kind.PACKING:
        output_lot = details.get("output_lot")
        if output_lot not in (None, ""):
            try:
                output_lot = int(output_lot)
            except (TypeError, ValueError):
                output_lot = None
            if (
                output_lot is None
                or not Lot.objects.filter(pk=output_lot, producer_id=lot.producer_id).exists()
            ):
                errors["output_lot"] = _("Choose one of this producer's lots.")
            else:
                out["output_lot"] = output_lot
        quantity = _positive_decimal(details, "quantity", errors, label=_("Quantity"))
        if quantity:
            out["quantity"] = quantity
            out["unit"] = _text(details, "unit", errors) or lot.unit
    elif kind == Kind.PLANTING:
        for key in ("variety", "area", "area_unit"):
            value = _text(details, key, errors)
            if value:
                out[key] = value
        out.update(_expected_harvest(details, errors, lot=lot, on=on))
    elif kind == Kind.CORRECTION:
        out["reason"] = _text(
            details, "reason", errors, required=True, label=_("the reason for the correction")
        )
    else:
        for key in sorted(DETAIL_KEYS.get(kind, ())):
            value = _text(details, key, errors)
            if value:
                out[key] = value
    if errors:
        raise ValidationError(errors)
    return out


def _expected_harvest(details, errors, *, lot, on) -> dict:
    """A planting's optional outlook: the expected harvest date (from the planting's day
    to MAX_EXPECTED_YEARS after it) and the expected yield (a quantity greater than zero,
    in the lot's unit unless another is given), which needs the date."""
    out = {}
    when = _date(details, "expected_harvest", errors, label=_("The expected harvest date"))
    if when:
        day = date.fromisoformat(when)
        start = on or timezone.localdate()
        try:
            latest = start.replace(year=start.year + MAX_EXPECTED_YEARS)
        except ValueError:  # 29 February
            latest = start.replace(year=start.year + MAX_EXPECTED_YEARS, day=28)
        if day < start:
            errors["expected_harvest"] = _(
                "The expected harvest cannot come before the planting (%(date)s)."
            ) % {"date": f"{start:%d/%m/%Y}"}
        elif day > latest:
            errors["expected_harvest"] = _(
                "Give an expected harvest date at most %(years)s years after the planting."
            ) % {"years": MAX_EXPECTED_YEARS}
        else:
            out["expected_harvest"] = when
    quantity = _positive_decimal(details, "expected_quantity", errors, label=_("Expected yield"))
    if quantity:
        if Decimal(quantity) >= Decimal(10) ** 9:
            errors["expected_quantity"] = _("Expected yield is too large.")
        elif not when and "expected_harvest" not in errors:
            errors["expected_harvest"] = _("Give the expected harvest date with the yield.")
        else:
            out["expected_quantity"] = quantity
            out["expected_unit"] = _text(details, "expected_unit", errors) or lot.unit
    return out


def offset_text(value: datetime) -> str:
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_offset(text: str) -> dt_timezone:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    return dt_timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def event_local_time(event: FarmEvent) -> datetime:
    """The event's time where it happened (its recorded offset). A time at the edge of
    the calendar (a row of year 9999 recorded before dates were bounded) stays in UTC
    rather than overflow."""
    try:
        return event.event_time.astimezone(parse_offset(event.event_timezone))
    except (ValueError, AttributeError, OverflowError):
        try:
            return timezone.localtime(event.event_time)
        except (ValueError, OverflowError):
            return event.event_time


@transaction.atomic
def record_event(
    *,
    lot: Lot,
    by,
    kind: str,
    event_time: datetime,
    details: dict | None = None,
    location: str = "",
    commune_code: int | None = None,
    corrects: FarmEvent | None = None,
    event_timezone: str | None = None,
    photos: list | None = None,
    confirm_pre_harvest: bool = False,
) -> FarmEvent:
    """Append an event to the lot's chain and return it, with sequence and hashes set.

    `photos` are images already cleaned by marketplace.core.uploads.clean_image (at most
    MAX_PHOTOS): each is stored under the SHA-256 of its bytes and the names go into the
    details as "photos", so they are covered by the event's hash like everything else.

    The lot row is locked (SELECT … FOR UPDATE) so concurrent appends get consecutive
    sequence numbers and each links to the one before. Raises ValidationError (nothing
    saved) on anything wrong: a date outside safety.validate_event_date, a banned active
    ingredient (safety.banned_ingredient), and safety.PreHarvestWarning when the event
    puts the harvest inside a pre-harvest interval and `confirm_pre_harvest` is not set;
    confirmed, the lot then waits for the operator's review (safety.mark_for_review)."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Unknown kind of event.")})
    if not isinstance(event_time, datetime) or timezone.is_naive(event_time):
        raise ValidationError({"event_time": _("Please give the date and time of the event.")})
    try:
        safety.validate_event_date(event_time)
    except ValidationError as exc:
        raise ValidationError({"event_time": exc.messages}) from None
    event_timezone = event_timezone or offset_text(timezone.localtime(event_time))
    if not TIMEZONE_OFFSET_RE.match(event_timezone):
        raise ValidationError({"event_timezone": _("Unknown time zone offset.")})
    location = (location or "").strip()
    if len(location) > MAX_TEXT:
        raise ValidationError({"location": _("At most %(n)s characters.") % {"n": MAX_TEXT}})

    # FOR NO KEY UPDATE: appends are serialised, yet an order placed meanwhile may still
    # link its line to the lot (a key share), so a breach that withdraws the lot from sale
    # (safety.mark_for_review, locking its stock record) cannot deadlock with it.
    locked = Lot.objects.select_for_update(no_key=True).get(pk=lot.pk)
    if commune_code is not None:
        from marketplace.core import geo

        if geo.commune_province(commune_code) is None:
            raise ValidationError({"commune_code": _("Unknown commune.")})

    if kind == Kind.CORRECTION:
        if corrects is None:
            raise ValidationError({"corrects": _("Choose the event this corrects.")})
        if corrects.lot_id != locked.pk:
            raise ValidationError(
                {"corrects": _("A correction must name an event of the same lot.")}
            )
        if corrects.kind == Kind.CORRECTION:
            raise ValidationError({"corrects": _("Correct the original event, not a correction.")})
        cleaned = clean_details(
            kind,
            {"reason": (details or {}).get("reason"), "notes": (details or {}).get("notes")},
            lot=locked,
        )
        # The corrected values: they replace the original's, and must be valid for its kind.
        replacement = {k: v for k, v in (details or {}).items() if k not in ("reason", "notes")}
        if replacement:
            merged = {**corrects.details, **replacement}
            merged.pop("notes", None)
            corrected = clean_details(
                corrects.kind,
                merged,
                lot=locked,
                on=timezone.localtime(corrects.event_time).date(),
            )
            cleaned.update({k: corrected[k] for k in replacement if k in corrected})
    else:
        if corrects is not None:
            raise ValidationError({"corrects": _("Only a correction may name another event.")})
        cleaned = clean_details(kind, details, lot=locked, on=timezone.localtime(event_time).date())
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(
            {"photos": _("At most %(n)s photos for one event.") % {"n": MAX_PHOTOS}}
        )
    if photos:
        cleaned["photos"] = [store_photo(photo) for photo in photos]

    before = list(FarmEvent.objects.filter(lot=locked).order_by("sequence"))
    last = before[-1] if before else None
    event = FarmEvent(
        lot=locked,
        sequence=(last.sequence + 1) if last else 1,
        kind=kind,
        event_time=event_time.replace(microsecond=0),
        event_timezone=event_timezone,
        recorded_by=by if getattr(by, "is_authenticated", False) else None,
        location=location,
        commune_code=commune_code,
        details=cleaned,
        corrects=corrects,
        previous_hash=last.hash if last else ZERO_HASH,
    )
    breached = safety.check_new_breaches(
        lot=locked, before=before, after=[*before, event], confirmed=confirm_pre_harvest
    )
    event.hash = compute_hash(event, lot=locked)
    event.save()
    if breached:
        safety.mark_for_review(lot=locked)
    harvested_on = None
    if (
        kind == Kind.HARVEST
        and not FarmEvent.objects.filter(lot=locked, kind=Kind.HARVEST)
        .exclude(pk=event.pk)
        .exists()
    ):
        harvested_on = event_local_time(event).date()  # the certificates valid that day
    transparency.record_event(lot=locked, event=event, harvested_on=harvested_on)
    caching.invalidate_lot(locked.pk)
    transaction.on_commit(lambda: caching.invalidate_lot(locked.pk))
    return event


def store_photo(photo) -> str:
    """Store a cleaned photo under the SHA-256 of its bytes (the same photo twice is one
    file) and return its name, e.g. "3f…9a.jpg"."""
    from django.core.files.storage import default_storage

    data = photo.read()
    extension = (photo.name or "").rsplit(".", 1)[-1].lower() or "jpg"
    name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
    path = f"{PHOTO_DIR}/{name}"
    if not default_storage.exists(path):
        from django.core.files.base import ContentFile

        default_storage.save(path, ContentFile(data))
    return name


def photo_url(name: str) -> str:
    from django.core.files.storage import default_storage

    return default_storage.url(f"{PHOTO_DIR}/{name}")


# --- Reads shared by the trace page and the farmer pages -------------------------------------


@dataclass
class EventRow:
    event: FarmEvent
    details: dict  # effective details: the original's, with later corrections applied
    local_time: datetime  # where it happened (its recorded offset)
    corrected_by: list  # correction events pointing at this one
    corrects_sequence: int | None = None  # for a correction: the corrected event's number

    @cached_property
    def lines(self):
        """The event's own details, as the page shows them (worked out once a row: the
        page asks whether there are any, then lists them)."""
        from .display import detail_lines

        return detail_lines(self.event.kind, self.event.details)

    @property
    def photo_urls(self) -> list[str]:
        return [photo_url(name) for name in self.event.details.get("photos") or []]


# What a correction says about itself rather than about the event it corrects.
CORRECTION_OWN_KEYS = frozenset({"reason", "notes", "photos"})


def apply_correction(details: dict, correction) -> dict:
    """`details` (of the corrected event, as corrected so far) with what `correction`
    changes: every key of its details but its own reason, notes and photos. Corrections
    apply in the order of the chain; the trace page, the EPCIS export and the harvest
    outlook read an event's details through this one rule."""
    details.update({k: v for k, v in correction.details.items() if k not in CORRECTION_OWN_KEYS})
    return details


def timeline(events) -> list[EventRow]:
    """Events in order, each with its corrections and its details as corrected (no query:
    everything comes from `events`)."""
    rows = {e.pk: EventRow(e, dict(e.details), event_local_time(e), []) for e in events}
    for event in events:
        if event.kind == Kind.CORRECTION and event.corrects_id in rows:
            target = rows[event.corrects_id]
            target.corrected_by.append(event)
            apply_correction(target.details, event)
            rows[event.pk].corrects_sequence = target.event.sequence
    return list(rows.values())


@dataclass
class PreHarvest:
    input_event: FarmEvent
    product_name: str
    applied_on: date
    interval_days: int
    safe_from: date
    harvest_event: FarmEvent | None
    harvest_date: date | None
    days: int | None
    ok: bool | None  # None: not harvested yet


def harvest_date(rows: list[EventRow]) -> date | None:
    for row in rows:
        if row.event.kind == Kind.HARVEST:
            return row.local_time.date()
    return None


def pre_harvest_status(lot: Lot, events=None, *, rows=None) -> list[PreHarvest]:
    """For every input applied to the lot: the first harvest on or after the day it was
    applied, the days between, and whether the harvest respected the pre-harvest interval
    (harvest date ≥ applied_on + interval). Uses the values as corrected. `rows`: the
    timeline of the lot's events when the caller has it."""
    if rows is None:
        if events is None:
            events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
        rows = timeline(events)
    harvests = sorted((r for r in rows if r.event.kind == Kind.HARVEST), key=lambda r: r.local_time)
    result = []
    for row in rows:
        if row.event.kind != Kind.INPUT_APPLIED:
            continue
        try:
            applied_on = date.fromisoformat(row.details["applied_on"])
            interval = int(row.details.get("pre_harvest_interval_days") or 0)
            safe_from = applied_on + timedelta(days=interval)
        except (KeyError, TypeError, ValueError, OverflowError):
            continue  # not a date, or at the edge of the calendar (9999-12-31)
        harvest = next((h for h in harvests if h.local_time.date() >= applied_on), None)
        harvested_on = harvest.local_time.date() if harvest else None
        days = (harvested_on - applied_on).days if harvest else None
        result.append(
            PreHarvest(
                input_event=row.event,
                product_name=row.details.get("product_name", ""),
                applied_on=applied_on,
                interval_days=interval,
                safe_from=safe_from,
                harvest_event=harvest.event if harvest else None,
                harvest_date=harvested_on,
                days=days,
                ok=None if harvest is None else days >= interval,
            )
        )
    return result


# --- Lots recorded before the transparency log ------------------------------------------------


@transaction.atomic
def seal_lot(*, lot: Lot) -> int:
    """Write the records of a lot recorded before the log existed, from its rows as they
    are now. Returns the number of records written (0 when the lot has records)."""
    lot = (
        Lot.objects.select_for_update()
        .select_related("product", "producer__partner")
        .get(pk=lot.pk)
    )
    if TraceRecord.objects.filter(lot_id=lot.pk).exists():
        return 0
    transparency.append(lot=lot, type=TraceRecord.Type.LOT, data=transparency.lot_data(lot))
    count = 1
    events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
    hashes = {e.pk: e.hash for e in events}
    for event in events:
        corrects_hash = hashes.get(event.corrects_id) if event.corrects_id else None
        transparency.append(
            lot=lot,
            type=TraceRecord.Type.EVENT,
            data=transparency.event_data(event, lot=lot, corrects_hash=corrects_hash),
            event=event,
        )
        count += 1
    on = harvest_date(timeline(events)) or lot.production_date
    if on is not None:
        transparency.append(
            lot=lot,
            type=TraceRecord.Type.CERTIFICATES,
            data=transparency.certificates_data(lot, on),
        )
        count += 1
    recall = Recall.objects.filter(lot_id=lot.pk).first()
    if recall is not None:
        transparency.record_recall(lot=lot, recall=recall)
        count += 1
    if lot.safety_review in (SafetyReview.CLEARED, SafetyReview.REFUSED):
        transparency.record_review(lot=lot)
        count += 1
    return count


@transaction.atomic
def seal_review(*, lot: Lot) -> int:
    """Sign the operator's safety review of a lot reviewed before reviews were recorded
    (1 record written, or 0 when it is recorded or there is no decision)."""
    lot = Lot.objects.select_for_update().get(pk=lot.pk)
    if lot.safety_review not in (SafetyReview.CLEARED, SafetyReview.REFUSED):
        return 0
    if not TraceRecord.objects.filter(lot_id=lot.pk).exists():
        return 0  # seal_lot writes it with the rest
    if TraceRecord.objects.filter(lot_id=lot.pk, type=TraceRecord.Type.REVIEW).exists():
        return 0
    transparency.record_review(lot=lot)
    return 1


def seal_unrecorded() -> int:
    total = 0
    for lot in Lot.objects.filter(records__isnull=True).order_by("pk"):
        total += seal_lot(lot=lot)
    reviewed = Lot.objects.filter(
        safety_review__in=[SafetyReview.CLEARED, SafetyReview.REFUSED]
    ).exclude(records__type=TraceRecord.Type.REVIEW)
    for lot in reviewed.order_by("pk"):
        total += seal_review(lot=lot)
    return total
