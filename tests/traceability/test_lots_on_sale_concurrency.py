"""Concurrent checkouts across lots on sale (PostgreSQL): nothing is oversold, each line
took its whole quantity from lots, first-expiry-first-out, and is linked to a lot it was
sold from; a recall in the middle of it takes what is left of that lot off the stock."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from oscar.apps.order.exceptions import UnableToPlaceOrder
from oscar.core.loading import get_model

from marketplace.catalogue import stock
from marketplace.finance.checks import run_checks
from marketplace.models import BatchAllocation, SaleBatch
from tests.conftest import need
from tests.marketplace.test_no_overselling import basket_for, place
from traceability import recalls, sale
from traceability.models import LineLot

from .conftest import FARMER
from .test_lots_on_sale import DURIAN, new_lot

Line = get_model("order", "Line")
Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")

BUYERS = 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_across_lots_never_oversell_and_link_every_line(django_db_setup):
    need(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://…)")
    farmer = get_user_model().objects.get(email=FARMER)
    lots = [
        new_lot("CC-1", quantity="7", expires_in=5),
        new_lot("CC-2", quantity="9", expires_in=10),
        new_lot("CC-3", quantity="8", expires_in=15),
    ]
    for lot in reversed(lots):
        sale.put_lot_on_sale(lot=lot, by=farmer)
    durian = Product.objects.get(upc=DURIAN)
    User = get_user_model()
    calls = []
    for i in range(BUYERS):
        buyer = User.objects.create_user(username=f"lotbuyer{i}", email=f"lotbuyer{i}@example.com")
        basket = basket_for(buyer, durian, 1 + i % 3)
        calls.append(lambda i=i, buyer=buyer, basket=basket: place(basket, buyer, f"NS-L{i:03d}"))
    calls.append(lambda: recalls.recall_lot(lot=lots[2], by=farmer, reason="Kiểm tra dư lượng"))

    start = threading.Barrier(len(calls))
    refused, errors = [], []

    def run(call):
        try:
            start.wait()
            call()
        except UnableToPlaceOrder as exc:
            refused.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert refused  # 40 buyers of 1 to 3 kg: 24 kg could not serve them all
    lines = list(Line.objects.filter(order__number__startswith="NS-L"))
    sold = sum(line.quantity for line in lines)
    batches = {b.source_id: b for b in SaleBatch.objects.filter(source_id__in=[x.pk for x in lots])}
    assert sold == sum(b.taken for b in batches.values()) <= 24  # never oversold
    by_line = {}
    for allocation in BatchAllocation.objects.filter(line__in=lines).select_related("batch"):
        by_line.setdefault(allocation.line_id, []).append(allocation)
    linked = dict(LineLot.objects.filter(line__in=lines).values_list("line_id", "lot_id"))
    for line in lines:
        taken = by_line[line.pk]
        assert sum(a.quantity for a in taken) == line.quantity
        assert linked[line.pk] in {a.batch.source_id for a in taken}
    # First-expiry-first-out: a later lot was taken from only once the earlier were empty
    # (or recalled).
    first, second, third = (batches[lot.pk] for lot in lots)
    if second.taken:
        assert first.taken == first.quantity
    if third.taken:
        assert second.taken == second.quantity
    assert third.withdrawn_at is not None
    record = StockRecord.objects.get(product=durian)
    assert stock.available(record) == (first.remaining + second.remaining)
    assert run_checks() == []
