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


class CachedPerRow:
    """Values read per row of a table (a product's photos, its weight) that many requests
    need and their owner rarely changes: each kept in Django's cache under `prefix`:<key>
    with the version of the row it was read for (a product's date_updated: saving the
    product makes every value kept for it stale), the missing or stale ones read together
    by `read_many(keys)` (a value for every key asked). A key is also forgotten when a row
    of `models` naming it is saved or deleted (`models` maps a model label to the key of
    one of its rows, e.g. its product_id), again once the transaction that changed it
    commits (a read of the old row may have put it back in between)."""

    def __init__(self, prefix: str, read_many: Callable, *, models: dict, keep: int = 300):
        self.prefix, self.read_many, self.models, self.keep = prefix, read_many, models, keep

    def _key(self, key) -> str:
        return f"{self.prefix}:{key}"

    def get_many(self, versions: dict) -> dict:
        """{key: value} for each key of `versions` ({key: version of its row})."""
        names = {key: self._key(key) for key in versions}
        cached = cache.get_many(list(names.values()))
        found, missing = {}, []
        for key, version in versions.items():
            kept = cached.get(names[key])
            if kept is not None and kept[0] == version:
                found[key] = kept[1]
            else:
                missing.append(key)
        if missing:
            read = self.read_many(missing)
            cache.set_many({names[key]: (versions[key], read[key]) for key in missing}, self.keep)
            found.update(read)
        return found

    def forget(self, key) -> None:
        from django.db import transaction

        cache.delete(self._key(key))
        transaction.on_commit(lambda: cache.delete(self._key(key)))

    def install(self):
        for label, key_of in self.models.items():
            model = apps.get_model(label)

            def forget(sender, instance, key_of=key_of, **kwargs):
                self.forget(key_of(instance))

            for signal in (post_save, post_delete):
                signal.connect(
                    forget, sender=model, weak=False, dispatch_uid=f"{self.prefix}-{label}"
                )
