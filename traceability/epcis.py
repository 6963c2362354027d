"""EPCIS 2.0 JSON-LD export of lots, their farm events and their recall.

``lot_document(lot)`` and ``producer_document(producer)`` build an ``EPCISDocument`` (a
plain dict, ready for ``json.dumps``) that validates against GS1's EPCIS 2.0.1 JSON schema
(a copy is in ``traceability/standards/``; the tests validate every export against it
with format checking on). The number of queries does not depend on the number of lots or
events.

Identifiers do not depend on the request
----------------------------------------
Every URI the export writes that is not a GS1 one starts with the site's one configured
address, SITE_BASE_URL (``marketplace.core.links.absolute_url``), never the host name or
language of the request: the same lot exported through any host, in Vietnamese or
English, gives the same document (only ``creationDate`` differs).

Mapping (CBV 2.0)
-----------------
Values from the CBV are written as the bare terms the EPCIS 2.0 JSON-LD context defines
("shipping", "creating_class_instance", "in_transit", "recalled"), which expand to the CBV
web URIs (``https://ref.gs1.org/cbv/Disp-recalled``). Values the CBV does not have are
full URIs in our own vocabulary, ``{SITE_BASE_URL}/epcis/voc/`` (prefix ``nongsan:``,
declared in ``@context``); our event details go in extension properties of that namespace
(``nongsan:product_name``, …), as EPCIS 2.0 §7.1 allows. That address answers with the
vocabulary in JSON-LD (``vocabulary_document``), so every term of ours can be looked up.

==============  ==================  ======================================================
our event       EPCIS event         bizStep / action
==============  ==================  ======================================================
planting        ObjectEvent         OBSERVE, ``{voc}BizStep-planting``
growing_note    ObjectEvent         OBSERVE, ``{voc}BizStep-crop_monitoring``
input_applied   ObjectEvent         OBSERVE, ``{voc}BizStep-applying_inputs``
harvest         ObjectEvent         ADD, ``creating_class_instance``, quantityList = the
                                    harvested quantity, ilmd (origin, harvest date, expiry),
                                    ``certificationInfo``
processing      ObjectEvent         OBSERVE, ``{voc}BizStep-processing``
packing         TransformationEvent ``packing``: inputQuantityList = this lot,
                                    outputQuantityList = the output lot (details
                                    ``output_lot``) with the packed quantity. Packing
                                    without an output lot (packed in place) is an
                                    ObjectEvent OBSERVE ``packing``.
shipping        ObjectEvent         OBSERVE, ``shipping``, disposition ``in_transit``
receiving       ObjectEvent         OBSERVE, ``receiving``, disposition ``in_progress``
correction      see below
recall          ObjectEvent         OBSERVE, disposition ``recalled``, at the time of the
                                    recall (traceability.recalls), ``nongsan:reason``
==============  ==================  ======================================================

The CBV 2.0 has no business step for growing, spraying or drying (and none called
"harvesting": a harvest creates the lot, hence ``creating_class_instance``); CBV 2.0 §7.2
allows a private URI where no standard value fits, which is why those four are ours.

A lot is created before anything observes it
--------------------------------------------
Events before the harvest (planting, notes, inputs) already name the lot's class: it is
the crop that becomes that lot, and a consumer following one identifier sees the whole
history. So that no event observes the class before an event creates it, the lot's
earliest event (by event time, then number) is an ADD whatever its kind — the planting,
say — and the harvest is an ADD of the harvested quantity as well. A lot that packing
produced is created by that TransformationEvent (its output); its own events are
OBSERVEs unless one is earlier. ``ordering_faults(document)`` lists any event that
observes a class before its creation (the tests require none for every demo lot). If an
event dated before the lot's first one is recorded later, that new event becomes the ADD
and the former first event an OBSERVE, with a new event ID.

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
- ``eventID`` is the CBV 2.0 event hash, ``ni:///sha-256;{hex}?ver=CBV2.0``
  (traceability.epcis_hash, checked against GS1's reference implementation in the tests).
  The error declaration leaves it out, so a re-issued event keeps its ID. Our own chain
  hash (our canonical form plus the previous event's hash, traceability.models) is given
  as ``nongsan:chainHash``, with the event's number in the chain as ``nongsan:sequence``.
- Lots are classes: the LGTIN ``https://id.gs1.org/01/{GTIN-14}/10/{LOT}`` when the product
  has a GTIN (``gs1.product_gtin``), else the lot's short link ``{SITE_BASE_URL}/t/{CODE}/``.
- ``readPoint`` is the lot's GPS point as a ``geo:`` URI (RFC 5870) when known, else the
  commune, ``{SITE_BASE_URL}/dia-diem/xa/{code}/`` (it answers with the commune and its
  province in JSON-LD, ``commune_document``). ``bizLocation`` is the producer: its
  GLN as a GS1 Digital Link (``https://id.gs1.org/414/{GLN}``) when it has one, else
  ``{SITE_BASE_URL}/dia-diem/nha-san-xuat/{id}/``, which redirects to the producer's
  page. It is omitted after shipping: the goods are in transit.
- ``certificationInfo`` (on harvest events) lists the public pages
  (``/chung-nhan/{id}/``) of the producer's certificates that were verified, valid on the
  harvest day and covering the product — the ones the trace page shows.
- Quantities carry a UN/ECE Rec 20 ``uom`` when the unit is a measure (``rec20_quantity``):
  kg KGM, g GRM, tấn TNE, l LTR, ml MLT, and the Vietnamese units converted: tạ = 100 kg,
  yến = 10 kg (KGM), lạng = 100 g (GRM). Counted units (gói, hộp, tá, …) have none, which
  EPCIS reads as a count. The quantity and unit as written are kept in ``nongsan:quantity``
  and ``nongsan:unit``.

Corrections of a packing event made in an input lot are applied in that lot's export; a
lot that packing produced also shows that TransformationEvent (as first recorded) in its
own export, so the link from input to output lot is visible from both sides, with one
eventID.
"""

