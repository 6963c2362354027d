"""Concurrent appends to one lot get consecutive sequences and one unbroken chain (the
lot row is locked), and appends to several lots take consecutive positions in the
transparency log (an advisory lock). Needs PostgreSQL: SQLite serialises writers anyway."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone
from oscar.core.loading import get_model

from marketplace.core import geo
from marketplace.shops.services import open_producer_shop
from traceability import integrity, services, transparency
from traceability.models import TraceRecord, verify_chain

from ..conftest import need

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_get_consecutive_sequences():
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    commune = geo.find_commune(66, "Krông Pắc")
    partner = open_producer_shop(
        name="Hộ thử đồng thời", kind="household", province_code=66, commune_code=commune
    )
    pclass = ProductClass.objects.create(name="Thử")
    product = Product.objects.create(title="Bơ thử", product_class=pclass, upc="TEST-CONC")
    StockRecord.objects.create(
        product=product, partner=partner, partner_sku="T1", price=Decimal(1000), num_in_stock=1
    )
    lot = services.create_lot(
        product=product,
        producer=partner.producer_profile,
        by=None,
        quantity=Decimal("5"),
        unit="kg",
        province_code=66,
        commune_code=commune,
    )
    other = services.create_lot(
        product=product,
        producer=partner.producer_profile,
        by=None,
        quantity=Decimal("3"),
        unit="kg",
        province_code=66,
        commune_code=commune,
    )
    errors = []
    start = threading.Barrier(10)

    def append(i):
        try:
            start.wait()
            services.record_event(
                lot=lot,
                by=None,
                kind="growing_note",
                event_time=timezone.now(),
                details={"notes": f"ghi chép {i}"},
            )
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    def append_other(i):
        try:
            start.wait()
            services.record_event(
                lot=other,
                by=None,
                kind="growing_note",
                event_time=timezone.now(),
                details={"notes": f"lô khác {i}"},
            )
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(i,)) for i in range(6)]
    threads += [threading.Thread(target=append_other, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(lot.events.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    assert verify_chain(lot) == (True, None)
    # One log, no gap, every record signed and chained in its lot.
    positions = list(TraceRecord.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(len(positions)))
    assert transparency.verify_log().ok
    for each in (lot, other):
        records = integrity.load_records(each)
        verdict = integrity.verify_lot(
            each,
            records=records,
            events=list(each.events.all()),
            certificates=integrity.snapshot_certificates(records),
        )
        assert verdict.state == integrity.INTACT, verdict.problems
    assert other.records.filter(type="event").count() == 4
