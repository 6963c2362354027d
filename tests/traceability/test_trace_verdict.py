"""The trace page says "intact" only after verification, and keeps that verdict, with the
log position it was reached at, in its cache: cold ≤ 4 queries, warm none."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext

from traceability import services, transparency
from traceability.models import FarmEvent, Lot, TraceRecord

pytestmark = pytest.mark.django_db


def test_cold_page_verifies_in_four_queries_and_warm_in_none(
    client, traces, django_assert_max_num_queries, django_assert_num_queries
):
    lot = Lot.objects.get(code="DEMO-NS0005")
    url = f"/en/t/{lot.short_code}/"
    with django_assert_max_num_queries(4 + 1) as cold:  # + the scan's INSERT (eager tasks)
        html = client.get(url).content.decode()
    assert 'INSERT INTO "traceability_scan"' in cold.captured_queries[-1]["sql"]
    size = TraceRecord.objects.count()
    assert "Record intact" in html and f"checked against the log of {size} records" in html
    assert f'/minh-bach/lo/{lot.short_code}.json"' in html
    # Another lot grows the log: this lot's verdict still holds, the page stays warm.
    services.record_event(
        lot=Lot.objects.get(code="DEMO-NS0001"),
        by=None,
        kind=FarmEvent.Kind.SHIPPING,
        event_time=timezone.now(),
        details={"carrier": "Bưu điện"},
    )
    with django_assert_num_queries(0 + 1):
        assert client.get(url).content.decode() == html


def test_an_event_of_the_lot_is_verified_before_it_shows(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0005")
    url = f"/en/t/{lot.short_code}/"
    client.get(url)
    services.record_event(
        lot=lot,
        by=None,
        kind=FarmEvent.Kind.SHIPPING,
        event_time=timezone.now(),
        details={"carrier": "Bưu điện", "destination": "Kho Hà Nội"},
    )
    html = client.get(url).content.decode()
    assert "Kho Hà Nội" in html and "Record intact" in html
    size = TraceRecord.objects.count()
    assert f"checked against the log of {size} records" in html


def test_a_verdict_cached_before_tampering_is_dropped_by_verify_traces(client, traces):
    lot = Lot.objects.get(code="DEMO-NS0006")
    url = f"/t/{lot.short_code}/"
    assert gettext("Record intact") in client.get(url).content.decode()
    harvest = lot.events.get(kind=FarmEvent.Kind.HARVEST)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE traceability_farmevent SET details = %s WHERE id = %s",
            ['{"quantity": "1", "unit": "kg"}', harvest.pk],
        )
    # Cached with its head: at most HEAD_TIMEOUT, or until the next check.
    assert gettext("Record intact") in client.get(url).content.decode()
    with pytest.raises(CommandError):
        call_command("verify_traces")
    html = client.get(url).content.decode()
    assert gettext("Record intact") not in html
    assert gettext("Warning: this record has been changed") in html
    assert (
        gettext("Event number %(n)s was changed after it was recorded.") % {"n": harvest.sequence}
        in html
    )


def test_a_broken_log_found_by_the_daily_check_reaches_every_page(client, traces):
    lots = list(Lot.objects.filter(code__in=["DEMO-NS0001", "DEMO-NS0007"]))
    transparency.make_checkpoint()
    for lot in lots:
        assert gettext("Record intact") in client.get(f"/t/{lot.short_code}/").content.decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE traceability_checkpoint SET root_hash = %s", ["00" * 32])
    assert not transparency.verify_log().ok  # the daily task runs it after the checkpoint
    for lot in lots:
        html = client.get(f"/t/{lot.short_code}/").content.decode()
        assert gettext("The marketplace's public log of records was changed.") in html
