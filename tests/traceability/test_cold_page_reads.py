"""What the cold trace page reads and checks, made cheaper, still reads and checks the
same: prepared queries give the rows the ORM gives, in one query each, and checking the
signature of a chain's last record still catches every changed body."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oscar.core.loading import get_model

from traceability import integrity, selectors, signing, verifier
from traceability.models import Lot, TraceRecord

pytestmark = pytest.mark.django_db
ProductImage = get_model("catalogue", "ProductImage")


def orm_lot(**lookup):
    return selectors.with_log_counts(
        Lot.objects.select_related(*selectors.LOT_RELATED).filter(**lookup)
    ).get()


def test_the_page_lot_is_the_orm_lot_in_one_query(traces):
    for lot in Lot.objects.all():
        expected = orm_lot(pk=lot.pk)
        with CaptureQueriesContext(connection) as queries:
            by_code = selectors.page_lot(short_code=lot.short_code)
            by_pk = selectors.page_lot(pk=lot.pk)
        assert len(queries) == 2
        for found in (by_code, by_pk):
            assert found.__dict__.keys() >= {"log_count", "photo_name"}
            for name in ("code", "quantity", "latitude", "expiry_date", "created_at"):
                assert getattr(found, name) == getattr(expected, name)
            for name in selectors.LOG_ANNOTATIONS:
                assert getattr(found, name) == getattr(expected, name)
            assert found.product.get_title() == expected.product.get_title()
            assert found.producer.partner.name == expected.producer.partner.name
            assert getattr(found, "recall", None) == getattr(expected, "recall", None)
            photo = (
                ProductImage.objects.filter(product_id=lot.product_id)
                .order_by("display_order", "pk")
                .first()
            )
            assert found.photo_name == (photo.original.name if photo else None)
    assert selectors.page_lot(short_code="ZZZZZZZZ") is None
    assert selectors.page_lot(pk=10**30) is None and selectors.page_lot(pk=None) is None


def test_records_and_certificates_are_the_orm_rows(traces):
    for lot in Lot.objects.all():
        expected = list(TraceRecord.objects.filter(lot=lot).select_related("event").order_by("seq"))
        with CaptureQueriesContext(connection) as queries:
            records = integrity.load_records(lot)
        assert len(queries) == 1
        assert [(r.pk, r.body, r.event_id) for r in records] == [
            (r.pk, r.body, r.event_id) for r in expected
        ]
        assert [r.event.details for r in records if r.event] == [
            r.event.details for r in expected if r.event
        ]
        certificates = integrity.snapshot_certificates(records)
        for pk, certificate in certificates.items():
            assert certificate.pk == pk and certificate.valid_from is not None
    # Ids no row can have are not looked up (a tampered snapshot cannot break the page).
    with CaptureQueriesContext(connection) as queries:
        assert selectors.certificates_by_id(["7", None, True, -1, 10**30, 2.5]) == {}
    assert len(queries) == 0


def _signed(lot):
    records = integrity.load_records(lot)
    return [r.as_signed() for r in records]


def _resign(text: bytes, key) -> str:
    return base64.b64encode(key.sign(verifier.record_message(text))).decode()


def test_the_last_signature_covers_every_body(traces):
    lot = Lot.objects.get(code="DEMO-NS0005")
    keys = signing.trusted_keys()
    intact = _signed(lot)
    assert len(intact) > 3
    for mode in ("each", "last"):
        assert verifier.check_records(intact, keys, lot_id=lot.pk, signatures=mode) == []

    forger = ed25519.Ed25519PrivateKey.generate()
    for index in (0, 2, len(intact) - 1):
        # A body changed and signed again with another key, its key id kept.
        records = [dict(r) for r in intact]
        body = json.loads(records[index]["body"])
        body["data"]["tampered"] = "đã sửa"
        text = verifier.canonical(body)
        records[index]["body"] = text.decode()
        records[index]["signature"] = _resign(text, forger)
        for mode in ("each", "last"):
            codes = {
                p.code
                for p in verifier.check_records(records, keys, lot_id=lot.pk, signatures=mode)
            }
            assert codes & {"broken_link", "bad_signature"}, (index, mode)

        # The whole chain re-linked after it: the last body changes, its signature fails.
        previous = verifier.sha256_hex(text)
        for later in records[index + 1 :]:
            body = json.loads(later["body"])
            body["prev"] = previous
            later["body"] = verifier.canonical(body).decode()
            previous = verifier.sha256_hex(later["body"].encode())
        problems = verifier.check_records(records, keys, lot_id=lot.pk, signatures="last")
        assert [p.code for p in problems] == ["bad_signature"], index

    # What "last" leaves to verify_traces: an earlier signature damaged, its body intact.
    records = [dict(r) for r in intact]
    records[1]["signature"] = records[2]["signature"]
    assert verifier.check_records(records, keys, lot_id=lot.pk, signatures="last") == []
    problems = verifier.check_records(records, keys, lot_id=lot.pk, signatures="each")
    assert [p.code for p in problems] == ["bad_signature"]
    with pytest.raises(ValueError):
        verifier.check_records(intact, keys, signatures="some")


def test_urls_worked_out_once_are_the_urls_reverse_gives():
    from django.urls import reverse
    from django.utils import translation

    from traceability.trace_page import reverse_one

    cases = [
        ("traceability:bundle", "short_code", "Y9M9QCXB"),
        ("traceability:scan-province", "short_code", "Y9M9QCXB"),
        ("traceability:language", "language", "en"),
        ("marketplace:producer", "slug", "ho-ong-nguyen-van-hung"),
        ("traceability:bundle", "short_code", "lô 1.2"),  # not plain: reverse itself
    ]
    for language in ("vi", "en"):
        with translation.override(language):
            for name, kwarg, value in cases:
                assert reverse_one(name, **{kwarg: value}) == reverse(name, kwargs={kwarg: value})
