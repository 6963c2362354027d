"""Converting pre-orders of a product sold from its lots: the harvest the farmer converts
from (lot B) is what the pre-orders' orders take, lot by lot like any order — not the
lots already on sale to other buyers (lot A) — each line is linked to lot B, what is
left on sale is unchanged, and verify_ledger's lot-stock check still passes."""

import pytest

from marketplace.catalogue import batches, stock
from marketplace.finance.checks import run_checks
from marketplace.models import BatchAllocation, SaleBatch
from marketplace.preorders import services
from tests.marketplace import preorder_world as world
from traceability import sale
from traceability.models import LineLot

from .test_lots_on_sale import FARMER, available, buy, new_lot, record, user

pytestmark = pytest.mark.django_db


def taken_from(order) -> dict:
    return {
        a.batch.label: a.quantity
        for a in BatchAllocation.objects.filter(line__order=order).select_related("batch")
    }


def reconciles():
    problems = run_checks()
    assert problems == [], problems


@pytest.fixture
def on_sale(traces):
    """Durian sold from lot A (6 kg on sale, expiring first), pre-orders for 5 kg in all
    (two buyers, paid on delivery) and lot B harvested for them."""
    farmer = user(FARMER)
    lot_a = new_lot("LO-A", quantity="6", expires_in=10)
    sale.put_lot_on_sale(lot=lot_a, by=farmer)
    win = world.window(farmer, cap=10, deposit_percent=0)
    first, second = world.buyer(), world.buyer()
    p1 = world.preorder(win, first, 3)
    p2 = world.preorder(win, second, 2)
    lot_b = new_lot("LO-B", quantity="40", expires_in=30)
    assert batches.is_lot_sold(record()) and available() == 6
    reconciles()
    return {"farmer": farmer, "window": win, "lot_a": lot_a, "lot_b": lot_b, "preorders": (p1, p2)}


def test_converting_from_a_harvested_lot_takes_from_that_lot_and_keeps_the_lot_stock_true(
    on_sale,
):
    win, lot_b = on_sale["window"], on_sale["lot_b"]
    result = services.convert(window=win, lot_id=lot_b.pk, quantity=5, by=on_sale["farmer"])

    assert [p.converted for p, _order in result.filled] == [3, 2]
    for _preorder, order in result.filled:
        line = order.lines.get()
        # The goods came from lot B (not lot A, which expires first), and the line's
        # trace link is lot B's.
        assert taken_from(order) == {"LO-B": line.quantity}
        assert LineLot.objects.get(line=line).lot_id == lot_b.pk
    # What other buyers can buy is still lot A's 6 kg.
    assert available() == 6
    reconciles()
    # Lot B's batch holds exactly what the pre-orders took: nothing of it is left on sale.
    batch = SaleBatch.objects.get(source_id=lot_b.pk)
    assert batch.quantity == batch.taken == 5 and batch.remaining == 0
    # Other buyers still take from lot A.
    order = buy(2, "PRE-LOT-1")
    assert taken_from(order) == {"LO-A": 2}
    reconciles()
    # The farmer may put the rest of lot B on sale: 40 kg less the 5 the pre-orders took.
    sale.put_lot_on_sale(lot=lot_b, by=on_sale["farmer"])
    assert available() == 4 + 35
    reconciles()


def test_converting_from_the_lot_already_on_sale_takes_from_it(on_sale):
    """The farmer converts from lot A itself, which is on sale: the pre-orders take the
    converted quantity from it on top of what is on sale (the harvest came in)."""
    win, lot_a = on_sale["window"], on_sale["lot_a"]
    result = services.convert(window=win, lot_id=lot_a.pk, quantity=5, by=on_sale["farmer"])

    for _preorder, order in result.filled:
        assert set(taken_from(order)) == {"LO-A"}
        assert LineLot.objects.get(line=order.lines.get()).lot_id == lot_a.pk
    assert available() == 6
    reconciles()


def test_a_product_not_sold_from_lots_converts_as_before(traces):
    """Without lots on sale the harvest enters the typed stock and the lines are linked."""
    farmer = user(FARMER)
    win = world.window(farmer, cap=10, deposit_percent=0)
    world.preorder(win, world.buyer(), 2)
    lot = world.lot_of(win)
    before = record().num_in_stock
    ((_p, order),) = services.convert(window=win, lot_id=lot.pk, quantity=2, by=farmer).filled
    assert not batches.is_lot_sold(record())
    assert record().num_in_stock == before + 2 and stock.available(record()) == before
    assert LineLot.objects.get(line=order.lines.get()).lot_id == lot.pk
    reconciles()
