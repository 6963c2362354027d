"""When stock is reserved, consumed and released: marketplace.catalogue.stock, the one place."""

import random

import pytest
from django.utils import translation
from oscar.core.loading import get_model

from marketplace.catalogue import stock

Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")


def make_record(num_in_stock=10, *, track_stock=True, sku="SKU-1"):
    kind, _created = ProductClass.objects.get_or_create(
        name=f"Nông sản {track_stock}", defaults={"track_stock": track_stock}
    )
    product = Product.objects.create(title=f"Sầu riêng {sku}", product_class=kind)
    partner, _created = Partner.objects.get_or_create(name="HTX Thử")
    return StockRecord.objects.create(
        product=product,
        partner=partner,
        partner_sku=sku,
        price=120000,
        num_in_stock=num_in_stock,
    )


def levels(record):
    record.refresh_from_db()
    return record.num_in_stock, record.num_allocated or 0


@pytest.mark.django_db
def test_reserve_consume_release_move_the_two_counters_as_oscar_does():
    record = make_record(10)
    stock.reserve(stockrecord=record, quantity=3)
    assert levels(record) == (10, 3)
    stock.consume(stockrecord=record, quantity=2)  # two leave with the post office
    assert levels(record) == (8, 1)
    stock.release(stockrecord=record, quantity=1)  # the last one is cancelled
    assert levels(record) == (8, 0)
    assert stock.available(record) == 8


@pytest.mark.django_db
def test_the_callers_instance_is_brought_up_to_date():
    record = make_record(5)
    stock.reserve(stockrecord=record, quantity=2)
    assert (record.num_in_stock, record.num_allocated) == (5, 2)
    stock.reserve(stockrecord=record.pk, quantity=1)  # a primary key is enough
    assert levels(record) == (5, 3)


@pytest.mark.django_db
def test_no_more_is_reserved_than_is_left():
    record = make_record(3)
    stock.reserve(stockrecord=record, quantity=2)
    with translation.override("en"):
        with pytest.raises(stock.StockError, match="Only 1 of"):
            stock.reserve(stockrecord=record, quantity=2)
        stock.reserve(stockrecord=record, quantity=1)
        with pytest.raises(stock.StockError, match="sold out"):
            stock.reserve(stockrecord=record, quantity=1)
    assert levels(record) == (3, 3)


@pytest.mark.django_db
def test_what_was_not_reserved_cannot_be_consumed():
    record = make_record(10)
    stock.reserve(stockrecord=record, quantity=1)
    with pytest.raises(stock.StockError):
        stock.consume(stockrecord=record, quantity=2)
    assert levels(record) == (10, 1)


@pytest.mark.django_db
def test_releasing_more_than_was_reserved_stops_at_zero():
    record = make_record(10)
    stock.reserve(stockrecord=record, quantity=2)
    stock.release(stockrecord=record, quantity=5)
    assert levels(record) == (10, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "2", None])
def test_quantities_are_positive_whole_numbers(quantity):
    record = make_record(10)
    for move in (stock.reserve, stock.consume, stock.release):
        with pytest.raises(stock.StockError):
            move(stockrecord=record, quantity=quantity)
    assert levels(record) == (10, 0)


@pytest.mark.django_db
def test_products_that_do_not_track_stock_are_left_alone():
    record = make_record(1, track_stock=False)
    stock.reserve(stockrecord=record, quantity=5)
    stock.consume(stockrecord=record, quantity=5)
    stock.release(stockrecord=record, quantity=5)
    assert levels(record) == (1, 0)


