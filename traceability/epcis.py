"""EPCIS 2.0 JSON-LD export of lots and their farm events.

``lot_document(lot, base_url=…)`` and ``producer_document(producer, base_url=…)`` build an
``EPCISDocument`` (a plain dict, ready for ``json.dumps``) that validates against GS1's
EPCIS 2.0.1 JSON schema (a copy is in ``traceability/standards/``; the tests validate every
export against it with format checking on). The number of queries does not depend on the
number of lots or events.

Mapping (CBV 2.0)
-----------------
Values from the CBV are written as the bare terms the EPCIS 2.0 JSON-LD context defines
("shipping", "creating_class_instance", "in_transit"); values the CBV does not have are full
URIs in our own namespace ``urn:nongsan:epcis:`` (prefix ``nongsan:``, declared in
``@context``). Our event details go in extension properties of that namespace
(``nongsan:kind``, ``nongsan:product_name``, …), as EPCIS 2.0 §7.1 allows.

==============  ==================  ======================================================
our event       EPCIS event         bizStep / action
==============  ==================  ======================================================
planting        ObjectEvent         OBSERVE, ``urn:nongsan:epcis:BizStep-planting``
growing_note    ObjectEvent         OBSERVE, ``urn:nongsan:epcis:BizStep-crop_monitoring``
input_applied   ObjectEvent         OBSERVE, ``urn:nongsan:epcis:BizStep-applying_inputs``
harvest         ObjectEvent         ADD, ``creating_class_instance``, quantityList = the
                                    harvested quantity, ilmd (origin, harvest date, expiry),
                                    ``certificationInfo``
processing      ObjectEvent         OBSERVE, ``urn:nongsan:epcis:BizStep-processing``
packing         TransformationEvent ``packing``: inputQuantityList = this lot,
                                    outputQuantityList = the output lot (details
                                    ``output_lot``) with the packed quantity. Packing
                                    without an output lot (packed in place) is an
                                    ObjectEvent OBSERVE ``packing``.
shipping        ObjectEvent         OBSERVE, ``shipping``, disposition ``in_transit``
receiving       ObjectEvent         OBSERVE, ``receiving``, disposition ``in_progress``
correction      see below
==============  ==================  ======================================================

The CBV 2.0 has no business step for growing, spraying or drying (and none called
"harvesting": a harvest creates the lot, hence ``creating_class_instance``); CBV 2.0 §7.2
allows a private URI where no standard value fits, which is why those four are ours.

Corrections
-----------
Our events are append-only: a correction event points at the event it corrects. EPCIS 2.0
(§7.4.1.2, "error declaration") handles this the same way, and the export follows it:

1. the original event, exactly as first issued (its eventID, its data);
2. at the correction's place in the chain, an *error declaration*: the event being
   corrected re-issued unchanged (same eventID, same content) plus
   ``errorDeclaration = {declarationTime, reason: "incorrect_data",
   correctiveEventIDs: [the corrective event], nongsan:reason}``;
3. the *corrective event*: the original event with the corrected details (same kind,
   same eventTime — it describes the same happening), its own eventID, its recordTime the
   correction's, and ``nongsan:corrects`` naming the original's eventID.

A second correction of the same event declares the error on the first corrective event
(the version then in force), so a consumer always sees one chain original → corrected →
corrected again, the values accumulating as on our trace page.

Identifiers
-----------
- Lots are classes: the LGTIN ``https://id.gs1.org/01/{GTIN-14}/10/{LOT}`` when the product
  has a GTIN (``gs1.product_gtin``), else the lot's short link on this site
  (``https://HOST/t/{CODE}/``), a URI of ours (the schema asks only for a URI).
- ``eventID`` is ``urn:uuid:…`` made from the first 128 bits of the event's stored chain
  hash (UUID version 8), and the full chain hash is given as ``nongsan:chainHash``. We do
  not write ``ni:///sha-256;…?ver=CBV2.0``: that form promises the CBV 2.0 event hash
  algorithm, and our chain hash (our canonical form plus the previous event's hash,
  traceability.models) is a different digest, so a consumer recomputing it would see a
  mismatch.
- ``readPoint`` is the lot's GPS point as a ``geo:`` URI when known, else
  ``urn:nongsan:commune:{code}``; ``bizLocation`` is the producer,
  ``urn:nongsan:producer:{id}`` (omitted after shipping: the goods are in transit).
- ``certificationInfo`` (on harvest events) lists the public pages
  (``/chung-nhan/{id}/``) of the producer's certificates that were verified, valid on the
  harvest day and covering the product — the ones the trace page shows.
- Quantities carry a UN/ECE Rec 20 ``uom`` (KGM, GRM, TNE, LTR, MLT) when the unit is a
  measure; counted units (gói, hộp, …) have none, which EPCIS reads as a count. The unit as
  written is kept in ``nongsan:unit``.

Events before the harvest (planting, notes, inputs) already name the lot's class: it is
the crop that becomes that lot, and a consumer following one identifier sees the whole
history. The class is "created" (ADD, creating_class_instance) by the harvest.

Corrections of a packing event made in an input lot are applied in that lot's export; a
lot that packing produced also shows that TransformationEvent (as first recorded) in its
own export, so the link from input to output lot is visible from both sides.
"""

