"""The CBV 2.0 event hash (traceability.epcis_hash) against GS1's reference implementation,
epcis-event-hash-generator, piece by piece: Digital Link normalisation, numbers, times, and
whole events with the kinds of values our extensions can hold. No database."""

import copy

import pytest
from epcis_event_hash_generator import (
    dl_normaliser,
    file_document_loader,
    hash_generator,
    json_to_py,
)
from pyld import jsonld

from traceability import epcis_hash

pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CONTEXT = {"nongsan": "https://nongsan.example/epcis/voc/", "cbvmda": "urn:epcglobal:cbv:mda:"}
_files = file_document_loader.file_document_loader()


def _offline(url, options=None):
    assert url == EPCIS_CONTEXT, url
    return _files(url, options or {})


jsonld.set_document_loader(_offline)


def reference_ids(events: list[dict]) -> list[str]:
    document = {
        "@context": [EPCIS_CONTEXT, CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-12-07T00:00:00Z",
        "epcisBody": {"eventList": copy.deepcopy(events)},
    }
    parsed = json_to_py.event_list_from_epcis_document_json(document)
    ids = hash_generator.epcis_hashes_from_events(parsed)
    assert len(ids) == len(events)
    return ids


DIGITAL_LINKS = [
    "https://id.gs1.org/01/08934567890128/10/EPCIS-1",
    "https://id.gs1.org/01/08934567890128/10/HOP%2F2026",  # percent-encoded: as written
    "https://nongsan.example/01/8934567890128/10/LO-1?17=261231",
    "https://example.com/shop/gtin/08934567890128/lot/ABC",
    "https://example.com/01/08934567890128/10/L1/21/S1",
    "https://example.com/01/08934567890128/22/V1/10/L1",
    "https://example.com/01/08934567890128/22/V1",
    "https://example.com/01/12345670/21/X",
    "https://id.gs1.org/414/8934567000000",
    "https://example.com/gln/8934567000000/254/kho-1",
    "https://example.com/party/8934567000000",
    "https://example.com/00/389345670000000018",
    "https://example.com/01/1234/10/x",
    "https://nongsan.example/t/AB12CD/",
    "https://nongsan.example/chung-nhan/12/",
    "https://nongsan.example/dia-diem/nha-san-xuat/3/",
    "https://nongsan.example/abcdefghij",
    "urn:epc:id:sgtin:893456.7890128.S1",
    "urn:epc:id:sgtin:8934567.789012.A%2FB",
    "urn:epc:class:lgtin:893456.7890128.L(1)",
    "urn:epc:id:sgln:893456.700000.0",
    "urn:epc:id:sgln:8934567.00000.kho:1",
    "urn:epc:id:pgln:893456.700000",
    "geo:12.693,108.3",
    "ni:///sha-256;00ff?ver=CBV2.0",
    "Vườn số 2",
    "",
]


@pytest.mark.parametrize("uri", DIGITAL_LINKS)
def test_digital_links_are_normalised_as_the_reference_does(uri):
    assert epcis_hash.digital_link(uri) == dl_normaliser.normaliser(uri)


NUMBERS = ["850", "0012", "+7", "2.50", "1e3", "-0", "0.1", "1_000", "nan", "1,5", "12a", " 8 "]


@pytest.mark.parametrize("text", NUMBERS)
def test_numbers_are_canonical_as_the_reference_makes_them(text):
    assert epcis_hash._number(text.strip()) == hash_generator._try_format_numeric(text.strip())


TIMES = [
    "2026-05-01T00:00:00Z",
    "2026-05-01T07:00:00+07:00",
    "2026-05-01T00:00:00.123456Z",
    "2026-05-01T00:00:00.0005Z",
    "2026-05-01T00:00:00.0015Z",
    "2026-05-01T23:59:59.9994Z",
]


@pytest.mark.parametrize("text", TIMES)
def test_times_are_utc_milliseconds_as_the_reference_writes_them(text):
    assert epcis_hash.event_time(text) == hash_generator._fix_time_stamp_format(text)


def test_a_time_rounding_up_to_the_next_second_is_carried_over():
    # The reference fails on this one (it skips the event); we carry the second over.
    assert epcis_hash.event_time("2026-05-01T23:59:59.9996Z") == "2026-05-02T00:00:00.000Z"


BASE_EVENT = {
    "type": "ObjectEvent",
    "eventTime": "2026-05-01T00:00:00.250+07:00",
    "eventTimeZoneOffset": "+07:00",
    "recordTime": "2026-05-02T00:00:00Z",
    "eventID": "",
    "action": "ADD",
    "quantityList": [
        {"epcClass": "https://id.gs1.org/01/08934567890128/10/B", "quantity": 2.5, "uom": "KGM"},
        {"epcClass": "https://id.gs1.org/01/08934567890128/10/A", "quantity": 10},
    ],
    "bizStep": "creating_class_instance",
    "disposition": "active",
    "readPoint": {"id": "geo:12.693,108.3"},
    "bizLocation": {"id": "https://id.gs1.org/414/8934567000000"},
}
EVENTS = [
    BASE_EVENT,
    {
        **BASE_EVENT,
        "certificationInfo": ["https://nongsan.example/chung-nhan/2/", "https://x.example/1"],
        "ilmd": {"cbvmda:countryOfOrigin": "VN", "cbvmda:harvestStartDate": "2026-04-30"},
    },
    {
        **BASE_EVENT,
        "action": "OBSERVE",
        "bizStep": "https://nongsan.example/epcis/voc/BizStep-planting",
        "disposition": "urn:epcglobal:cbv:disp:in_progress",
        "nongsan:lot": "0012",
        "nongsan:notes": "  Cây ra hoa.  ",
        "nongsan:empty": "",
        "nongsan:dose": "10.50",
        "nongsan:days": 7,
        "nongsan:organic": True,
        "nongsan:photos": ["b.jpg", "a.jpg"],
        "nongsan:nested": {"nongsan:z": "1", "a": {"b": "c"}, "x": ["2", "1"]},
        "nongsan:link": "https://example.com/gtin/08934567890128/ser/S1",
        "nongsan:urn": "urn:epc:id:sgln:893456.700000.0",
        "nongsan:compact": "nongsan:something",
        "errorDeclaration": {"declarationTime": "2026-05-03T00:00:00Z", "reason": "incorrect_data"},
    },
    {
        "type": "TransformationEvent",
        "eventTime": "2026-05-01T02:00:00Z",
        "eventTimeZoneOffset": "+07:00",
        "eventID": "",
        "inputQuantityList": [{"epcClass": "https://id.gs1.org/01/08934567890128/10/A"}],
        "outputQuantityList": [
            {"epcClass": "https://nongsan.example/t/AB12CD/", "quantity": 200, "uom": "KGM"}
        ],
        "bizStep": "packing",
        "readPoint": {"id": "https://nongsan.example/dia-diem/xa/26734/"},
        "nongsan:unit": "tạ",
    },
    {
        "type": "ObjectEvent",
        "eventTime": "2026-06-01T03:04:05.678901Z",
        "eventTimeZoneOffset": "+07:00",
        "eventID": "",
        "action": "OBSERVE",
        "quantityList": [{"epcClass": "https://id.gs1.org/01/08934567890128/10/A"}],
        "disposition": "recalled",
        "nongsan:reason": "Dư lượng thuốc bảo vệ thực vật",
    },
]


def test_whole_events_hash_as_the_reference_hashes_them():
    ours = [epcis_hash.event_hash(event, CONTEXT) for event in EVENTS]
    assert ours == reference_ids(EVENTS)
    assert len(set(ours)) == len(ours)
    assert all(i.startswith("ni:///sha-256;") and i.endswith("?ver=CBV2.0") for i in ours)


def test_the_id_ignores_what_the_standard_leaves_out_and_nothing_else():
    event = EVENTS[2]
    same = {**event, "eventID": "x", "recordTime": "2030-01-01T00:00:00Z", "errorDeclaration": {}}
    assert epcis_hash.event_hash(same, CONTEXT) == epcis_hash.event_hash(event, CONTEXT)
    reordered = dict(reversed(list(event.items())))
    assert epcis_hash.event_hash(reordered, CONTEXT) == epcis_hash.event_hash(event, CONTEXT)
    changed = {**event, "nongsan:dose": "8"}
    assert epcis_hash.event_hash(changed, CONTEXT) != epcis_hash.event_hash(event, CONTEXT)


def test_fields_it_cannot_hash_are_refused_not_hashed_wrongly():
    with pytest.raises(ValueError):
        epcis_hash.event_hash({**BASE_EVENT, "epcList": ["urn:epc:id:sgtin:1.2.3"]}, CONTEXT)


@pytest.mark.parametrize(
    ("gln", "message"),
    [
        ("893456700000", "Mã GLN (mã địa điểm toàn cầu GS1) gồm 13 chữ số."),
        ("8934567000003", "Chữ số cuối (số kiểm tra) của mã GLN này không đúng."),
    ],
)
def test_a_wrong_gln_is_refused_with_a_vietnamese_message(gln, message):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from marketplace.core.validators import validate_gln

    validate_gln("8934567000000")
    with translation.override("vi"), pytest.raises(ValidationError) as error:
        validate_gln(gln)
    assert error.value.messages == [message]
