"""Each kind of tampering a database administrator could try is caught: by the trace page
(which then does not say "intact"), by `manage.py verify_traces` (which names the lot and
what is wrong) and, for the log, by a checkpoint kept elsewhere. Run on SQLite and on
PostgreSQL (make test runs the suite on both)."""

import base64
import io
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.models import Certificate, ProducerProfile
from traceability import recalls, services, transparency, verifier
from traceability.models import FarmEvent, Lot, TraceRecord, compute_hash, verify_chain

pytestmark = pytest.mark.django_db

INTACT = "Record intact"
CHANGED = "Warning: this record has been changed"


def lot_of(upc):
    return Lot.objects.select_related("product", "producer").get(product__upc=upc)


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def page(client, lot) -> str:
    html = client.get(f"/t/{lot.short_code}/").content.decode()
    if gettext(INTACT) in html:
        return "intact"
    assert gettext(CHANGED) in html
    return "changed"


def verify_traces(*args) -> tuple[str, str]:
    """(printed output, error) of the command; error is "" when it passes."""
    out = io.StringIO()
    try:
        call_command("verify_traces", *args, stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
        return out.getvalue(), str(exc)
    return out.getvalue(), ""


def broken_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("BROKEN")]


def delete_records(records):
    """Raw DELETEs, the records before the events they point at (a foreign key)."""
    for record in records:
        sql("DELETE FROM traceability_tracerecord WHERE id = %s", [record.pk])
        if record.event_id:
            sql("DELETE FROM traceability_farmevent WHERE id = %s", [record.event_id])


def test_untouched_everything_is_intact(traces, client):
    transparency.make_checkpoint()
    output, error = verify_traces()
    assert error == "" and "INTACT  log" in output
    for upc in ("NS0001", "NS0005", "NS0006"):
        assert page(client, lot_of(upc)) == "intact"


def test_a_changed_event_field(traces, client):
    lot = lot_of("NS0006")
    harvest = lot.events.get(kind=FarmEvent.Kind.HARVEST)
    sql(
        "UPDATE traceability_farmevent SET event_time = %s WHERE id = %s",
        [harvest.event_time + timedelta(days=5), harvest.pk],
    )
    assert page(client, lot) == "changed"
    output, error = verify_traces()
    assert f"Event {harvest.sequence} was changed (event_time)" in error
    assert [line for line in broken_lines(output) if "DEMO-NS0006" in line]
    assert len(broken_lines(output)) == 1


def test_a_changed_recorded_at_time(traces, client):
    lot = lot_of("NS0007")
    first = lot.events.get(sequence=1)
    sql(
        "UPDATE traceability_farmevent SET recorded_at = %s WHERE id = %s",
        [first.recorded_at - timedelta(days=30), first.pk],
    )
    assert page(client, lot) == "changed"
    assert "Event 1 was changed (recorded_at)" in verify_traces()[1]


@pytest.mark.parametrize(
    ("column", "value"),
    [("commune_code", 1), ("expiry_date", "2099-01-01"), ("latitude", "10.000000")],
)
def test_a_changed_lot_field(traces, client, column, value):
    lot = lot_of("NS0005")
    sql(f"UPDATE traceability_lot SET {column} = %s WHERE id = %s", [value, lot.pk])
    assert page(client, lot) == "changed"
    output, error = verify_traces()
    assert f"The lot's {column} differ from what was recorded" in error
    assert "DEMO-NS0005" in error


def test_the_lot_moved_to_another_producer(traces, client):
    lot = lot_of("NS0001")
    other = ProducerProfile.objects.exclude(pk=lot.producer_id).first()
    sql("UPDATE traceability_lot SET producer_id = %s WHERE id = %s", [other.pk, lot.pk])
    assert page(client, lot) == "changed"
    assert "The lot's producer differ" in verify_traces()[1]


def test_a_deleted_middle_event(traces, client):
    lot = lot_of("NS0009")
    record = TraceRecord.objects.get(lot=lot, event__sequence=2)
    delete_records([record])
    assert page(client, lot) == "changed"
    output, error = verify_traces()
    assert "DEMO-NS0009" in error and "missing" in error
    assert "BROKEN  log: Records are missing from the log" in output


def test_deleted_last_events_in_the_middle_of_the_log(traces, client):
    lot = lot_of("NS0010")
    last_two = list(TraceRecord.objects.filter(lot=lot, type="event").order_by("-seq")[:2])
    delete_records(last_two)
    # The lot's own chain is whole again (1 … n-2): the log shows the gap.
    assert page(client, lot) == "changed"
    output, error = verify_traces()
    assert "Records are missing from the log" in error


