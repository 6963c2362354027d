"""EPCIS 2.0 JSON-LD export: every kind of farm event and the recall, validated against GS1's
schema with format checking on; event IDs equal to GS1's reference CBV 2.0 event hash;
identifiers from SITE_BASE_URL whatever the request; no lot observed before it is created;
corrections as error declarations; who may download; query budget."""

import copy
import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from epcis_event_hash_generator import file_document_loader, hash_generator, json_to_py
from oscar.core.loading import get_model
from pyld import jsonld

from marketplace.models import Certificate, ProducerProfile
from traceability import epcis, qr
from traceability.demo_epcis import BULK_LOT, PACKED_LOT
from traceability.models import FarmEvent, Lot
from traceability.recalls import recall_lot
from traceability.services import create_lot, record_event

from .conftest import ASSOCIATION, BUYER, FARMER, GTIN13, OPERATOR, POST_OFFICE, sign_in

Product = get_model("catalogue", "Product")
K = FarmEvent.Kind
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning"),
]

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2]
    / "traceability"
    / "standards"
    / "epcis-json-schema-2.0.1.json"
)
G14 = "0" + GTIN13
BASE = "https://nongsan.example"  # SITE_BASE_URL; requests come to other hosts
VOC = f"{BASE}/epcis/voc/"
KIND_OF_BIZ_STEP = {
    f"{VOC}BizStep-planting": K.PLANTING,
    f"{VOC}BizStep-crop_monitoring": K.GROWING_NOTE,
    f"{VOC}BizStep-applying_inputs": K.INPUT_APPLIED,
    "creating_class_instance": K.HARVEST,
    f"{VOC}BizStep-processing": K.PROCESSING,
    "packing": K.PACKING,
    "shipping": K.SHIPPING,
    "receiving": K.RECEIVING,
}
RECALL = "recall"


@pytest.fixture(autouse=True)
def site_address(settings):
    settings.SITE_BASE_URL = BASE
    settings.ALLOWED_HOSTS = ["testserver", "cho.example", "127.0.0.1"]


_files = file_document_loader.file_document_loader()


def _offline(url, options=None):
    """The reference's own copy of the EPCIS context; nothing from the network."""
    assert url == epcis.EPCIS_CONTEXT, url
    return _files(url, options or {})


jsonld.set_document_loader(_offline)


def reference_ids(document) -> list[str]:
    """The event IDs GS1's reference implementation (epcis-event-hash-generator) gives the
    events of `document`, in order."""
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    ids = hash_generator.epcis_hashes_from_events(events)
    assert len(ids) == len(events[2])  # it skips an event it cannot read
    return ids


@pytest.fixture(scope="module")
def validator():
    # Imported here, not at the top: its URI format checker builds a grammar when it is
    # imported (about a second), which every test process would otherwise pay.
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator  # the draft the schema declares
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def errors_of(validator, document):
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def at(days_ago, hour=7):
    return timezone.now().replace(hour=hour, minute=0, second=0, microsecond=0) - timedelta(
        days=days_ago
    )