@pytest.mark.django_db
def test_an_orders_lines_are_reserved_together_or_not_at_all():
    """reserve_lines (placing an order): the records are locked in one query, what each is
    asked for in all is checked before anything is reserved, the callers' instances are
    brought up to date, the allocations written in one UPDATE; no product alert is looked
    for (an allocation lowers the stock), the low-stock alerts and the search rows of all
    the records read in one query each."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    first, second = make_record(5, sku="SKU-A"), make_record(2, sku="SKU-B")
    with CaptureQueriesContext(connection) as queries:
        stock.reserve_lines([(second, 1, None), (first, 2, None), (first, 1, None)])
    sql = [query["sql"] for query in queries.captured_queries]
    by_id = 'WHERE "partner_stockrecord"."id"'  # not the search index's reads by product
    reads = [q for q in sql if q.startswith("SELECT") and by_id in q]
    assert len(reads) == 1  # locked together, never read back
    assert sum(q.startswith('UPDATE "partner_stockrecord"') for q in sql) == 1
    assert not [q for q in sql if "customer_productalert" in q]
    assert sum(q.startswith("SELECT") and '"partner_stockalert"' in q for q in sql) == 1
    assert sum(q.startswith("SELECT") and '"marketplace_searchentry"' in q for q in sql) <= 1
    assert levels(first) == (5, 3) and levels(second) == (2, 1)
    assert (first.num_allocated, second.num_allocated) == (3, 1)
    with (
        translation.override("en"),
        pytest.raises(stock.StockError, match="Only 2 of"),
        transaction.atomic(),
    ):
        stock.reserve_lines([(first, 2, None), (second, 1, None), (first, 1, None)])
    assert levels(first) == (5, 3) and levels(second) == (2, 1)  # nothing reserved


@pytest.mark.django_db
def test_an_orders_reservation_keeps_oscars_low_stock_alerts():
    """Reserved together, each record opens a low-stock alert once below its threshold and
    closes its open one once above it, as Oscar's receiver does for a record saved alone."""
    StockAlert = get_model("partner", "StockAlert")
    low, plenty = make_record(5, sku="SKU-LOW"), make_record(50, sku="SKU-PLENTY")
    low.low_stock_threshold = 3
    low.save()
    plenty.low_stock_threshold = 10
    plenty.save()
    StockAlert.objects.create(stockrecord=plenty, threshold=10)  # left open by hand
    stock.reserve_lines([(low, 3, None), (plenty, 1, None)])
    alert = StockAlert.objects.get(stockrecord=low)
    assert (alert.status, alert.threshold) == (StockAlert.OPEN, 3)
    assert StockAlert.objects.get(stockrecord=plenty).status == StockAlert.CLOSED
    stock.reserve_lines([(low, 1, None)])  # still below: the same alert stays open
    assert StockAlert.objects.filter(stockrecord=low, status=StockAlert.OPEN).count() == 1


@pytest.mark.django_db
def test_the_arguments_are_keyword_only():
    record = make_record(10)
    with pytest.raises(TypeError):
        stock.reserve(record, 1)  # positional on purpose


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(12))
def test_any_sequence_of_moves_keeps_the_counters_consistent(seed):
    """A property test over random sequences (hypothesis is not a dependency of this
    project, so the sequences come from seeded random generators): after every move,
    refused or not, 0 <= num_allocated <= num_in_stock, and the counters equal a model
    of what should have happened."""
    rng = random.Random(seed)
    start = rng.randint(0, 8)
    record = make_record(start, sku=f"SKU-{seed}")
    in_stock, allocated = start, 0
    for _step in range(40):
        move = rng.choice(["reserve", "consume", "release"])
        quantity = rng.randint(1, 4)
        try:
            getattr(stock, move)(stockrecord=record, quantity=quantity)
        except stock.StockError:
            refused = True
        else:
            refused = False
        if move == "reserve":
            assert refused == (quantity > in_stock - allocated)
            if not refused:
                allocated += quantity
        elif move == "consume":
            assert refused == (quantity > min(allocated, in_stock))
            if not refused:
                allocated -= quantity
                in_stock -= quantity
        else:
            assert not refused
            allocated -= min(allocated, quantity)
        assert levels(record) == (in_stock, allocated)
        assert 0 <= allocated <= in_stock
