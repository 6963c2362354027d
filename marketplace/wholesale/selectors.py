"""Reads of the wholesale domain, each with a query budget in its tests."""

from marketplace.models import BusinessBuyer, OrderInvoice, PriceBreak


def pending_businesses():
    """Business buyers waiting for the operator, oldest first, with their user (one query)."""
    return BusinessBuyer.objects.filter(status=BusinessBuyer.Status.PENDING).select_related("user")


def pending_count() -> int:
    return BusinessBuyer.objects.filter(status=BusinessBuyer.Status.PENDING).count()


def business_of(user):
    return BusinessBuyer.objects.filter(user_id=user.pk).first()


def product_breaks(product):
    return list(PriceBreak.objects.filter(product=product).order_by("min_quantity"))


def invoice_of(order):
    """The order's VAT invoice details, or None (one query)."""
    return OrderInvoice.objects.filter(order_id=order.pk).first()