@pytest.fixture
def farm(traces, django_user_model):
    """Two new lots of the demo farmer (Krông Pắc): durian (with a GTIN) that goes through
    every kind of event and is packed into a lot of avocado boxes (no GTIN); and a
    certificate verified and valid at harvest, one expired before it, one pending."""
    farmer = django_user_model.objects.get(email=FARMER)
    durian = Product.objects.get(upc="NS0005")
    durian.upc = GTIN13
    durian.save()
    avocado = Product.objects.get(upc="NS0007")
    producer = Lot.objects.get(code="DEMO-NS0005").producer
    common = {
        "producer": producer,
        "by": farmer,
        "unit": "kg",
        "province_code": producer.province_code,
        "commune_code": producer.commune_code,
    }
    lot = create_lot(
        product=durian,
        code="EPCIS-1",
        quantity=Decimal("900"),
        latitude=Decimal("12.693"),
        longitude=Decimal("108.3"),
        expiry_date=timezone.localdate() + timedelta(days=20),
        **common,
    )
    boxes = create_lot(product=avocado, code="HOP/2026", quantity=Decimal("80"), **common)

    def add(kind, days_ago, details=None, **kwargs):
        return record_event(
            lot=lot,
            by=farmer,
            kind=kind,
            event_time=at(days_ago),
            details=details,
            location="Vườn số 2",
            **kwargs,
        )

    add(K.PLANTING, 300, {"variety": "Ri6", "area": "1.5", "area_unit": "ha"})
    add(K.GROWING_NOTE, 120, {"notes": "Cây ra hoa."})
    spray = add(
        K.INPUT_APPLIED,
        40,
        {
            "product_name": "Abamectin 1.8EC",
            "dose": "10",
            "unit": "ml/bình 16 lít",
            "applied_on": at(40).date().isoformat(),
            "pre_harvest_interval_days": 7,
            "kind_of_input": "Thuốc bảo vệ thực vật",
        },
    )
    harvest = add(K.HARVEST, 20, {"quantity": "850", "unit": "kg"})
    add(K.PROCESSING, 19, {"method": "Làm sạch, phân loại"})
    add(K.PACKING, 18, {"output_lot": boxes.pk, "quantity": "80", "unit": "hộp"})
    add(K.PACKING, 18, {"quantity": "100", "unit": "kg"})  # packed in place
    add(K.SHIPPING, 17, {"carrier": "Bưu điện Krông Pắc", "destination": "Hà Nội"})
    add(K.RECEIVING, 16, {"received_from": "HTX Krông Pắc"})
    first = add(K.CORRECTION, 15, {"reason": "Cân lại", "quantity": "820"}, corrects=harvest)
    second = add(K.CORRECTION, 14, {"reason": "Cân lần ba", "quantity": "815"}, corrects=harvest)
    add(K.CORRECTION, 13, {"reason": "Ghi nhầm liều", "dose": "8"}, corrects=spray)
    assert {e.kind for e in lot.events.all()} == set(K.values)  # every kind the app has

    harvest_day = harvest.event_time.date()
    valid = Certificate.objects.create(
        producer=producer,
        kind=Certificate.Kind.VIETGAP,
        number="VG-EPCIS-1",
        issuer="Trung tâm Chứng nhận",
        valid_from=harvest_day - timedelta(days=100),
        valid_until=harvest_day + timedelta(days=300),
        status=Certificate.Status.VERIFIED,
    )
    expired = Certificate.objects.create(
        producer=producer,
        kind=Certificate.Kind.GLOBALGAP,
        number="GG-EPCIS-OLD",
        issuer="Tổ chức GlobalGAP",
        valid_from=harvest_day - timedelta(days=700),
        valid_until=harvest_day - timedelta(days=1),
        status=Certificate.Status.VERIFIED,
    )
    pending = Certificate.objects.create(
        producer=producer,
        kind=Certificate.Kind.ORGANIC,
        number="ORG-EPCIS",
        issuer="Control Union",
        valid_from=harvest_day - timedelta(days=10),
        valid_until=harvest_day + timedelta(days=10),
    )
    return {
        "lot": lot,
        "boxes": boxes,
        "producer": producer,
        "harvest": harvest,
        "corrections": (first, second),
        "valid": valid,
        "expired": expired,
        "pending": pending,
    }


def events_of(document):
    return document["epcisBody"]["eventList"]


def kind_of(event) -> str:
    if event.get("disposition") == "recalled":
        return RECALL
    return KIND_OF_BIZ_STEP[event["bizStep"]]


def by_kind(document, kind):
    return [e for e in events_of(document) if kind_of(e) == kind]


