"""Reads for the checkout's pages, each with a query budget in the tests
(tests/marketplace/test_checkout_queries.py)."""

from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from oscar.core.loading import get_model


def _read_with(instances, name: str, has) -> None:
    """Prefetch the relation `name` of those `instances` for which `has(instance)`; the
    others get it empty without a query (Django's own shape of a prefetched relation: an
    empty, evaluated queryset in the instance's prefetch cache)."""
    prefetch_related_objects([instance for instance in instances if has(instance)], name)
    for instance in instances:
        if not has(instance):
            related = getattr(instance, name).get_queryset()
            related._result_cache = []
            related._prefetch_done = True
            if not hasattr(instance, "_prefetched_objects_cache"):
                instance._prefetched_objects_cache = {}
            instance._prefetched_objects_cache[name] = related


def placed_order(**filters):
    """The order of `filters` the thank-you page shows, or None (Oscar's ``first()``),
    read with what the page shows of it: its buyer and addresses (with their country),
    its lines with their products and pictures, its payment sources with their method;
    its lines' options, discounts and surcharges only when it has some (seven queries at
    most, four for an order without any), and whether it has refunds (``has_refunds``:
    marketplace.templatetags.order_tags reads them only then)."""
    from marketplace.payments.models import Refund

    Order = get_model("order", "Order")
    Line = get_model("order", "Line")
    LineAttribute = get_model("order", "LineAttribute")
    OrderDiscount = get_model("order", "OrderDiscount")
    Source = get_model("payment", "Source")
    Surcharge = get_model("order", "Surcharge")
    order = (
        Order._default_manager.filter(**filters)
        .select_related("user", "shipping_address__country", "billing_address__country")
        .annotate(
            has_discounts=Exists(OrderDiscount.objects.filter(order_id=OuterRef("pk"))),
            has_surcharges=Exists(Surcharge.objects.filter(order_id=OuterRef("pk"))),
            has_refunds=Exists(Refund.objects.filter(order_id=OuterRef("pk"))),
        )
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=Line.objects.select_related("product")
                .prefetch_related("product__images")
                .annotate(has_options=Exists(LineAttribute.objects.filter(line_id=OuterRef("pk")))),
            ),
            Prefetch("sources", queryset=Source.objects.select_related("source_type")),
        )
        .first()
    )
    if order is not None:
        _read_with(list(order.lines.all()), "attributes", lambda line: line.has_options)
        _read_with([order], "discounts", lambda order: order.has_discounts)
        _read_with([order], "surcharges", lambda order: order.has_surcharges)
    return order


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