def test_deleted_last_events_at_the_end_of_the_log(traces, client, tmp_path):
    lot = lot_of("NS0001")
    for n in range(2):
        services.record_event(
            lot=lot,
            by=None,
            kind=FarmEvent.Kind.SHIPPING,
            event_time=timezone.now(),
            details={"carrier": f"Xe {n}", "destination": "Hà Nội"},
        )
    checkpoint = transparency.make_checkpoint()  # published: outsiders may keep it
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps(checkpoint.as_json()))
    last_two = list(TraceRecord.objects.filter(lot=lot).order_by("-seq")[:2])
    assert {r.position for r in last_two} == {checkpoint.tree_size - 1, checkpoint.tree_size - 2}
    delete_records(last_two)
    assert page(client, lot) == "changed"
    output, error = verify_traces()
    assert "The log was truncated" in error
    # Even with the stored checkpoints deleted too, the one kept elsewhere catches it.
    sql("DELETE FROM traceability_checkpoint")
    output, error = verify_traces()
    assert error == ""
    output, error = verify_traces("--checkpoint", str(kept))
    assert "The log was truncated" in error


def test_a_deleted_lot_history(traces, client):
    lot = lot_of("NS0013")
    transparency.make_checkpoint()
    delete_records(list(TraceRecord.objects.filter(lot=lot).order_by("-seq")))
    assert not lot.events.exists() and not lot.records.exists()
    assert page(client, lot) == "changed"
    output, error = verify_traces()
    assert "DEMO-NS0013" in error and "signed history was deleted" in error


def test_a_deleted_recall(traces, client):
    lot = lot_of("NS0002")
    recalls.recall_lot(lot=lot, by=None, reason="Nhiễm nấm mốc")
    assert page(client, lot) == "intact"
    sql(
        "DELETE FROM traceability_recallnotice WHERE recall_id IN "
        "(SELECT id FROM traceability_recall WHERE lot_id = %s)",
        [lot.pk],
    )
    sql("DELETE FROM traceability_recall WHERE lot_id = %s", [lot.pk])
    # The page cached before is dropped by the check (run daily, or by an inspector).
    assert "The lot's recall was removed" in verify_traces()[1]
    html = client.get(f"/t/{lot.short_code}/").content.decode()
    assert gettext(INTACT) not in html and gettext(CHANGED) in html


def test_a_changed_recall_reason(traces, client):
    lot = lot_of("NS0011")
    recalls.recall_lot(lot=lot, by=None, reason="Nhiễm nấm mốc")
    sql("UPDATE traceability_recall SET reason = %s WHERE lot_id = %s", ["Đổi bao bì", lot.pk])
    assert page(client, lot) == "changed"
    assert "The lot's recall was changed" in verify_traces()[1]


def test_a_changed_certificate_validity(traces, client):
    lot = lot_of("NS0005")
    snapshot = [r for r in lot.records.order_by("seq") if r.type == "certificates"][-1]
    data = json.loads(snapshot.body)["data"]
    assert data["certificates"], "the demo lot has certificates valid at harvest"
    certificate = Certificate.objects.get(pk=data["certificates"][0]["id"])
    signed_until = certificate.valid_until
    sql(
        "UPDATE marketplace_certificate SET valid_until = %s WHERE id = %s",
        [signed_until + timedelta(days=3 * 365), certificate.pk],
    )
    html = client.get(f"/t/{lot.short_code}/").content.decode()
    assert gettext(CHANGED) in html
    assert signed_until.strftime("%d/%m/%Y") in html  # the page shows what was signed
    assert f"Certificate {certificate.number} was changed" in verify_traces()[1]