import copy
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone

from marketplace.models import Certificate

from .gs1 import product_gtin
from .models import FarmEvent, Lot, utc_iso
from .services import event_local_time

Kind = FarmEvent.Kind

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "urn:nongsan:epcis:"
PREFIX = "nongsan"
SCHEMA_VERSION = "2.0"

OWN_BIZ_STEPS = {
    Kind.PLANTING: "planting",
    Kind.GROWING_NOTE: "crop_monitoring",
    Kind.INPUT_APPLIED: "applying_inputs",
    Kind.PROCESSING: "processing",
}
CBV_BIZ_STEPS = {
    Kind.HARVEST: "creating_class_instance",
    Kind.PACKING: "packing",
    Kind.SHIPPING: "shipping",
    Kind.RECEIVING: "receiving",
}
DISPOSITIONS = {
    Kind.HARVEST: "active",
    Kind.SHIPPING: "in_transit",
    Kind.RECEIVING: "in_progress",
}
# First word of a unit as farmers write it → UN/ECE Recommendation 20 code.
UOM = {
    "kg": "KGM",
    "kí": "KGM",
    "ký": "KGM",
    "g": "GRM",
    "gam": "GRM",
    "gram": "GRM",
    "tấn": "TNE",
    "tan": "TNE",
    "l": "LTR",
    "lít": "LTR",
    "lit": "LTR",
    "ml": "MLT",
}


def ext(name: str) -> str:
    """An extension property (or value) in our namespace, as a compact IRI."""
    return f"{PREFIX}:{name}"


def biz_step(kind: str) -> str:
    if kind in CBV_BIZ_STEPS:
        return CBV_BIZ_STEPS[kind]
    return f"{NAMESPACE}BizStep-{OWN_BIZ_STEPS.get(kind, kind)}"


