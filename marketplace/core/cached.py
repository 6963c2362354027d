"""A value read from a few tables that every request needs and the operator rarely changes:
kept in Django's cache (shared by the workers where REDIS_URL is set) and forgotten whenever
a row of those tables is saved or deleted; with the in-process cache of development another
worker reads it again within `keep` seconds. Used for the delivery rates
(marketplace.fulfilment.shipping), whether any offer or voucher exists
(marketplace.payments.offers), whether any product option exists
(marketplace.payments.basket_add) and the marketplace settings
(marketplace.site_settings.models)."""

from collections.abc import Callable

from django.apps import apps
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save


class CachedUntilChanged:
    def __init__(self, key: str, read: Callable, *, models: tuple[str, ...], keep: int = 300):
        self.key, self.read, self.models, self.keep = key, read, models, keep

    def get(self):
        value = cache.get(self.key)
        if value is None:
            value = self.read()
            cache.set(self.key, value, self.keep)
        return value

    def forget(self, **kwargs):
        cache.delete(self.key)

    def install(self):
        """Forget the value whenever a row of its tables is saved or deleted."""
        for label in self.models:
            model = apps.get_model(label)
            for signal in (post_save, post_delete):
                signal.connect(self.forget, sender=model, dispatch_uid=f"{self.key}-{label}")
