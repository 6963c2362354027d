"""Signals that keep SearchEntry in sync on save (see marketplace.search.indexing).

Set `indexing.paused()` around bulk loads and call index_products once at the end.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

from marketplace.catalogue import stock
from marketplace.models import Certificate, ProducerProfile, ProductListing, SearchEntry
from marketplace.search import indexing
from marketplace.search.listing import catalogue_changed

Category = get_model("catalogue", "Category")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
StockRecord = get_model("partner", "StockRecord")

_paused: ContextVar[bool] = ContextVar("nongsan_indexing_paused", default=False)


@contextmanager
def paused():
    token = _paused.set(True)
    try:
        yield
    finally:
        _paused.reset(token)


def _reindex(*product_ids):
    if not _paused.get():
        indexing.index_products(product_ids)


@receiver(post_save, sender=Product)
def product_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        _reindex(instance.pk)


def _indexed_now(record) -> tuple:
    """What the search row holds of a stock record: its price, whether it is in stock, its
    producer."""
    return (record.price, (record.net_stock_level or 0) > 0, record.partner_id)


@receiver(post_save, sender=StockRecord)
def stock_record_saved(sender, instance, raw=False, **kwargs):
    """Placing an order saves the stock records it allocates: rebuild the search row only
    when what it holds of the record (price, in stock, producer) changed — not for every
    sale, which would rewrite a popular product's row under the order's stock lock. The
    records of one reservation are compared together (``stock_records_saved``)."""
    if raw or not instance.product_id or _paused.get() or stock.saved_together():
        return
    indexed = (
        SearchEntry.objects.filter(product_id=instance.product_id)
        .values_list("price", "in_stock", "producer__partner_id")
        .first()
    )
    if indexed is None or tuple(indexed) != _indexed_now(instance):
        _reindex(instance.product_id)


@stock.on_saved_together
def stock_records_saved(records):
    """``stock_record_saved`` for the stock records an order's reservation saved together:
    their search rows read in one query, for those records only that the reservation left
    with nothing to sell (a reservation changes only the allocation: price and producer
    stay, and a record with some left was in stock before it too)."""
    records = [
        record for record in records if record.product_id and (record.net_stock_level or 0) <= 0
    ]
    if not records or _paused.get():
        return
    indexed = {
        product_id: (price, in_stock, partner_id)
        for product_id, price, in_stock, partner_id in SearchEntry.objects.filter(
            product_id__in={record.product_id for record in records}
        ).values_list("product_id", "price", "in_stock", "producer__partner_id")
    }
    changed = [
        record.product_id
        for record in records
        if indexed.get(record.product_id) != _indexed_now(record)
    ]
    if changed:
        _reindex(*changed)


@receiver(post_delete, sender=StockRecord)
@receiver([post_save, post_delete], sender=ProductCategory)
@receiver([post_save, post_delete], sender=ProductImage)
@receiver([post_save, post_delete], sender=ProductListing)
def product_part_changed(sender, instance, raw=False, **kwargs):
    if not raw and instance.product_id:
        _reindex(instance.product_id)


@receiver(post_save, sender=ProducerProfile)
def producer_saved(sender, instance, raw=False, **kwargs):
    if not raw and not _paused.get():
        indexing.index_producer(instance.pk)


@receiver([post_save, post_delete], sender=Certificate)
def certificate_saved(sender, instance, raw=False, **kwargs):
    if not raw and not _paused.get():
        indexing.index_producer(instance.producer_id)


@receiver(m2m_changed, sender=Certificate.products.through)
def certificate_products_changed(sender, instance, action, pk_set, **kwargs):
    if action.startswith("post_") and not _paused.get():
        if isinstance(instance, Certificate):
            indexing.index_producer(instance.producer_id)
        else:
            _reindex(instance.pk)


@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=Partner)
@receiver([post_save, post_delete], sender=ProducerProfile)
def listing_names_changed(sender, instance, raw=False, **kwargs):
    """The category and producer names a listing's facets show: the listings kept are
    forgotten (listing.catalogue_changed)."""
    catalogue_changed()
