"""The farm-event hash chain: append-only events, corrections, tamper detection."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext
from oscar.core.loading import get_model

from traceability import services
from traceability.models import (
    ZERO_HASH,
    FarmEvent,
    ImmutableEventError,
    Lot,
    canonical_bytes,
    compute_hash,
    verify_chain,
)

Product = get_model("catalogue", "Product")
pytestmark = pytest.mark.django_db


def lot_of(upc):
    return Lot.objects.select_related("product", "producer").get(product__upc=upc)


def tamper(event, sql_set, params):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE traceability_farmevent SET {sql_set} WHERE id = %s", [*params, event.pk]
        )


def test_events_chain_from_zero_with_consecutive_sequences(traces):
    lot = lot_of("NS0001")
    events = list(lot.events.order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].previous_hash == ZERO_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.previous_hash == before.hash
    for event in events:
        assert len(event.hash) == 64 and event.hash == compute_hash(event)
    assert verify_chain(lot) == (True, None)


def test_canonical_form_is_sorted_compact_json_in_utc(traces):
    event = lot_of("NS0001").events.order_by("sequence").first()
    text = canonical_bytes(event).decode("utf-8")
    assert text.startswith('{"commune_code":')
    assert '{"code":"DEMO-NS0001","product":' in text  # nested keys sorted, no spaces
    assert '"event_time":"' in text and 'Z"' in text
    assert '"v":1' in text
    assert "Cây ra hoa" in text  # non-ASCII kept as is


def test_raw_sql_edit_breaks_the_chain_page_and_command(traces, client):
    tampered, intact = lot_of("NS0006"), lot_of("NS0007")
    harvest = tampered.events.get(kind=FarmEvent.Kind.HARVEST)
    tamper(harvest, "details = %s", ['{"quantity": "9999", "unit": "kg"}'])

    assert verify_chain(tampered) == (False, harvest.sequence)
    assert verify_chain(intact) == (True, None)

    # The page speaks Vietnamese ("Hồ sơ nguyên vẹn" once the catalogue has it).
    intact_text = gettext("Record intact")
    html = client.get(f"/t/{tampered.short_code}/").content.decode()
    assert intact_text not in html
    assert gettext("Warning: this record has been changed") in html
    assert intact_text in client.get(f"/t/{intact.short_code}/").content.decode()

    out = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_traces", stdout=out)
    assert info.value.returncode == 1
    assert "DEMO-NS0006" in str(info.value)
    assert "DEMO-NS0007" not in str(info.value)
    printed = out.getvalue()
    assert "BROKEN  lot DEMO-NS0006" in printed and "OK      lot DEMO-NS0007" in printed


def test_a_deleted_or_reordered_row_is_caught_too(traces):
    lot = lot_of("NS0009")
    second = lot.events.get(sequence=2)
    with connection.cursor() as cursor:  # its signed record first (a foreign key)
        cursor.execute("DELETE FROM traceability_tracerecord WHERE event_id = %s", [second.pk])
        cursor.execute("DELETE FROM traceability_farmevent WHERE id = %s", [second.pk])
    assert verify_chain(lot) == (False, 3)

    other = lot_of("NS0010")
    first = other.events.get(sequence=1)
    tamper(first, "event_time = %s", [first.event_time - timedelta(days=1)])
    assert verify_chain(other) == (False, 1)


def test_verify_traces_prints_every_lot_and_passes_when_intact(traces, capsys):
    call_command("verify_traces")
    out = capsys.readouterr().out
    assert out.count("OK ") == Lot.objects.count()
    assert "all intact" in out


def test_events_cannot_be_updated_or_deleted(traces):
    event = lot_of("NS0001").events.first()
    event.details = {"notes": "changed"}
    with pytest.raises(ImmutableEventError):
        event.save()
    with pytest.raises(ImmutableEventError):
        event.delete()
    with pytest.raises(ImmutableEventError):
        FarmEvent.objects.filter(pk=event.pk).update(details={})
    with pytest.raises(ImmutableEventError):
        FarmEvent.objects.filter(pk=event.pk).delete()
    assert FarmEvent.objects.get(pk=event.pk).details != {"notes": "changed"}


def test_a_correction_points_at_the_original_and_both_are_shown(traces, client):
    lot = lot_of("NS0005")
    harvest = lot.events.get(kind=FarmEvent.Kind.HARVEST)
    correction = harvest.corrections.get()
    assert correction.kind == FarmEvent.Kind.CORRECTION
    assert correction.corrects == harvest
    assert correction.details["quantity"] == "820"
    assert verify_chain(lot) == (True, None)
    html = client.get(f"/t/{lot.short_code}/").content.decode()
    assert "850 kg" in html and "820" in html  # original and correction
    assert gettext("Corrected by") in html and 'class="corrected"' in html
    assert "Cân lại sau khi loại trái non" in html


def test_a_correction_must_name_an_event_of_the_same_lot(traces):
    lot, other = lot_of("NS0001"), lot_of("NS0002")
    before = other.events.count()
    with pytest.raises(ValidationError) as info:
        services.record_event(
            lot=other,
            by=None,
            kind=FarmEvent.Kind.CORRECTION,
            event_time=timezone.now(),
            corrects=lot.events.first(),
            details={"reason": "sai"},
        )
    assert "corrects" in info.value.message_dict
    with pytest.raises(ValidationError):
        services.record_event(
            lot=other, by=None, kind=FarmEvent.Kind.CORRECTION, event_time=timezone.now()
        )
    assert other.events.count() == before


@pytest.mark.parametrize(
    ("kind", "details", "field"),
    [
        (
            "input_applied",
            {"dose": "1", "applied_on": "2026-01-01", "pre_harvest_interval_days": 7},
            "product_name",
        ),
        (
            "input_applied",
            {"product_name": "X", "applied_on": "2026-01-01", "pre_harvest_interval_days": 7},
            "dose",
        ),
        (
            "input_applied",
            {"product_name": "X", "dose": "1", "pre_harvest_interval_days": 7},
            "applied_on",
        ),
        (
            "input_applied",
            {"product_name": "X", "dose": "1", "applied_on": "2026-01-01"},
            "pre_harvest_interval_days",
        ),
        (
            "input_applied",
            {
                "product_name": "X",
                "dose": "1",
                "applied_on": "2026-01-01",
                "pre_harvest_interval_days": -1,
            },
            "pre_harvest_interval_days",
        ),
        (
            "input_applied",
            {
                "product_name": "X",
                "dose": "abc",
                "applied_on": "2026-01-01",
                "pre_harvest_interval_days": 1,
            },
            "dose",
        ),
        (
            "input_applied",
            {
                "product_name": "X",
                "dose": "1",
                "applied_on": "hôm qua",
                "pre_harvest_interval_days": 1,
            },
            "applied_on",
        ),
        ("harvest", {}, "quantity"),
        ("harvest", {"quantity": "0"}, "quantity"),
        ("harvest", {"quantity": "-5"}, "quantity"),
        ("harvest", {"quantity": "5", "colour": "red"}, "details"),
    ],
)
def test_details_are_validated_per_kind_and_nothing_is_saved(traces, kind, details, field):
    lot = lot_of("NS0001")
    before = lot.events.count()
    with pytest.raises(ValidationError) as info:
        services.record_event(
            lot=lot, by=None, kind=kind, event_time=timezone.now(), details=details
        )
    assert field in info.value.message_dict
    assert lot.events.count() == before


def test_record_event_appends_at_the_end_of_the_chain(traces):
    lot = lot_of("NS0001")
    last = lot.events.order_by("-sequence").first()
    event = services.record_event(
        lot=lot,
        by=None,
        kind="shipping",
        event_time=timezone.now(),
        details={"carrier": "Bưu điện", "destination": "Hà Nội"},
    )
    assert event.sequence == last.sequence + 1
    assert event.previous_hash == last.hash
    assert event.event_timezone == "+07:00"
    assert verify_chain(lot) == (True, None)
    with pytest.raises(ValidationError):
        services.record_event(
            lot=lot,
            by=None,
            kind="harvest",
            event_time=timezone.now() + timedelta(days=3),
            details={"quantity": "1"},
        )


def test_pre_harvest_status_flags_only_the_violating_lot(traces):
    statuses = {
        upc: services.pre_harvest_status(lot_of(upc)) for upc in ("NS0005", "NS0006", "NS0001")
    }
    bad = [s for s in statuses["NS0006"] if s.ok is False]
    assert len(bad) == 1
    assert bad[0].product_name == "Abamectin 1.8EC"
    assert bad[0].days == 3 and bad[0].interval_days == 7
    assert bad[0].harvest_event.kind == "harvest"
    assert all(s.ok for s in statuses["NS0005"]) and statuses["NS0005"]
    assert all(s.ok for s in statuses["NS0001"]) and statuses["NS0001"]


def test_create_lot_checks_the_producer_sells_the_product(traces):
    lot = lot_of("NS0005")
    other_product = Product.objects.get(upc="NS0009")  # Chư Sê's pepper
    count = Lot.objects.count()
    kwargs = {
        "producer": lot.producer,
        "by": None,
        "quantity": Decimal("10"),
        "unit": "kg",
        "province_code": lot.producer.province_code,
        "commune_code": lot.producer.commune_code,
    }
    with pytest.raises(ValidationError) as info:
        services.create_lot(product=other_product, **kwargs)
    assert "product" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.create_lot(product=lot.product, code="DEMO-NS0005", **kwargs)
    assert "code" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.create_lot(product=lot.product, code="LÔ 1", **kwargs)
    assert "code" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.create_lot(product=lot.product, **{**kwargs, "commune_code": 26734})
    assert "commune_code" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.create_lot(
            product=lot.product, latitude=Decimal("91"), longitude=Decimal("1"), **kwargs
        )
    assert "latitude" in info.value.message_dict
    today = timezone.localdate()
    with pytest.raises(ValidationError) as info:
        services.create_lot(product=lot.product, production_date=today, expiry_date=today, **kwargs)
    assert "expiry_date" in info.value.message_dict
    assert Lot.objects.count() == count

    made = services.create_lot(product=lot.product, production_date=today, **kwargs)
    assert made.code.startswith("L" + today.strftime("%y%m%d")) and len(made.code) == 11
    assert 8 <= len(made.short_code) <= 10
    assert not set(made.short_code) & set("01OIL")
