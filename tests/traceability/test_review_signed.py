"""The operator's safety review is signed into the transparency log: "record intact"
covers it, a decision changed in the database is caught, and a review made before
reviews were recorded is sealed."""

import pytest
from django.core.cache import cache

from traceability import integrity, safety, selectors, services, signing, transparency, verifier
from traceability.models import Lot, SafetyReview, TraceRecord
from traceability.views import load_evidence

from .conftest import OPERATOR

pytestmark = pytest.mark.django_db

NOTE = "Mẫu kiểm nghiệm dư lượng đạt QCVN 8-3:2012/BYT"


def verdict(pk):
    cache.clear()
    lot = selectors.page_lot(pk=pk)
    return load_evidence(lot).verdict


@pytest.fixture
def operator(django_user_model, traces):
    return django_user_model.objects.get(email=OPERATOR)


@pytest.mark.parametrize("decision", [SafetyReview.CLEARED, SafetyReview.REFUSED])
def test_the_review_is_a_signed_record_and_the_lot_stays_intact(operator, decision):
    pending = Lot.objects.get(code="DEMO-NS0006")  # the demo's pre-harvest breach
    assert pending.safety_review == SafetyReview.PENDING
    assert verdict(pending.pk).state == integrity.INTACT
    reviewed = safety.review_lot(lot=pending, by=operator, decision=decision, note=NOTE)

    record = TraceRecord.objects.get(lot=pending, type=TraceRecord.Type.REVIEW)
    body = verifier.parse_body(record.body)
    assert body["data"] == {
        "decision": decision,
        "note": NOTE,
        "reviewed_at": transparency.review_data(reviewed)["reviewed_at"],
        "reviewed_by": operator.pk,
    }
    assert verdict(pending.pk).state == integrity.INTACT
    # Anyone holding the lot's proof bundle can check the signed review, offline.
    bundle = transparency.lot_bundle(lot=pending)
    assert verifier.check_bundle(bundle, signing.trusted_keys()) == []
    assert any("safety review " + decision in line for line in verifier.summary(bundle["records"]))


def test_a_decision_changed_in_the_database_is_caught(operator):
    pending = Lot.objects.get(code="DEMO-NS0006")
    safety.review_lot(lot=pending, by=operator, decision=SafetyReview.REFUSED, note=NOTE)
    # Someone with database access turns the refusal into a clearance.
    Lot.objects.filter(pk=pending.pk).update(safety_review=SafetyReview.CLEARED)
    found = verdict(pending.pk)
    assert found.state == integrity.CHANGED
    assert [p.code for p in found.problems] == ["review_changed"]
    Lot.objects.filter(pk=pending.pk).update(
        safety_review=SafetyReview.REFUSED, safety_review_note="ok"
    )
    assert [p.code for p in verdict(pending.pk).problems] == ["review_changed"]


def test_a_decision_never_recorded_is_caught_then_sealed(operator):
    pending = Lot.objects.get(code="DEMO-NS0006")
    # A clearance written straight into the row (or before reviews were recorded).
    Lot.objects.filter(pk=pending.pk).update(
        safety_review=SafetyReview.CLEARED,
        safety_review_note=NOTE,
        safety_reviewed_by=operator,
    )
    found = verdict(pending.pk)
    assert found.state == integrity.CHANGED
    assert [p.code for p in found.problems] == ["review_unrecorded"]
    assert services.seal_unrecorded() == 1
    assert services.seal_unrecorded() == 0
    assert verdict(pending.pk).state == integrity.INTACT