def test_the_lot_export_validates_with_every_kind_of_event(farm, validator):
    document = epcis.lot_document(farm["lot"])
    assert errors_of(validator, document) == []
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    assert document["@context"][1] == {"nongsan": VOC, "cbvmda": "urn:epcglobal:cbv:mda:"}
    kinds = {kind_of(e) for e in events_of(document)}
    # Corrections become error declarations + corrective events of the corrected kind.
    assert kinds == set(K.values) - {K.CORRECTION}
    lgtin = f"https://id.gs1.org/01/{G14}/10/EPCIS-1"
    for event in events_of(document):
        assert event["eventTimeZoneOffset"] == "+07:00"
        assert event["eventTime"].endswith("Z") and event["recordTime"].endswith("Z")
        assert event["eventID"].startswith("ni:///sha-256;")
        assert event["eventID"].endswith("?ver=CBV2.0")
        assert event["readPoint"] == {"id": "geo:12.693,108.3"}
    (planting,) = by_kind(document, K.PLANTING)
    # The lot's first event creates its class (ADD); the later ones observe it.
    assert planting["type"] == "ObjectEvent" and planting["action"] == "ADD"
    assert planting["bizStep"] == f"{VOC}BizStep-planting"
    assert by_kind(document, K.GROWING_NOTE)[0]["action"] == "OBSERVE"
    assert planting["nongsan:variety"] == "Ri6" and planting["quantityList"] == [
        {"epcClass": lgtin}
    ]
    (shipping,) = by_kind(document, K.SHIPPING)
    assert shipping["bizStep"] == "shipping" and shipping["disposition"] == "in_transit"
    assert "bizLocation" not in shipping and shipping["nongsan:destination"] == "Hà Nội"
    (receiving,) = by_kind(document, K.RECEIVING)
    assert receiving["bizStep"] == "receiving"
    location = f"{BASE}/dia-diem/nha-san-xuat/{farm['producer'].pk}/"
    assert receiving["bizLocation"] == {"id": location}


def test_harvest_is_an_add_of_the_lot_class_with_its_quantity_and_certificates(farm, validator):
    document = epcis.lot_document(farm["lot"])
    original = by_kind(document, K.HARVEST)[0]
    assert original["type"] == "ObjectEvent" and original["action"] == "ADD"
    assert original["bizStep"] == "creating_class_instance"
    assert original["quantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{G14}/10/EPCIS-1", "quantity": 850, "uom": "KGM"}
    ]
    assert original["ilmd"]["cbvmda:itemExpirationDate"] == farm["lot"].expiry_date.isoformat()
    # The certificates the trace page shows: verified, valid on the harvest day.
    harvested_on = farm["harvest"].event_time.astimezone(timezone.get_current_timezone()).date()
    active = Certificate.objects.badges(on=harvested_on, product=farm["lot"].product).filter(
        producer=farm["producer"]
    )
    expected = {f"{BASE}/chung-nhan/{pk}/" for pk in active.values_list("pk", flat=True)}
    assert set(original["certificationInfo"]) == expected
    assert f"{BASE}/chung-nhan/{farm['valid'].pk}/" in expected
    for other in (farm["expired"], farm["pending"]):
        assert f"{BASE}/chung-nhan/{other.pk}/" not in expected


def test_packing_into_another_lot_is_a_transformation_event(farm, validator):
    document = epcis.lot_document(farm["lot"])
    transformation, in_place = by_kind(document, K.PACKING)
    boxes_class = f"{BASE}/t/{farm['boxes'].short_code}/"  # no GTIN: our short link
    assert transformation["type"] == "TransformationEvent"
    assert transformation["bizStep"] == "packing"
    assert transformation["inputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{G14}/10/EPCIS-1"}
    ]
    # Boxes are counted: no unit of measure.
    assert transformation["outputQuantityList"] == [{"epcClass": boxes_class, "quantity": 80}]
    assert in_place["type"] == "ObjectEvent" and in_place["bizStep"] == "packing"
    assert in_place["quantityList"][0]["uom"] == "KGM"

    # The output lot's own export shows where it came from; the lot code's "/" is encoded.
    boxes_document = epcis.lot_document(farm["boxes"])
    assert errors_of(validator, boxes_document) == []
    assert [e["eventID"] for e in events_of(boxes_document)] == [transformation["eventID"]]