def test_a_re_hashed_chain(traces, client):
    """The old unkeyed chain could be recomputed after a rewrite; the records cannot be
    re-signed without the key, even with their bodies and links rewritten."""
    lot = lot_of("NS0007")
    harvest = lot.events.get(kind=FarmEvent.Kind.HARVEST)
    details = {**harvest.details, "quantity": "9999"}
    sql(
        "UPDATE traceability_farmevent SET details = %s WHERE id = %s",
        [json.dumps(details), harvest.pk],
    )
    previous = None
    for event in FarmEvent.objects.filter(lot=lot).order_by("sequence"):
        if event.sequence >= harvest.sequence:
            event.previous_hash = previous.hash
            event.hash = compute_hash(event, lot=lot)
            sql(
                "UPDATE traceability_farmevent SET previous_hash = %s, hash = %s WHERE id = %s",
                [event.previous_hash, event.hash, event.pk],
            )
        previous = event
    assert verify_chain(lot) == (True, None)  # the old check is fooled
    # Rewrite the signed records too, as the documented algorithm would (no key).
    prev = verifier.ZERO_HASH
    events = {e.pk: e for e in FarmEvent.objects.filter(lot=lot)}
    for record in TraceRecord.objects.filter(lot=lot).order_by("seq"):
        body = json.loads(record.body)
        body["prev"] = prev
        if record.event_id:
            event = events[record.event_id]
            corrects = events[event.corrects_id].hash if event.corrects_id else None
            body["data"] = transparency.event_data(event, lot=lot, corrects_hash=corrects)
        text = verifier.canonical(body).decode("utf-8")
        prev = verifier.sha256_hex(text.encode("utf-8"))
        sql(
            "UPDATE traceability_tracerecord SET body = %s, hash = %s WHERE id = %s",
            [text, prev, record.pk],
        )
    assert page(client, lot) == "changed"
    error = verify_traces()[1]
    assert "DEMO-NS0007" in error and "the signature is not the marketplace's" in error


def test_a_replaced_signature(traces, client):
    lot = lot_of("NS0008")
    record = lot.records.filter(type="event").order_by("seq")[1]
    body = json.loads(record.body)
    body["data"]["details"] = {**body["data"]["details"], "notes": "đã sửa"}
    text = verifier.canonical(body)
    forger = ed25519.Ed25519PrivateKey.generate()
    signature = base64.b64encode(forger.sign(verifier.record_message(text))).decode()
    for key_id in (record.key_id, verifier.key_id(forger.public_key())):
        sql(
            "UPDATE traceability_tracerecord SET body = %s, key_id = %s, signature = %s "
            "WHERE id = %s",
            [text.decode("utf-8"), key_id, signature, record.pk],
        )
        assert page(client, lot) == "changed"
        assert "the signature is not the marketplace's" in verify_traces()[1]
        from django.core.cache import cache

        cache.clear()


def test_a_forked_log(traces, client, tmp_path):
    """The log rewritten (two records swapped), old checkpoints deleted and a new one
    signed over the rewrite: consistent with itself, caught by a checkpoint kept earlier."""
    kept = tmp_path / "kept.json"
    first = transparency.make_checkpoint()
    kept.write_text(json.dumps(first.as_json()))
    a, b = TraceRecord.objects.filter(position__in=[3, 40]).order_by("position")
    sql("UPDATE traceability_tracerecord SET position = %s WHERE id = %s", [10**9, a.pk])
    sql("UPDATE traceability_tracerecord SET position = %s WHERE id = %s", [a.position, b.pk])
    sql("UPDATE traceability_tracerecord SET position = %s WHERE id = %s", [b.position, a.pk])
    # While the signed checkpoint is stored, the rewrite shows at once.
    assert "The log was rewritten" in verify_traces()[1]
    sql("DELETE FROM traceability_checkpoint")
    transparency.make_checkpoint()
    assert verify_traces()[1] == ""
    assert "The log was rewritten" in verify_traces("--checkpoint", str(kept))[1]
    # An outside verifier holding the earlier checkpoint sees it too.
    lot = Lot.objects.get(pk=a.lot_id)
    bundle = client.get(f"/minh-bach/lo/{lot.short_code}.json?tu={first.tree_size}").json()
    keys = {verifier.key_id(k): k for k in verifier_keys()}
    problems = verifier.check_bundle(bundle, keys, earlier=first.as_json())
    assert [p.code for p in problems] == ["log_forked"]


def verifier_keys():
    from traceability import signing

    return list(signing.trusted_keys().values())


def test_a_renamed_producer_does_not_change_what_the_page_states(traces, client):
    """Names are stated as the lot's signed record has them: renaming the shop in the
    database (legitimately or not) does not make the page name another cooperative."""
    lot = lot_of("NS0005")
    sql("UPDATE partner_partner SET name = %s WHERE id = %s", ["HTX Giả", lot.producer.partner_id])
    html = client.get(f"/t/{lot.short_code}/").content.decode()
    assert gettext(INTACT) in html
    assert "Hộ ông Nguyễn Văn Hùng" in html and "HTX Giả" not in html
