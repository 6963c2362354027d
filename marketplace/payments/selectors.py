"""Reads for the checkout's pages, each with a query budget in the tests
(tests/marketplace/test_checkout_queries.py)."""

from django.db.models import Prefetch
from oscar.core.loading import get_model


def placed_order(**filters):
    """The order of `filters` the thank-you page shows, or None (Oscar's ``first()``),
    read with what the page shows of it: its buyer and addresses (with their country),
    its lines with their products, pictures and options, its payment sources with their
    method, its discounts and surcharges. Seven queries."""
    Order = get_model("order", "Order")
    Line = get_model("order", "Line")
    Source = get_model("payment", "Source")
    return (
        Order._default_manager.filter(**filters)
        .select_related("user", "shipping_address__country", "billing_address__country")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=Line.objects.select_related("product").prefetch_related(
                    "product__images", "attributes"
                ),
            ),
            Prefetch("sources", queryset=Source.objects.select_related("source_type")),
            "discounts",
            "surcharges",
        )
        .first()
    )


def order_discounts(order) -> dict:
    """The order's discounts by kind, as Oscar's ``basket_discounts``,
    ``shipping_discounts`` and ``post_order_actions`` give them (each a query of its own),
    from the discounts `placed_order` read with it: no query."""
    discounts = list(order.discounts.all())
    return {
        kind: [discount for discount in discounts if discount.category == category]
        for kind, category in (
            ("basket", "Basket"),
            ("shipping", "Shipping"),
            ("deferred", "Deferred"),
        )
    }