def test_corrections_are_error_declarations_with_corrective_events(farm, validator):
    document = epcis.lot_document(farm["lot"])
    harvests = by_kind(document, K.HARVEST)
    # original, declaration, corrective (820), declaration of that, corrective (815)
    assert len(harvests) == 5
    original, declared, first, declared_again, second = harvests
    assert "errorDeclaration" not in original
    without = {k: v for k, v in declared.items() if k != "errorDeclaration"}
    assert without == original  # re-issued unchanged, same eventID
    assert declared["errorDeclaration"]["reason"] == "incorrect_data"
    assert declared["errorDeclaration"]["correctiveEventIDs"] == [first["eventID"]]
    assert declared["errorDeclaration"]["nongsan:reason"] == "Cân lại"
    assert first["quantityList"][0]["quantity"] == 820
    assert first["eventTime"] == original["eventTime"] and first["action"] == "ADD"
    assert first["nongsan:corrects"] == original["eventID"]
    assert first["nongsan:chainHash"] == farm["corrections"][0].hash
    assert second["nongsan:corrects"] == original["eventID"]
    assert declared_again["eventID"] == first["eventID"]
    assert declared_again["errorDeclaration"]["correctiveEventIDs"] == [second["eventID"]]
    assert second["quantityList"][0]["quantity"] == 815
    sprays = by_kind(document, K.INPUT_APPLIED)
    assert [s["nongsan:dose"] for s in sprays] == ["10", "10", "8"]
    ids = [e["eventID"] for e in events_of(document) if "errorDeclaration" not in e]
    assert len(ids) == len(set(ids))  # only declarations repeat an eventID


def test_the_format_checker_is_really_on(farm, validator):
    document = epcis.lot_document(farm["lot"])
    assert errors_of(validator, document) == []
    broken_time = copy.deepcopy(document)
    events_of(broken_time)[0]["eventTime"] = "2026-13-45T25:61:00Z"
    assert any("date-time" in e for e in errors_of(validator, broken_time))
    broken_uri = copy.deepcopy(document)
    events_of(broken_uri)[0]["eventID"] = "not a uri"
    assert any("uri" in e for e in errors_of(validator, broken_uri))
    broken_date = copy.deepcopy(document)
    broken_date["creationDate"] = "yesterday"
    assert errors_of(validator, broken_date)
    broken_uom = copy.deepcopy(document)
    by_kind(broken_uom, K.HARVEST)[0]["quantityList"][0]["uom"] = "kg"
    assert errors_of(validator, broken_uom)


URI_CASES = {
    "urn:uuid:6d5d3bb0-8d5e-4e0e-9f0e-2f1a3b4c5d6e": True,
    "https://id.gs1.org/01/08934567890128/10/EPCIS-1": True,
    "urn:epc:id:sgtin:893456.7890128.1": True,
    "not a uri": False,
    "/01/08934567890128": False,  # a path without a scheme is not a URI
    "https://example.com/a b": False,
    "http://[::1": False,
}