import copy
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from marketplace.core import geo
from marketplace.core.links import absolute_url
from marketplace.models import Certificate

from .epcis_hash import event_hash
from .gs1 import product_gtin
from .models import FarmEvent, Lot, Recall, utc_iso
from .services import DETAIL_KEYS, apply_correction, event_local_time, offset_text

Kind = FarmEvent.Kind

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CBVMDA = "urn:epcglobal:cbv:mda:"  # as the EPCIS context defines it, for the event hash
PREFIX = "nongsan"
VOCABULARY_PATH = "/epcis/voc/"
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
RECALLED = "recalled"
# A unit as farmers write it (its first word, lower case) → (UN/ECE Recommendation 20
# code, how many of that code one unit is). Marks matter: "tạ" is 100 kg, "tá" a dozen.
UNITS = {
    "kg": ("KGM", 1),
    "kí": ("KGM", 1),
    "ký": ("KGM", 1),
    "ki": ("KGM", 1),
    "ky": ("KGM", 1),
    "kilogram": ("KGM", 1),
    "g": ("GRM", 1),
    "gam": ("GRM", 1),
    "gram": ("GRM", 1),
    "lạng": ("GRM", 100),
    "lang": ("GRM", 100),
    "yến": ("KGM", 10),
    "yen": ("KGM", 10),
    "tạ": ("KGM", 100),
    "tấn": ("TNE", 1),
    "tan": ("TNE", 1),
    "l": ("LTR", 1),
    "lít": ("LTR", 1),
    "lit": ("LTR", 1),
    "ml": ("MLT", 1),
}


def vocabulary() -> str:
    """Our namespace for extension properties and private CBV-like values."""
    return absolute_url(VOCABULARY_PATH)


def context() -> dict[str, str]:
    """The document's own @context entries (prefix → namespace)."""
    return {PREFIX: vocabulary(), "cbvmda": CBVMDA}


