"""Oscar's basket middleware (in settings.MIDDLEWARE instead of Oscar's own), loading a
basket's lines once a request with everything the checkout reads from each line: its
product, the product's class (shipping required, stock tracked), its stock record and
producer (partner and profile: the parcels of the delivery quote), options and images.
Oscar would count the lines first, then read the lines, then each product's class in a
query of its own, on every page.

Two more queries a request are left out when they cannot find anything:
- a line's options are read only for lines added with options (Oscar's line reference of
  such a line carries a checksum of them after "<product>_<stockrecord>");
- offers are looked for only while the marketplace has a site offer or a voucher at all
  (`marketplace.payments.offers.applicator`); Oscar's own rules decide which apply."""

from django.db.models import prefetch_related_objects
from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware

from marketplace.payments.offers import applicator


def _has_options(line):
    return line.line_reference != f"{line.product_id}_{line.stockrecord_id}"


def _no_attributes(line):
    """What prefetching a line's options would leave when it has none: an empty, read
    queryset in the line's prefetch cache (Django's own shape), so no query."""
    attributes = line.attributes.get_queryset()
    attributes._result_cache = []
    attributes._prefetch_done = True
    if not hasattr(line, "_prefetched_objects_cache"):
        line._prefetched_objects_cache = {}
    line._prefetched_objects_cache["attributes"] = attributes


class BasketMiddleware(OscarBasketMiddleware):
    def get_basket(self, request):
        basket = super().get_basket(request)
        if basket.id and basket._lines is None:
            basket._lines = (
                basket.lines.select_related(
                    "product__product_class", "stockrecord__partner__producer_profile"
                )
                .prefetch_related("product__images")
                .order_by("pk")
            )
            lines = list(basket._lines)  # read now: Oscar's num_lines then counts them
            with_options = [line for line in lines if _has_options(line)]
            prefetch_related_objects(with_options, "attributes")
            for line in lines:
                if not _has_options(line):
                    _no_attributes(line)
        return basket

    def apply_offers_to_basket(self, request, basket):
        if not basket.is_empty:
            applicator().apply(basket, request.user, request)
