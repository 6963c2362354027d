"""Oscar's offer applicator, without its two queries a request (the site's offers, the
basket's vouchers) while the marketplace has no site offer and no voucher at all, which is
its usual state. It replaces Oscar's everywhere Oscar loads it (the basket middleware, the
basket page's offer hints, the message after adding to the basket: marketplace.core.loading).
Which offers apply, and how, stays Oscar's.

Whether any exist is kept in the cache until an offer or a voucher is saved or deleted
(marketplace.core.cached). A stale "none" can only delay a new offer, never apply a removed
one: as soon as one exists, Oscar's queries run."""

from oscar.apps.offer import applicator as oscar_applicator
from oscar.core.loading import get_model

from marketplace.core.cached import CachedUntilChanged


def _read() -> tuple[bool, bool]:
    ConditionalOffer = get_model("offer", "ConditionalOffer")
    Voucher = get_model("voucher", "Voucher")
    return (
        ConditionalOffer.objects.filter(offer_type=ConditionalOffer.SITE).exists(),
        Voucher.objects.exists(),
    )


_EXIST = CachedUntilChanged(
    "nongsan:offers-exist", _read, models=("offer.ConditionalOffer", "voucher.Voucher")
)


def offers_exist() -> tuple[bool, bool]:
    """(a site offer exists, a voucher exists), from the cache when it knows."""
    return _EXIST.get()


class Applicator(oscar_applicator.Applicator):
    def get_offers(self, basket, user=None, request=None):
        site, vouchers = offers_exist()
        if not site and not vouchers:
            return []
        return super().get_offers(basket, user, request)


def applicator() -> Applicator:
    return Applicator()


def install():
    """Forget whether offers exist whenever one (or a voucher) changes."""
    _EXIST.install()