def event_id(chain_hash: str) -> str:
    """urn:uuid (version 8, RFC 9562) from the first 128 bits of the chain hash."""
    raw = bytearray(bytes.fromhex(chain_hash)[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant
    return uuid.UUID(bytes=bytes(raw)).urn


def lot_class(lot: Lot, base_url: str) -> str:
    """The lot as an EPC class: LGTIN when the product has a GTIN, else its short link."""
    gtin = product_gtin(lot.product)
    if gtin:
        return f"https://id.gs1.org/01/{gtin}/10/{quote(lot.code, safe='')}"
    return f"{base_url}/t/{lot.short_code}/"


def _number(value):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def uom_for(unit: str) -> str | None:
    words = (unit or "").strip().lower().split()
    if not words:
        return None
    first = words[0].split("/")[0]
    return UOM.get(first)


def quantity_element(epc_class: str, quantity=None, unit: str = "") -> dict:
    element = {"epcClass": epc_class}
    number = _number(quantity) if quantity not in (None, "") else None
    if number is not None:
        element["quantity"] = number
        uom = uom_for(unit)
        if uom:
            element["uom"] = uom
    return element


def _location_ids(lot: Lot, event: FarmEvent) -> tuple[str, str]:
    if lot.latitude is not None and lot.longitude is not None:
        read_point = f"geo:{lot.latitude.normalize():f},{lot.longitude.normalize():f}"
    else:
        read_point = f"urn:nongsan:commune:{event.commune_code or lot.commune_code}"
    return read_point, f"urn:nongsan:producer:{lot.producer_id}"


class _Exporter:
    """Builds events for lots whose rows are already loaded (no query in here)."""

    def __init__(self, *, base_url, lots_by_pk, certificates):
        self.base_url = base_url.rstrip("/")
        self.lots_by_pk = lots_by_pk
        self.certificates = certificates  # verified certificates, products prefetched

    def certification_info(self, lot: Lot, day: date) -> list[str]:
        urls = []
        for cert in self.certificates:
            if cert.producer_id != lot.producer_id:
                continue
            if not cert.shows_badge(on=day, product=lot.product_id):
                continue
            path = reverse("certificates:detail", kwargs={"pk": cert.pk})
            urls.append(f"{self.base_url}{path}")
        return urls

    def build(self, lot: Lot, event: FarmEvent, details: dict, kind: str | None = None) -> dict:
        """One EPCIS event for `event` of `lot`, with `details` (the effective ones)."""
        kind = kind or event.kind
        this_class = lot_class(lot, self.base_url)
        read_point, biz_location = _location_ids(lot, event)
        out: dict = {}
        if kind == Kind.PACKING and details.get("output_lot") in self.lots_by_pk:
            output = self.lots_by_pk[details["output_lot"]]
            out["type"] = "TransformationEvent"
            out.update(self._common(event))
            out["inputQuantityList"] = [quantity_element(this_class)]
            out["outputQuantityList"] = [
                quantity_element(
                    lot_class(output, self.base_url),
                    details.get("quantity"),
                    details.get("unit", ""),
                )
            ]
        else:
            out["type"] = "ObjectEvent"
            out.update(self._common(event))
            out["action"] = "ADD" if kind == Kind.HARVEST else "OBSERVE"
            quantity = details.get("quantity") if kind in (Kind.HARVEST, Kind.PACKING) else None
            out["quantityList"] = [quantity_element(this_class, quantity, details.get("unit", ""))]
        out["bizStep"] = biz_step(kind)
        if kind in DISPOSITIONS:
            out["disposition"] = DISPOSITIONS[kind]
        out["readPoint"] = {"id": read_point}
        if kind != Kind.SHIPPING:
            out["bizLocation"] = {"id": biz_location}
        if kind == Kind.HARVEST:
            harvested_on = event_local_time(event).date()
            ilmd = {
                "cbvmda:countryOfOrigin": "VN",
                "cbvmda:harvestStartDate": harvested_on.isoformat(),
            }
            if lot.expiry_date:
                ilmd["cbvmda:itemExpirationDate"] = lot.expiry_date.isoformat()
            out["ilmd"] = ilmd
            certificates = self.certification_info(lot, harvested_on)
            if certificates:
                out["certificationInfo"] = certificates
        out[ext("kind")] = kind
        out[ext("lot")] = lot.code
        out[ext("sequence")] = event.sequence
        out[ext("chainHash")] = event.hash
        if event.location:
            out[ext("place")] = event.location
        for key, value in sorted(details.items()):
            if key == "output_lot":
                output = self.lots_by_pk.get(value)
                if output is not None:
                    out[ext("outputLot")] = lot_class(output, self.base_url)
                continue
            out[ext(key)] = value
        return out

    def _common(self, event: FarmEvent) -> dict:
        return {
            "eventTime": utc_iso(event.event_time),
            "eventTimeZoneOffset": event.event_timezone,
            "recordTime": utc_iso(event.recorded_at),
            "eventID": event_id(event.hash),
        }

    def lot_events(self, lot: Lot, events: list[FarmEvent]) -> list[dict]:
        """The lot's events in chain order, corrections as error declarations plus
        corrective events (module docstring)."""
        result = []
        in_force: dict[int, dict] = {}  # original event pk → the version now in force
        details_now: dict[int, dict] = {}
        by_pk = {e.pk: e for e in events}
        for event in events:
            if event.kind != Kind.CORRECTION:
                built = self.build(lot, event, dict(event.details))
                in_force[event.pk] = built
                details_now[event.pk] = dict(event.details)
                result.append(built)
                continue
            target = by_pk.get(event.corrects_id)
            if target is None or target.pk not in in_force:
                continue  # a correction must point inside its own lot (verify_chain flags it)
            corrected = {**details_now[target.pk]}
            corrected.update(
                {k: v for k, v in event.details.items() if k not in ("reason", "notes", "photos")}
            )
            corrective = self.build(lot, target, corrected)
            corrective["recordTime"] = utc_iso(event.recorded_at)
            corrective["eventID"] = event_id(event.hash)
            corrective[ext("sequence")] = event.sequence
            corrective[ext("chainHash")] = event.hash
            corrective[ext("corrects")] = event_id(target.hash)
            if event.details.get("notes"):
                corrective[ext("correctionNotes")] = event.details["notes"]
            declaration = copy.deepcopy(in_force[target.pk])
            declaration["errorDeclaration"] = {
                "declarationTime": utc_iso(event.event_time),
                "reason": "incorrect_data",
                "correctiveEventIDs": [corrective["eventID"]],
                ext("reason"): event.details.get("reason", ""),
            }
            result.append(declaration)
            result.append(corrective)
            in_force[target.pk] = corrective
            details_now[target.pk] = corrected
        return result


def document(event_list: list[dict]) -> dict:
    return {
        "@context": [EPCIS_CONTEXT, {PREFIX: NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": utc_iso(timezone.now().replace(microsecond=0)),
        "epcisBody": {"eventList": event_list},
    }


def _certificates(producer_ids) -> list:
    return list(
        Certificate.objects.filter(producer_id__in=producer_ids, status=Certificate.Status.VERIFIED)
        .prefetch_related("products")
        .order_by("kind", "pk")
    )


def _output_lots(events) -> dict:
    ids = {
        e.details.get("output_lot")
        for e in events
        if e.kind in (Kind.PACKING, Kind.CORRECTION) and isinstance(e.details, dict)
    }
    ids.discard(None)
    if not ids:
        return {}
    return {lot.pk: lot for lot in Lot.objects.filter(pk__in=ids).select_related("product")}


def lot_document(lot: Lot, *, base_url: str) -> dict:
    """The EPCIS document of one lot: its own events, and the packing events of other lots
    that produced it. `lot` should come with product (select_related). At most five
    queries, whatever the number of events."""
    events = list(FarmEvent.objects.filter(lot_id=lot.pk).order_by("sequence"))
    incoming = list(
        FarmEvent.objects.filter(kind=Kind.PACKING, details__output_lot=lot.pk)
        .exclude(lot_id=lot.pk)
        .select_related("lot__product")
        .order_by("event_time", "pk")
    )
    lots_by_pk = _output_lots(events)
    lots_by_pk[lot.pk] = lot
    exporter = _Exporter(
        base_url=base_url, lots_by_pk=lots_by_pk, certificates=_certificates([lot.producer_id])
    )
    event_list = [exporter.build(e.lot, e, dict(e.details)) for e in incoming]
    event_list += exporter.lot_events(lot, events)
    return document(event_list)


def producer_document(producer, *, base_url: str) -> dict:
    """The EPCIS document of all lots of a producer, oldest lot first. Five queries at
    most, whatever the number of lots and events (four)."""
    lots = list(
        Lot.objects.filter(producer=producer).select_related("product").order_by("created_at", "pk")
    )
    events = list(FarmEvent.objects.filter(lot__producer=producer).order_by("lot_id", "sequence"))
    # Packing may only name the producer's own lots (services.clean_details): all loaded.
    lots_by_pk = {lot.pk: lot for lot in lots}
    exporter = _Exporter(
        base_url=base_url, lots_by_pk=lots_by_pk, certificates=_certificates([producer.pk])
    )
    per_lot: dict[int, list] = {}
    for event in events:
        per_lot.setdefault(event.lot_id, []).append(event)
    event_list = []
    for lot in lots:
        event_list += exporter.lot_events(lot, per_lot.get(lot.pk, []))
    return document(event_list)