def test_uris_are_checked_without_the_gpl_rfc3987(validator):
    """The "uri" format is checked by jsonschema[format-nongpl] (rfc3986-validator), also
    where rfc3987 cannot be imported: the export's URIs are still validated."""
    checker = validator.format_checker
    assert "uri" in checker.checkers
    for value, valid in URI_CASES.items():
        assert checker.conforms(value, "uri") is valid, value
    script = (
        "import sys; sys.modules['rfc3987'] = None\n"  # as if it were not installed
        "import json, jsonschema\n"
        "checker = jsonschema.Draft7Validator.FORMAT_CHECKER\n"
        "assert 'uri' in checker.checkers and 'iri' in checker.checkers\n"
        "cases = json.loads(sys.argv[1])\n"
        "print(json.dumps({v: checker.conforms(v, 'uri') for v in cases}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(list(URI_CASES))],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert json.loads(out.stdout) == URI_CASES


def test_the_producer_export_has_all_its_lots_and_no_one_elses(farm, validator):
    producer = farm["producer"]
    document = epcis.producer_document(producer)
    assert errors_of(validator, document) == []
    lots = {e["nongsan:lot"] for e in events_of(document)}
    own = set(
        Lot.objects.filter(producer=producer, events__isnull=False).values_list("code", flat=True)
    )
    assert lots == own and {"EPCIS-1", "DEMO-NS0005", "DEMO-NS0006"} <= lots
    assert "DEMO-NS0001" not in lots  # another producer's
    # The demo lots' harvest corrections are there too (DEMO-NS0005).
    assert any(
        e["nongsan:lot"] == "DEMO-NS0005" and "errorDeclaration" in e for e in events_of(document)
    )


def test_every_demo_lot_exports_valid_in_order_and_without_a_urn_of_ours(traces, validator):
    """Valid, no event observing a lot before the event that creates it (the ADD, or the
    packing that produced it), no private URN namespace."""
    for lot in Lot.objects.select_related("product", "producer"):
        document = epcis.lot_document(lot)
        assert errors_of(validator, document) == [], lot.code
        assert epcis.ordering_faults(document) == [], lot.code
        assert "urn:nongsan" not in json.dumps(document), lot.code


@pytest.mark.parametrize("email", [FARMER, POST_OFFICE, OPERATOR])
def test_managers_download_the_lot_and_the_producer(client, farm, validator, email):
    lot = farm["lot"]
    sign_in(client, email)
    response = client.get(f"/lo-hang/{lot.pk}/epcis/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    assert response["Content-Disposition"] == 'attachment; filename="epcis-EPCIS-1.jsonld"'
    document = json.loads(response.content)
    assert errors_of(validator, document) == []
    assert by_kind(document, K.PLANTING)[0]["readPoint"]["id"] == "geo:12.693,108.3"

    boxes = client.get(f"/lo-hang/{farm['boxes'].pk}/epcis/")
    assert boxes["Content-Disposition"] == 'attachment; filename="epcis-HOP_2026.jsonld"'

    response = client.get(f"/lo-hang/nha-san-xuat/{lot.producer_id}/epcis/")
    assert response.status_code == 200 and response["Content-Type"] == "application/ld+json"
    assert errors_of(validator, json.loads(response.content)) == []

    page = client.get(f"/lo-hang/{lot.pk}/").content.decode()
    assert f'href="/lo-hang/{lot.pk}/epcis/"' in page
    assert f'href="/lo-hang/nha-san-xuat/{lot.producer_id}/epcis/"' in page


@pytest.mark.parametrize("email", [BUYER, ASSOCIATION])
def test_others_get_404(client, farm, email):
    # The association branch is Ea Kiết's: the Krông Pắc farmer is outside its scope.
    sign_in(client, email)
    assert client.get(f"/lo-hang/{farm['lot'].pk}/epcis/").status_code == 404
    assert client.get(f"/lo-hang/nha-san-xuat/{farm['producer'].pk}/epcis/").status_code == 404
    assert client.get("/lo-hang/999999/epcis/").status_code == 404


def test_a_farmer_cannot_export_another_producers_lots(client, farm):
    other = Lot.objects.get(code="DEMO-NS0001")  # the Ea Kiết cooperative's
    sign_in(client, FARMER)
    assert client.get(f"/lo-hang/{other.pk}/epcis/").status_code == 404
    assert client.get(f"/lo-hang/nha-san-xuat/{other.producer_id}/epcis/").status_code == 404


def test_anonymous_visitors_are_asked_to_sign_in(client, farm):
    for url in (
        f"/lo-hang/{farm['lot'].pk}/epcis/",
        f"/lo-hang/nha-san-xuat/{farm['producer'].pk}/epcis/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_get_is_allowed(client, farm):
    sign_in(client, FARMER)
    assert client.post(f"/lo-hang/{farm['lot'].pk}/epcis/").status_code == 405


def _queries(call):
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_query_count_does_not_grow_with_events_or_lots(
    farm, django_user_model, django_assert_max_num_queries
):
    lot, producer = farm["lot"], farm["producer"]
    with django_assert_max_num_queries(5):
        epcis.lot_document(lot)
    with django_assert_max_num_queries(4):
        epcis.producer_document(producer)
    lot_before = _queries(lambda: epcis.lot_document(lot))
    producer_before = _queries(lambda: epcis.producer_document(producer))

    farmer = django_user_model.objects.get(email=FARMER)
    for days in range(12, 2, -1):
        record_event(
            lot=lot, by=farmer, kind=K.GROWING_NOTE, event_time=at(days), details={"notes": "x"}
        )
    for n in range(3):
        extra = create_lot(
            product=lot.product,
            producer=producer,
            by=farmer,
            code=f"EXTRA-{n}",
            quantity=Decimal("5"),
            unit="kg",
            province_code=producer.province_code,
            commune_code=producer.commune_code,
        )
        record_event(
            lot=extra, by=farmer, kind=K.HARVEST, event_time=at(5), details={"quantity": "5"}
        )
    assert _queries(lambda: epcis.lot_document(lot)) == lot_before
    assert _queries(lambda: epcis.producer_document(producer)) == producer_before


def test_the_download_makes_as_many_queries_for_a_long_history_as_for_a_short_one(
    client, farm, django_user_model
):
    lot = farm["lot"]
    sign_in(client, FARMER)
    url = f"/lo-hang/{lot.pk}/epcis/"
    producer_url = f"/lo-hang/nha-san-xuat/{lot.producer_id}/epcis/"
    client.get(url)
    before = _queries(lambda: client.get(url))
    producer_before = _queries(lambda: client.get(producer_url))
    farmer = django_user_model.objects.get(email=FARMER)
    for days in range(12, 2, -1):
        record_event(
            lot=lot, by=farmer, kind=K.SHIPPING, event_time=at(days), details={"carrier": "VNPost"}
        )
    assert _queries(lambda: client.get(url)) == before
    assert _queries(lambda: client.get(producer_url)) == producer_before
    assert before <= 12


# --- Event IDs: the CBV 2.0 event hash, as GS1's reference implementation computes it ----


def _expanded(document, event, field):
    """The value of a CBV field as a JSON-LD processor reads it (its CBV web URI)."""
    expanded = jsonld.expand({"@context": document["@context"], **event})[0]
    return expanded[f"https://ref.gs1.org/epcis/{field}"][0]["@id"]


def test_event_ids_are_the_reference_event_hash_for_every_kind_of_event(farm, validator):
    """ObjectEvents (ADD, OBSERVE), the TransformationEvent, error declarations and
    corrective events, and the recall; a producer with a GLN and one without."""
    lot, producer = farm["lot"], farm["producer"]
    recall_lot(lot=lot, by=None, reason="Phát hiện dư lượng vượt mức cho phép")
    document = epcis.lot_document(Lot.objects.select_related("product", "producer").get(pk=lot.pk))
    assert errors_of(validator, document) == []
    events = events_of(document)
    kinds = {kind_of(e) for e in events}
    assert kinds == set(K.values) - {K.CORRECTION} | {RECALL}
    assert {e["type"] for e in events} == {"ObjectEvent", "TransformationEvent"}
    assert {e.get("action") for e in events} == {"ADD", "OBSERVE", None}
    assert any("errorDeclaration" in e for e in events)
    assert [e["eventID"] for e in events] == reference_ids(document)

    ProducerProfile.objects.filter(pk=producer.pk).update(gln="8934567000000")
    document = epcis.producer_document(ProducerProfile.objects.get(pk=producer.pk))
    assert errors_of(validator, document) == []
    assert by_kind(document, K.HARVEST)[0]["bizLocation"] == {
        "id": "https://id.gs1.org/414/8934567000000"
    }
    assert [e["eventID"] for e in events_of(document)] == reference_ids(document)


def test_a_recall_is_an_event_with_the_cbv_disposition_recalled(farm, validator):
    lot = farm["lot"]
    recall_lot(lot=lot, by=None, reason="Phát hiện dư lượng vượt mức cho phép")
    document = epcis.lot_document(lot)
    assert errors_of(validator, document) == []
    recall = events_of(document)[-1]
    assert recall["type"] == "ObjectEvent" and recall["action"] == "OBSERVE"
    assert recall["disposition"] == "recalled"
    assert _expanded(document, recall, "disposition") == "https://ref.gs1.org/cbv/Disp-recalled"
    assert recall["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/{G14}/10/EPCIS-1"}]
    assert recall["nongsan:reason"] == "Phát hiện dư lượng vượt mức cho phép"
    assert recall["eventTimeZoneOffset"] == "+07:00"
    # In the producer's export as well, with the same eventID.
    producer_ids = [e["eventID"] for e in events_of(epcis.producer_document(farm["producer"]))]
    assert recall["eventID"] in producer_ids


def test_one_event_has_one_id_in_every_export(farm):
    """The packing seen from the input lot and from the lot it produced, and every event
    in the producer's export, carry the same eventID."""
    lot_ids = {e["eventID"] for e in events_of(epcis.lot_document(farm["lot"]))}
    (transformation,) = events_of(epcis.lot_document(farm["boxes"]))
    assert transformation["eventID"] in lot_ids
    producer_ids = {e["eventID"] for e in events_of(epcis.producer_document(farm["producer"]))}
    assert lot_ids <= producer_ids


def test_demo_producer_exports_have_the_reference_ids(traces, validator):
    """Every event of every demo lot, through its producer's export (the lots' own exports
    are checked in test_every_demo_lot_exports_valid)."""
    producers = ProducerProfile.objects.filter(lots__isnull=False).distinct()
    assert producers.count() >= 5
    for producer in producers:
        document = epcis.producer_document(producer)
        assert errors_of(validator, document) == []
        assert epcis.ordering_faults(document) == []
        assert [e["eventID"] for e in events_of(document)] == reference_ids(document)


# --- The lot is created before it is observed ---------------------------------------------


def test_no_event_observes_a_lot_before_the_event_that_creates_it(farm, django_user_model):
    lot = farm["lot"]
    assert epcis.ordering_faults(epcis.lot_document(lot)) == []
    assert epcis.ordering_faults(epcis.lot_document(farm["boxes"])) == []
    assert epcis.ordering_faults(epcis.producer_document(farm["producer"])) == []

    # A note dated before the planting, recorded last: it becomes the creating event.
    farmer = django_user_model.objects.get(email=FARMER)
    note = record_event(
        lot=lot, by=farmer, kind=K.GROWING_NOTE, event_time=at(320), details={"notes": "Làm đất."}
    )
    document = epcis.lot_document(lot)
    assert epcis.ordering_faults(document) == []
    first = min(events_of(document), key=lambda e: e["eventTime"])
    assert first["nongsan:sequence"] == note.sequence and first["action"] == "ADD"
    assert by_kind(document, K.PLANTING)[0]["action"] == "OBSERVE"

    # The check itself: an OBSERVE before the ADD is reported.
    broken = copy.deepcopy(document)
    for event in events_of(broken):
        if event.get("action") == "ADD":
            event["action"] = "OBSERVE"
    assert epcis.ordering_faults(broken)


def test_the_lot_packing_produced_is_created_by_the_transformation(farm, django_user_model):
    boxes = farm["boxes"]
    farmer = django_user_model.objects.get(email=FARMER)
    record_event(
        lot=boxes, by=farmer, kind=K.SHIPPING, event_time=at(17, hour=9), details={"carrier": "x"}
    )
    document = epcis.lot_document(boxes)
    transformation, shipping = events_of(document)
    assert transformation["type"] == "TransformationEvent"
    assert shipping["action"] == "OBSERVE"  # created by the packing the day before
    assert epcis.ordering_faults(document) == []


# --- Identifiers do not depend on the request ------------------------------------------------


def _without_creation_date(response) -> dict:
    document = json.loads(response.content)
    document.pop("creationDate")
    return document


def test_exports_are_the_same_whatever_host_or_language_the_request_came_through(client, farm):
    lot = farm["lot"]
    sign_in(client, FARMER)
    lot_url = f"/lo-hang/{lot.pk}/epcis/"
    producer_url = f"/lo-hang/nha-san-xuat/{lot.producer_id}/epcis/"
    for url in (lot_url, producer_url):
        here = client.get(url, HTTP_HOST="cho.example")
        there = client.get(url, HTTP_HOST="127.0.0.1", secure=True)
        english = client.get("/en" + url)
        assert here.status_code == there.status_code == english.status_code == 200
        document = _without_creation_date(here)
        assert document == _without_creation_date(there) == _without_creation_date(english)
        text = json.dumps(document)
        assert "cho.example" not in text and "127.0.0.1" not in text and "/en/" not in text
    certificates = by_kind(_without_creation_date(here), K.HARVEST)[0]["certificationInfo"]
    assert f"{BASE}/chung-nhan/{farm['valid'].pk}/" in certificates


def test_qr_codes_encode_the_configured_address_whatever_the_host(client, farm):
    boxes = farm["boxes"]
    sign_in(client, FARMER)
    url = f"/lo-hang/{boxes.pk}/ma-qr.svg"
    here = client.get(url, HTTP_HOST="cho.example")
    there = client.get(url, HTTP_HOST="127.0.0.1")
    assert here.status_code == there.status_code == 200
    assert here.content == there.content == qr.svg(f"{BASE}/t/{boxes.short_code}/")
    assert qr.base_url() == BASE


# --- Locations and units ---------------------------------------------------------------------


def test_a_producer_location_is_its_gln_or_a_uri_of_ours_that_leads_to_its_page(client, farm):
    producer = farm["producer"]
    location = epcis.producer_location(producer)
    assert location == f"{BASE}/dia-diem/nha-san-xuat/{producer.pk}/"
    response = client.get(f"/dia-diem/nha-san-xuat/{producer.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/nha-san-xuat/{producer.slug}/"
    assert client.get("/dia-diem/nha-san-xuat/999999/").status_code == 404
    producer.gln = "8934567000000"
    assert epcis.producer_location(producer) == "https://id.gs1.org/414/8934567000000"


@pytest.mark.parametrize(
    ("quantity", "unit", "expected"),
    [
        ("8.5", "tạ", (850, "KGM")),
        ("3", "yến", (30, "KGM")),
        ("2", "lạng", (200, "GRM")),
        ("1,5", "tấn", (1.5, "TNE")),
        ("850", "kg", (850, "KGM")),
        ("500", "g", (500, "GRM")),
        ("1200", "kg quả tươi", (1200, "KGM")),
        ("2", "Tạ", (200, "KGM")),
        ("10", "ml/bình 16 lít", (10, "MLT")),
        ("3", "tá", (3, None)),  # a dozen, counted: not tạ
        ("80", "hộp", (80, None)),
        ("nhiều", "kg", (None, None)),
    ],
)
def test_vietnamese_units_become_un_ece_rec_20_codes(quantity, unit, expected):
    assert epcis.rec20_quantity(quantity, unit) == expected


def test_the_demo_packs_a_lot_into_a_new_one(traces, validator):
    """Demo data: 2 tạ of the bulk Gia Lai Robusta (a GTIN) packed into a new lot, then
    shipped; the cooperative of Ea Kiết has a GLN."""
    packed = Lot.objects.select_related("product", "producer").get(code=PACKED_LOT)
    document = epcis.lot_document(packed)
    assert errors_of(validator, document) == []
    transformation, shipping = events_of(document)
    gtin = "0" + packed.product.upc
    assert transformation["type"] == "TransformationEvent"
    assert transformation["inputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{gtin}/10/{BULK_LOT}"}
    ]
    assert transformation["outputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{gtin}/10/{PACKED_LOT}", "quantity": 200, "uom": "KGM"}
    ]
    assert transformation["nongsan:unit"] == "tạ"
    assert shipping["bizStep"] == "shipping" and shipping["action"] == "OBSERVE"
    coffee = Lot.objects.select_related("product", "producer").get(code="DEMO-NS0001")
    harvest = by_kind(epcis.lot_document(coffee), K.HARVEST)[0]
    assert harvest["bizLocation"] == {"id": "https://id.gs1.org/414/8936045000106"}


def test_the_uris_of_ours_in_an_export_can_be_looked_up(client, farm):
    """The vocabulary of our business steps and extension properties, the communes and the
    producers: public, JSON-LD (or the producer's page), whatever URI the export used."""
    pepper = Lot.objects.select_related("product", "producer").get(code="DEMO-NS0009")
    commune = events_of(epcis.lot_document(pepper))[0]["readPoint"]["id"]  # no GPS
    assert commune == f"{BASE}/dia-diem/xa/{pepper.commune_code}/"
    response = client.get(commune.removeprefix(BASE))
    assert response.status_code == 200 and response["Content-Type"] == "application/ld+json"
    place = json.loads(response.content)
    assert place["@id"] == commune and place["containedInPlace"]["name"] == "Gia Lai"
    assert client.get("/dia-diem/xa/999999999/").status_code == 404

    response = client.get("/epcis/voc/")
    assert response.status_code == 200 and response["Content-Type"] == "application/ld+json"
    terms = {entry["@id"] for entry in json.loads(response.content)["@graph"]}
    used = {
        k.replace("nongsan:", VOC) for e in events_of(epcis.lot_document(farm["lot"])) for k in e
    }
    used |= {e["bizStep"] for e in events_of(epcis.lot_document(farm["lot"]))}
    assert {u for u in used if u.startswith(VOC)} <= terms
    term = client.get("/epcis/voc/BizStep-planting")
    assert term.status_code == 302 and term["Location"] == "/epcis/voc/#BizStep-planting"
