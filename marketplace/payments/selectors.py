"""Reads for the checkout's pages, each with a query budget in the tests
(tests/marketplace/test_checkout_queries.py)."""

from django.db.models import Exists, OuterRef, prefetch_related_objects
from oscar.core.loading import get_model

from marketplace.core.numbers import parse_id
from marketplace.core.prepared import PreparedQuery, as_prefetched, id_stand_in
from marketplace.payments.basket_middleware import prefetch_images


def _read_with(instances, name: str, has) -> None:
    """Prefetch the relation `name` of those `instances` for which `has(instance)`; the
    others get it empty without a query."""
    prefetch_related_objects([instance for instance in instances if has(instance)], name)
    for instance in instances:
        if not has(instance):
            as_prefetched(instance, name, [])


def _orders():
    from marketplace.payments.models import Refund

    Order = get_model("order", "Order")
    OrderDiscount = get_model("order", "OrderDiscount")
    Surcharge = get_model("order", "Surcharge")
    return (
        Order._default_manager.select_related(
            "user", "shipping_address__country", "billing_address__country"
        )
    ).annotate(
        has_discounts=Exists(OrderDiscount.objects.filter(order_id=OuterRef("pk"))),
        has_surcharges=Exists(Surcharge.objects.filter(order_id=OuterRef("pk"))),
        has_refunds=Exists(Refund.objects.filter(order_id=OuterRef("pk"))),
    )


def _lines(order_id):
    Line = get_model("order", "Line")
    LineAttribute = get_model("order", "LineAttribute")
    return (
        Line.objects.filter(order_id=order_id)
        .select_related("product")
        .annotate(has_options=Exists(LineAttribute.objects.filter(line_id=OuterRef("pk"))))
    )


def _sources(order_id):
    return (
        get_model("payment", "Source")
        .objects.filter(order_id=order_id)
        .select_related("source_type")
    )


def _parcels(order_id):
    from marketplace.models import Parcel

    return Parcel.objects.filter(order_id=order_id).select_related("partner").order_by("pk")


# The thank-you page's reads, each compiled once a database connection
# (marketplace.core.prepared): the ORM's compiling of them cost more than running them.
_ORDER = PreparedQuery(lambda pk: _orders().filter(pk=pk), stand_in=id_stand_in)
_LINES = PreparedQuery(_lines, stand_in=id_stand_in)
_SOURCES = PreparedQuery(_sources, stand_in=id_stand_in)
_PARCELS = PreparedQuery(_parcels, stand_in=id_stand_in)


def placed_order(**filters):
    """The order of `filters` the thank-you page shows, or None (Oscar's ``first()``),
    read with what the page shows of it: its buyer and addresses (with their country),
    its lines with their products and pictures, its payment sources with their method,
    its parcels with their producer (``parcels_of``); its lines' options, discounts and
    surcharges only when it has some (eight queries at most, five for an order without
    any), and whether it has refunds (``has_refunds``: marketplace.templatetags.order_tags
    reads them only then). By its key alone (the order just placed), each query is
    prepared (compiled once a connection)."""
    pk = parse_id(filters["pk"]) if set(filters) == {"pk"} else None
    if pk is not None:
        found = _ORDER(pk)
        order = found[0] if found else None
    else:
        order = _orders().filter(**filters).first()
    if order is None:
        return None
    lines = sorted(_LINES(order.pk), key=lambda line: line.pk)  # Oscar's order: by key
    as_prefetched(order, "lines", lines)
    prefetch_images(line.product for line in lines if line.product_id)
    as_prefetched(order, "sources", _SOURCES(order.pk))
    as_prefetched(order, "parcels", _PARCELS(order.pk))
    _read_with(lines, "attributes", lambda line: line.has_options)
    _read_with([order], "discounts", lambda order: order.has_discounts)
    _read_with([order], "surcharges", lambda order: order.has_surcharges)
    return order


def parcels_of(order) -> list:
    """The order's parcels with their producer, in the order of their keys: those
    ``placed_order`` read with it, else one query."""
    cached = getattr(order, "_prefetched_objects_cache", {}).get("parcels")
    if cached is not None:
        return list(cached)
    return list(_parcels(order.pk))


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
