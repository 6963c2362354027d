"""Oscar's basket middleware (in settings.MIDDLEWARE instead of Oscar's own), loading a
basket's lines once a request with everything the checkout reads from each line: its
product, the product's class (shipping required, stock tracked), its stock record and
producer, options and images. Oscar would count the lines first, then read the lines,
then each product's class in a query of its own, on every page."""

from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware


class BasketMiddleware(OscarBasketMiddleware):
    def get_basket(self, request):
        basket = super().get_basket(request)
        if basket.id and basket._lines is None:
            basket._lines = (
                basket.lines.select_related("product__product_class", "stockrecord__partner")
                .prefetch_related("attributes", "product__images")
                .order_by("pk")
            )
            len(basket._lines)  # read now: Oscar's num_lines then counts them without a query
        return basket
