"""EPCIS 2.0 JSON-LD export: every kind of farm event, validated against GS1's schema with
format checking on; corrections as error declarations; who may download; query budget."""

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
from oscar.core.loading import get_model

from marketplace.models import Certificate
from traceability import epcis
from traceability.models import FarmEvent, Lot
from traceability.services import create_lot, record_event

from .conftest import ASSOCIATION, BUYER, FARMER, GTIN13, OPERATOR, POST_OFFICE, sign_in

Product = get_model("catalogue", "Product")
K = FarmEvent.Kind
pytestmark = pytest.mark.django_db

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2]
    / "traceability"
    / "standards"
    / "epcis-json-schema-2.0.1.json"
)
G14 = "0" + GTIN13
BASE = "http://testserver"


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


def by_kind(document, kind):
    return [e for e in events_of(document) if e["nongsan:kind"] == kind]


def test_the_lot_export_validates_with_every_kind_of_event(farm, validator):
    document = epcis.lot_document(farm["lot"], base_url=BASE)
    assert errors_of(validator, document) == []
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    assert document["@context"][1] == {"nongsan": "urn:nongsan:epcis:"}
    kinds = {e["nongsan:kind"] for e in events_of(document)}
    # Corrections become error declarations + corrective events of the corrected kind.
    assert kinds == set(K.values) - {K.CORRECTION}
    lgtin = f"https://id.gs1.org/01/{G14}/10/EPCIS-1"
    for event in events_of(document):
        assert event["eventTimeZoneOffset"] == "+07:00"
        assert event["eventTime"].endswith("Z") and event["recordTime"].endswith("Z")
        assert event["eventID"].startswith("urn:uuid:")
        assert event["readPoint"] == {"id": "geo:12.693,108.3"}
    (planting,) = by_kind(document, K.PLANTING)
    assert planting["type"] == "ObjectEvent" and planting["action"] == "OBSERVE"
    assert planting["bizStep"] == "urn:nongsan:epcis:BizStep-planting"
    assert planting["nongsan:variety"] == "Ri6" and planting["quantityList"] == [
        {"epcClass": lgtin}
    ]
    (shipping,) = by_kind(document, K.SHIPPING)
    assert shipping["bizStep"] == "shipping" and shipping["disposition"] == "in_transit"
    assert "bizLocation" not in shipping and shipping["nongsan:destination"] == "Hà Nội"
    (receiving,) = by_kind(document, K.RECEIVING)
    assert receiving["bizStep"] == "receiving"
    assert receiving["bizLocation"] == {"id": f"urn:nongsan:producer:{farm['producer'].pk}"}


def test_harvest_is_an_add_of_the_lot_class_with_its_quantity_and_certificates(farm, validator):
    document = epcis.lot_document(farm["lot"], base_url=BASE)
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
    document = epcis.lot_document(farm["lot"], base_url=BASE)
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
    boxes_document = epcis.lot_document(farm["boxes"], base_url=BASE)
    assert errors_of(validator, boxes_document) == []
    assert [e["eventID"] for e in events_of(boxes_document)] == [transformation["eventID"]]


def test_corrections_are_error_declarations_with_corrective_events(farm, validator):
    document = epcis.lot_document(farm["lot"], base_url=BASE)
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
    assert first["eventID"] == epcis.event_id(farm["corrections"][0].hash)
    assert declared_again["eventID"] == first["eventID"]
    assert declared_again["errorDeclaration"]["correctiveEventIDs"] == [second["eventID"]]
    assert second["quantityList"][0]["quantity"] == 815
    sprays = by_kind(document, K.INPUT_APPLIED)
    assert [s["nongsan:dose"] for s in sprays] == ["10", "10", "8"]
    ids = [e["eventID"] for e in events_of(document) if "errorDeclaration" not in e]
    assert len(ids) == len(set(ids))  # only declarations repeat an eventID


def test_the_format_checker_is_really_on(farm, validator):
    document = epcis.lot_document(farm["lot"], base_url=BASE)
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
    document = epcis.producer_document(producer, base_url=BASE)
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


def test_every_demo_lot_exports_valid(traces, validator):
    for lot in Lot.objects.select_related("product"):
        assert errors_of(validator, epcis.lot_document(lot, base_url=BASE)) == [], lot.code


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
        epcis.lot_document(lot, base_url=BASE)
    with django_assert_max_num_queries(4):
        epcis.producer_document(producer, base_url=BASE)
    lot_before = _queries(lambda: epcis.lot_document(lot, base_url=BASE))
    producer_before = _queries(lambda: epcis.producer_document(producer, base_url=BASE))

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
    assert _queries(lambda: epcis.lot_document(lot, base_url=BASE)) == lot_before
    assert _queries(lambda: epcis.producer_document(producer, base_url=BASE)) == producer_before


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
