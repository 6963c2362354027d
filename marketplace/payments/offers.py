"""Oscar's offer applicator for the basket middleware, without its two queries a request
(the site's offers, the basket's vouchers) while the marketplace has no site offer and no
voucher at all, which is its usual state. Which offers apply, and how, stays Oscar's.

Whether any exist is kept in the cache (shared by the workers where REDIS_URL is set) and
forgotten whenever an offer or a voucher is saved or deleted; with the in-process cache of
development another worker notices within KEEP seconds. A stale "none" can only delay a
new offer, never apply a removed one: as soon as one exists, Oscar's queries run."""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from oscar.apps.offer.applicator import Applicator
from oscar.core.loading import get_model

KEY = "nongsan:offers-exist"
KEEP = 300  # seconds


def offers_exist() -> tuple[bool, bool]:
    """(a site offer exists, a voucher exists), from the cache when it knows."""
    known = cache.get(KEY)
    if known is None:
        ConditionalOffer = get_model("offer", "ConditionalOffer")
        Voucher = get_model("voucher", "Voucher")
        known = (
            ConditionalOffer.objects.filter(offer_type=ConditionalOffer.SITE).exists(),
            Voucher.objects.exists(),
        )
        cache.set(KEY, known, KEEP)
    return known


def forget(**kwargs):
    cache.delete(KEY)


class QuietApplicator(Applicator):
    def get_offers(self, basket, user=None, request=None):
        site, vouchers = offers_exist()
        if not site and not vouchers:
            return []
        return super().get_offers(basket, user, request)


def applicator() -> Applicator:
    return QuietApplicator()


def install():
    """Forget whether offers exist whenever one (or a voucher) changes."""
    for model in (get_model("offer", "ConditionalOffer"), get_model("voucher", "Voucher")):
        for signal in (post_save, post_delete):
            signal.connect(forget, sender=model, dispatch_uid=f"offers-exist-{model.__name__}")