def ext(name: str) -> str:
    """An extension property in our namespace, as a compact IRI."""
    return f"{PREFIX}:{name}"


def biz_step(kind: str) -> str:
    if kind in CBV_BIZ_STEPS:
        return CBV_BIZ_STEPS[kind]
    return f"{vocabulary()}BizStep-{OWN_BIZ_STEPS.get(kind, kind)}"


def lot_class(lot: Lot) -> str:
    """The lot as an EPC class: LGTIN when the product has a GTIN, else its short link."""
    gtin = product_gtin(lot.product)
    if gtin:
        return f"https://id.gs1.org/01/{gtin}/10/{quote(lot.code, safe='')}"
    return absolute_url(f"/t/{lot.short_code}/")


def producer_location(producer) -> str:
    """Where a producer is: its GLN as a GS1 Digital Link, else a URI of ours."""
    if getattr(producer, "gln", ""):
        return f"https://id.gs1.org/414/{producer.gln}"
    with translation.override(settings.LANGUAGE_CODE):
        return absolute_url(reverse("traceability:producer-location", kwargs={"pk": producer.pk}))


def commune_location(code) -> str:
    return absolute_url(f"/dia-diem/xa/{code}/")


RDFS = "http://www.w3.org/2000/01/rdf-schema#"
# Our private business steps: (English, Vietnamese, what it is).
OWN_TERMS = {
    "planting": ("Planting", "Gieo trồng", "The crop that becomes the lot is planted or sown."),
    "crop_monitoring": ("Crop monitoring", "Theo dõi cây trồng", "A note on the growing crop."),
    "applying_inputs": (
        "Applying inputs",
        "Bón phân, phun thuốc",
        "A fertiliser or plant-protection product is applied (details: product_name, dose, "
        "unit, applied_on, pre_harvest_interval_days, kind_of_input).",
    ),
    "processing": ("Processing", "Sơ chế, chế biến", "Drying, roasting, sorting, milling…"),
}
OWN_PROPERTIES = {
    "lot": "The lot code as printed on the label.",
    "sequence": "The event's number in the lot's append-only chain.",
    "chainHash": "SHA-256 of the event in the lot's chain (hex), as the trace page verifies it.",
    "place": "Where it happened, as the producer wrote it.",
    "outputLot": "The lot packing produced (its EPC class).",
    "corrects": "The eventID of the event a corrective event corrects.",
    "correctionNotes": "Notes given with the correction.",
    "reason": "Why the event was corrected, or the lot recalled.",
}


