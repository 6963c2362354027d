"""`{% order_progress order as progress %}`: what the buyer needs to know about an order
after placing it: the payment state (paid, refunded, partly refunded), the refunds, each
parcel (producer, status, tracking number, why it was cancelled or not delivered) and,
while a bank transfer is awaited, the VietQR code; with what the buyer may still cancel
(marketplace.fulfilment.cancellations: a parcel until it is packed) and where to post it.
Three queries (sources, parcels, refunds; none for an order read with its sources and
parcels, knowing whether it has refunds: marketplace.payments.selectors.placed_order)."""

from django import template
from django.urls import reverse

from marketplace.fulfilment.cancellations import cancel_refusal, order_cancel_refusal
from marketplace.models import Parcel, Refund
from marketplace.payments.selectors import parcels_of
from marketplace.payments.state import payment_state

register = template.Library()


def cancel_url(order) -> str:
    if order.user_id:
        return reverse("fulfilment:buyer-cancel", kwargs={"number": order.number})
    return reverse(
        "fulfilment:guest-cancel",
        kwargs={"number": order.number, "hash": order.verification_hash()},
    )


@register.simple_tag
def order_progress(order):
    from marketplace.payments.checkout import vietqr_for

    state = payment_state(order)
    parcels = parcels_of(order)  # read with the order by payments.selectors.placed_order
    for parcel in parcels:
        parcel.buyer_may_cancel = cancel_refusal(parcel, Parcel.Role.BUYER) is None
    refunds = (
        list(Refund.objects.filter(order=order).order_by("created", "pk"))
        if getattr(order, "has_refunds", True)  # known when read by payments.selectors
        else []
    )
    pending = sum(
        (refund.amount for refund in refunds if refund.status == Refund.Status.PENDING), 0
    )
    return {
        "payment": state,
        "parcels": parcels,
        "refunds": refunds,
        "refund_pending": pending,
        "vietqr": vietqr_for(order) if state.code in ("awaiting_transfer", "partly_paid") else None,
        "may_cancel_order": len(parcels) > 1
        and order_cancel_refusal(parcels, Parcel.Role.BUYER) is None,
        "may_cancel": any(parcel.buyer_may_cancel for parcel in parcels),
        "cancel_url": cancel_url(order),
    }


@register.simple_tag
def order_invoice(order):
    """`{% order_invoice order as invoice %}`: the VAT invoice details a business buyer's
    order carries (marketplace.wholesale), or None; one query."""
    from marketplace.wholesale.selectors import invoice_of

    return invoice_of(order)


@register.simple_tag
def buyer_cancel_form():
    from marketplace.fulfilment.forms import BuyerCancelForm

    return BuyerCancelForm()


@register.filter
def event_label(event_type):
    """A stored payment event type in the reader's language (marketplace.payments.labels)."""
    from marketplace.payments.labels import event_label as label

    return label(event_type)


@register.filter
def method_label(source_type):
    """A stored payment method (source type) in the reader's language."""
    from marketplace.payments.labels import method_label as label

    return label(source_type)
