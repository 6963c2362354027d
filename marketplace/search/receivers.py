"""Signals that keep SearchEntry in sync on save (see marketplace.search.indexing).

Set `indexing.paused()` around bulk loads and call index_products once at the end.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from oscar.core.loading import get_model

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


@receiver(post_save, sender=StockRecord)
def stock_record_saved(sender, instance, raw=False, **kwargs):
    """Placing an order saves the stock records it allocates: rebuild the search row only
    when what it holds of the record (price, in stock, producer) changed — not for every
    sale, which would rewrite a popular product's row under the order's stock lock."""
    if raw or not instance.product_id or _paused.get():
        return
    indexed = (
        SearchEntry.objects.filter(product_id=instance.product_id)
        .values_list("price", "in_stock", "producer__partner_id")
        .first()
    )
    now = (instance.price, (instance.net_stock_level or 0) > 0, instance.partner_id)
    if indexed is None or tuple(indexed) != now:
        _reindex(instance.product_id)


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