def vocabulary_document() -> dict:
    """Our vocabulary (``{SITE_BASE_URL}/epcis/voc/``) as JSON-LD: the private business
    steps and the extension properties the export uses, so a URI of ours can be looked up."""
    base = vocabulary()
    graph = []
    for step in OWN_BIZ_STEPS.values():
        english, vietnamese, comment = OWN_TERMS[step]
        graph.append(
            {
                "@id": f"{base}BizStep-{step}",
                "@type": "https://ref.gs1.org/cbv/BizStep",
                "rdfs:label": [
                    {"@value": english, "@language": "en"},
                    {"@value": vietnamese, "@language": "vi"},
                ],
                "rdfs:comment": comment,
            }
        )
    details = sorted(set().union(*DETAIL_KEYS.values(), {"notes", "photos"}) - {"output_lot"})
    properties = {**dict.fromkeys(details, "A detail of the farm event."), **OWN_PROPERTIES}
    for name, comment in sorted(properties.items()):
        graph.append(
            {
                "@id": f"{base}{name}",
                "@type": "rdf:Property",
                "rdfs:label": name,
                "rdfs:comment": comment,
            }
        )
    return {
        "@context": {"rdfs": RDFS, "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
        "@id": base,
        "@graph": graph,
    }


def commune_document(code: int) -> dict | None:
    """What a commune location URI (``commune_location``) names, as JSON-LD; None for a
    code that is not a Vietnamese commune or ward."""
    name = geo.commune_name(code)
    if not name:
        return None
    return {
        "@context": "https://schema.org/",
        "@id": commune_location(code),
        "@type": "AdministrativeArea",
        "name": name,
        "identifier": str(code),
        "containedInPlace": {
            "@type": "AdministrativeArea",
            "name": geo.province_name(geo.commune_province(code)),
            "containedInPlace": {"@type": "Country", "name": "Việt Nam", "identifier": "VN"},
        },
    }


def _number(value):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def rec20_quantity(quantity, unit: str):
    """(quantity, UN/ECE Rec 20 code) of a quantity in a unit as written: "3", "tạ" →
    (300, "KGM"); "2", "lạng" → (200, "GRM"); a counted unit ("hộp") keeps its number
    with no code (None). (None, None) when the quantity is not a number."""
    try:
        number = Decimal(str(quantity).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None, None
    if not number.is_finite():
        return None, None
    words = unicodedata.normalize("NFC", str(unit or "")).strip().lower().split()
    first = words[0].split("/")[0] if words else ""
    code, factor = UNITS.get(first, (None, 1))
    return _number(number * factor), code


def quantity_element(epc_class: str, quantity=None, unit: str = "") -> dict:
    element = {"epcClass": epc_class}
    if quantity not in (None, ""):
        number, uom = rec20_quantity(quantity, unit)
        if number is not None:
            element["quantity"] = number
            if uom:
                element["uom"] = uom
    return element


def _read_point(lot: Lot, event: FarmEvent | None) -> str:
    if lot.latitude is not None and lot.longitude is not None:
        return f"geo:{lot.latitude.normalize():f},{lot.longitude.normalize():f}"
    return commune_location((event and event.commune_code) or lot.commune_code)


def _recall_of(lot: Lot):
    try:
        return lot.recall
    except Recall.DoesNotExist:
        return None


class _Exporter:
    """Builds events for lots whose rows are already loaded (no query in here)."""

    def __init__(self, *, lots_by_pk, certificates):
        self.lots_by_pk = lots_by_pk
        self.certificates = certificates  # verified certificates, products prefetched
        self.context = context()

    def identify(self, event: dict) -> dict:
        """Set the event's eventID to its CBV 2.0 event hash."""
        event["eventID"] = event_hash(event, self.context)
        return event

    def certification_info(self, lot: Lot, day: date) -> list[str]:
        urls = []
        for cert in self.certificates:
            if cert.producer_id != lot.producer_id:
                continue
            if not cert.shows_badge(on=day, product=lot.product_id):
                continue
            urls.append(absolute_url(reverse("certificates:detail", kwargs={"pk": cert.pk})))
        return urls

    def build(
        self, lot: Lot, event: FarmEvent, details: dict, kind: str | None = None, creates=False
    ) -> dict:
        """One EPCIS event for `event` of `lot`, with `details` (the effective ones).
        `creates`: the event is the one that creates the lot's class (an ADD)."""
        kind = kind or event.kind
        this_class = lot_class(lot)
        out: dict = {}
        if kind == Kind.PACKING and details.get("output_lot") in self.lots_by_pk:
            output = self.lots_by_pk[details["output_lot"]]
            out["type"] = "TransformationEvent"
            out.update(self._common(event))
            out["inputQuantityList"] = [quantity_element(this_class)]
            out["outputQuantityList"] = [
                quantity_element(
                    lot_class(output), details.get("quantity"), details.get("unit", "")
                )
            ]
        else:
            out["type"] = "ObjectEvent"
            out.update(self._common(event))
            out["action"] = "ADD" if kind == Kind.HARVEST or creates else "OBSERVE"
            quantity = details.get("quantity") if kind in (Kind.HARVEST, Kind.PACKING) else None
            out["quantityList"] = [quantity_element(this_class, quantity, details.get("unit", ""))]
        out["bizStep"] = biz_step(kind)
        if kind in DISPOSITIONS:
            out["disposition"] = DISPOSITIONS[kind]
        out["readPoint"] = {"id": _read_point(lot, event)}
        if kind != Kind.SHIPPING:
            out["bizLocation"] = {"id": producer_location(lot.producer)}
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
        out[ext("lot")] = lot.code
        out[ext("sequence")] = event.sequence
        out[ext("chainHash")] = event.hash
        if event.location:
            out[ext("place")] = event.location
        for key, value in sorted(details.items()):
            if key == "output_lot":
                output = self.lots_by_pk.get(value)
                if output is not None:
                    out[ext("outputLot")] = lot_class(output)
                continue
            out[ext(key)] = value
        return self.identify(out)

    def _common(self, event: FarmEvent) -> dict:
        return {
            "eventTime": utc_iso(event.event_time),
            "eventTimeZoneOffset": event.event_timezone,
            "recordTime": utc_iso(event.recorded_at),
            "eventID": "",  # event_hash, set last (identify)
        }

    def recall(self, lot: Lot, recall: Recall) -> dict:
        """The recall of `lot` as an event: the lot's class, disposition recalled."""
        out = {
            "type": "ObjectEvent",
            "eventTime": utc_iso(recall.recalled_at),
            "eventTimeZoneOffset": offset_text(timezone.localtime(recall.recalled_at)),
            "recordTime": utc_iso(recall.recalled_at),
            "eventID": "",
            "action": "OBSERVE",
            "quantityList": [quantity_element(lot_class(lot))],
            "disposition": RECALLED,
            ext("lot"): lot.code,
            ext("reason"): recall.reason,
        }
        return self.identify(out)

    def lot_events(
        self,
        lot: Lot,
        events: list[FarmEvent],
        *,
        created_at: datetime | None = None,
        recall: Recall | None = None,
    ) -> list[dict]:
        """The lot's events in chain order, corrections as error declarations plus
        corrective events (module docstring), then its recall. `created_at`: when a
        TransformationEvent produced the lot (it creates the class then)."""
        result = []
        in_force: dict[int, dict] = {}  # original event pk → the version now in force
        original_ids: dict[int, str] = {}
        details_now: dict[int, dict] = {}
        by_pk = {e.pk: e for e in events}
        creator = self._creator(events, created_at)
        for event in events:
            if event.kind != Kind.CORRECTION:
                built = self.build(lot, event, dict(event.details), creates=event is creator)
                in_force[event.pk] = built
                original_ids[event.pk] = built["eventID"]
                details_now[event.pk] = dict(event.details)
                result.append(built)
                continue
            target = by_pk.get(event.corrects_id)
            if target is None or target.pk not in in_force:
                continue  # a correction must point inside its own lot (verify_chain flags it)
            corrected = apply_correction({**details_now[target.pk]}, event)
            corrective = self.build(lot, target, corrected, creates=target is creator)
            corrective["recordTime"] = utc_iso(event.recorded_at)
            corrective[ext("sequence")] = event.sequence
            corrective[ext("chainHash")] = event.hash
            corrective[ext("corrects")] = original_ids[target.pk]
            if event.details.get("notes"):
                corrective[ext("correctionNotes")] = event.details["notes"]
            self.identify(corrective)
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
        if recall is not None:
            result.append(self.recall(lot, recall))
        return result

    def _creator(self, events, created_at) -> FarmEvent | None:
        """The lot's earliest event that is an ObjectEvent, unless a TransformationEvent
        created the lot before it (module docstring)."""
        candidates = [
            e
            for e in events
            if e.kind != Kind.CORRECTION
            and not (e.kind == Kind.PACKING and e.details.get("output_lot") in self.lots_by_pk)
        ]
        if not candidates:
            return None
        first = min(candidates, key=lambda e: (e.event_time, e.sequence))
        if created_at is not None and first.event_time >= created_at:
            return None
        return first


def document(event_list: list[dict]) -> dict:
    return {
        "@context": [EPCIS_CONTEXT, context()],
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


def lot_document(lot: Lot) -> dict:
    """The EPCIS document of one lot: its own events, the packing events of other lots
    that produced it, and its recall. `lot` should come with product and producer
    (select_related). At most five queries, whatever the number of events."""
    rows = list(
        FarmEvent.objects.filter(
            Q(lot_id=lot.pk) | Q(kind=Kind.PACKING, details__output_lot=lot.pk)
        )
        .select_related("lot__product", "lot__producer")
        .order_by("event_time", "pk")
    )
    events = sorted((e for e in rows if e.lot_id == lot.pk), key=lambda e: e.sequence)
    incoming = [e for e in rows if e.lot_id != lot.pk]
    lots_by_pk = _output_lots(events)
    lots_by_pk[lot.pk] = lot
    recall = Recall.objects.filter(lot_id=lot.pk).first()
    with translation.override(settings.LANGUAGE_CODE):
        exporter = _Exporter(lots_by_pk=lots_by_pk, certificates=_certificates([lot.producer_id]))
        event_list = [exporter.build(e.lot, e, dict(e.details)) for e in incoming]
        created_at = incoming[0].event_time if incoming else None
        event_list += exporter.lot_events(lot, events, created_at=created_at, recall=recall)
        return document(event_list)


def producer_document(producer) -> dict:
    """The EPCIS document of all lots of a producer, oldest lot first. Four queries,
    whatever the number of lots and events."""
    lots = list(
        Lot.objects.filter(producer=producer)
        .select_related("product", "producer", "recall")
        .order_by("created_at", "pk")
    )
    events = list(FarmEvent.objects.filter(lot__producer=producer).order_by("lot_id", "sequence"))
    # Packing may only name the producer's own lots (services.clean_details): all loaded.
    lots_by_pk = {lot.pk: lot for lot in lots}
    per_lot: dict[int, list] = {}
    created_at: dict[int, datetime] = {}
    for event in events:
        per_lot.setdefault(event.lot_id, []).append(event)
        output = event.details.get("output_lot") if event.kind == Kind.PACKING else None
        if output in lots_by_pk and output != event.lot_id:
            created_at[output] = min(created_at.get(output, event.event_time), event.event_time)
    with translation.override(settings.LANGUAGE_CODE):
        exporter = _Exporter(lots_by_pk=lots_by_pk, certificates=_certificates([producer.pk]))
        event_list = []
        for lot in lots:
            event_list += exporter.lot_events(
                lot,
                per_lot.get(lot.pk, []),
                created_at=created_at.get(lot.pk),
                recall=_recall_of(lot),
            )
        return document(event_list)


def _classes(quantities) -> list[str]:
    return [q["epcClass"] for q in quantities or [] if "epcClass" in q]


def ordering_faults(document: dict) -> list[str]:
    """Events of `document` that name a lot class before the event that creates it (an
    ObjectEvent ADD, or a TransformationEvent's output), in event time order; an ADD and
    an OBSERVE at the same instant count as in order. A class that is only the input of a
    TransformationEvent (the input lots in the export of the lot they were packed into)
    needs no creation in the document. Empty when the export is in order."""
    events = document["epcisBody"]["eventList"]

    def creates(event) -> list[str]:
        if event["type"] == "TransformationEvent":
            return _classes(event.get("outputQuantityList"))
        if event.get("action") == "ADD":
            return _classes(event.get("quantityList"))
        return []

    def uses(event) -> list[str]:
        if event["type"] == "TransformationEvent":
            return [c for c in _classes(event.get("inputQuantityList")) if c in made_here]
        if event.get("action") in ("OBSERVE", "DELETE"):
            return _classes(event.get("quantityList"))
        return []

    def when(event) -> datetime:
        return datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))

    made_here = {c for event in events for c in creates(event)}
    timeline = sorted(
        range(len(events)), key=lambda i: (when(events[i]), not creates(events[i]), i)
    )
    created: set[str] = set()
    faults = []
    for i in timeline:
        event = events[i]
        for epc_class in uses(event):
            if epc_class not in created:
                faults.append(f"{event['eventTime']} {event.get('bizStep', '')} {epc_class}")
        created.update(creates(event))
    return faults
