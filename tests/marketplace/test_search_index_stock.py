"""The search row of a product follows its stock record: rebuilt when price, availability
or producer change, left alone when a sale only allocates stock."""

from unittest import mock

import pytest
from oscar.core.loading import get_model

from marketplace.models import SearchEntry
from marketplace.search import indexing

StockRecord = get_model("partner", "StockRecord")


@pytest.mark.django_db
def test_a_sale_that_leaves_stock_does_not_rebuild_the_row_a_sell_out_does(demo):
    record = StockRecord.objects.get(product__upc="NS0005")
    record.num_in_stock, record.num_allocated = 10, 0
    record.save()
    with mock.patch.object(indexing, "index_products", wraps=indexing.index_products) as rebuild:
        record.allocate(3)  # what order placement does
        assert rebuild.call_count == 0
        assert SearchEntry.objects.get(product_id=record.product_id).in_stock

        record.refresh_from_db()
        record.allocate(7)  # the last ones
        assert rebuild.call_count == 1
        assert not SearchEntry.objects.get(product_id=record.product_id).in_stock

        record.refresh_from_db()
        record.price = record.price + 1000
        record.num_in_stock = 20
        record.save()
        assert rebuild.call_count == 2
        entry = SearchEntry.objects.get(product_id=record.product_id)
        assert entry.in_stock and entry.price == record.price
